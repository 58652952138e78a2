export * from './objects.js';
export * from './emulator.js';
export * from './states.js';
