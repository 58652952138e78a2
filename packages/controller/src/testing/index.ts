export * from './objects.js';
export * from './emulator.js';
export * from './states.js';
export * from './fake-backend.js';
export * from './failures.js';
