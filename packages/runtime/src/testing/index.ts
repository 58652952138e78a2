export * from './fake-list-watch.js';
export * from './fake-lease.js';
export * from './manager-harness.js';
export * from './log-capture.js';
