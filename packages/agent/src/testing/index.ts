export * from './fake-dataplane.js';
export * from './fake-kube.js';
export * from './fake-conntrack.js';
