export * from './api-status.js';
export * from './jest-cluster.js';
