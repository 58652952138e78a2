/**
 * Coded errors of the local cluster. The codes follow @npl/core's registry style (stable, never
 * reused); this package does not depend on @npl/core, so they live here: `bin/cluster` runs these
 * sources without a build, and @npl/core/coded-error would need core's dist/.
 */
export const CLUSTER_ERROR_CODES = {
  NPL_CLUSTER_NAME_INVALID: 'a cluster name is not 1-12 lowercase letters or digits starting with a letter',
  NPL_CLUSTER_NODES_INVALID: 'a node count is not an integer between 1 and 8',
  NPL_CLUSTER_NO_SLOT: 'every address/port slot for local clusters is taken',
  NPL_CLUSTER_BINARIES: 'the control plane binaries could not be built or found',
  NPL_CLUSTER_COMMAND_FAILED: 'a command run for the cluster failed',
  NPL_CLUSTER_START_TIMEOUT: 'a cluster component did not become ready in time',
  NPL_CLUSTER_NOT_FOUND: 'no state exists for the named cluster',
  NPL_CLUSTER_PROCESS_EXITED: 'a cluster daemon exited while the cluster was starting',
  NPL_CLUSTER_NOT_ROOT: 'the local cluster needs root (network namespaces)',
  NPL_CLUSTER_START_FAILED: 'setting up an identity or manifest for a node process failed',
  NPL_CLUSTER_AGENT_NOT_BUILT: 'cluster up --agent needs the built npl-agent (pnpm build)',
  NPL_CLUSTER_ADDRESS_INVALID: 'a node address given to the cluster is malformed or outside the allowed ranges',
  NPL_CLUSTER_NOT_RUNNING: 'a cluster daemon an operation needs (e.g. the node stand-in) is not running',
  NPL_CLUSTER_IP_FAMILY_INVALID: 'an ip family is not ipv4, ipv6 or dual',
  NPL_CLUSTER_CONTROLLER_NOT_BUILT: 'cluster up --controller needs the built npl-controller and BIG-IP emulator (pnpm build)',
  NPL_CLUSTER_CONTROLLER_INVALID: 'a controller option (replicas, replica index) is out of range or unsupported by the build',
} as const;

export type ClusterErrorCode = keyof typeof CLUSTER_ERROR_CODES;

/** The error thrown by this package: `code` is stable, `message` is for people, `cause` chains. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
