export { startCluster, stopCluster, clusterStatus, attachCluster } from './cluster.js';
export type { Cluster, ClusterNode, ClusterStatus, StartOptions } from './cluster.js';
export { ClusterError, CLUSTER_ERROR_CODES } from './errors.js';
export type { ClusterErrorCode } from './errors.js';
export { clusterLayout, MAX_NODES } from './layout.js';
export type { ClusterLayout, NodeLayout } from './layout.js';
export type { NodeProcessSpec } from './standin/config.js';
export type { ContainerRuntime, PodSandbox } from './standin/runtime.js';
