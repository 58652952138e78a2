export * from './clock.js';
export * from './backoff.js';
export * from './workqueue.js';
export * from './informer.js';
