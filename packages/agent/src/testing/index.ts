export * from './fake-dataplane.js';
export * from './fake-kube.js';
