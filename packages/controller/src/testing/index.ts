export * from './objects.js';
export * from './emulator.js';
