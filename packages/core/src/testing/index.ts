export * from './fakes.js';
export * from './npl-harness.js';
export * from './error-of.js';
