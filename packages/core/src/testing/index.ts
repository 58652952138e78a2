export * from './fakes.js';
export * from './npl-harness.js';
