export * from './jest-cluster.js';
