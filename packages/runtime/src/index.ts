export * from './clock.js';
export * from './backoff.js';
export * from './workqueue.js';
export * from './informer.js';
export * from './metrics.js';
export * from './logger.js';
export * from './health.js';
export * from './rate-limiter.js';
