export * from './fake-dataplane.js';
