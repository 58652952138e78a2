/** The stand-in's configuration file, written by `cluster up` (JSON). */
export interface StandinConfig {
  readonly cluster: string;
  readonly dir: string;
  /** Path of the podnet helper binary. */
  readonly podnet: string;
  /** Prefix of pod network namespace names (all of this cluster's nodes). */
  readonly podNetnsPrefix: string;
  readonly kubeletVersion: string;
  readonly nodes: readonly StandinNode[];
  /** Per-node processes run inside each node's namespace (e.g. the npl-agent); restarted on exit. */
  readonly nodeProcesses: readonly NodeProcessSpec[];
}

export interface StandinNode {
  readonly name: string;
  /** Primary InternalIP (= ips[0]). */
  readonly ip: string;
  /** InternalIPs, primary family first; pods get one address per family, in this order. */
  readonly ips: readonly string[];
  readonly netns: string;
  /** Primary podCIDR (= podCIDRs[0]). */
  readonly podCIDR: string;
  /** spec.podCIDRs, in the order of `ips`. */
  readonly podCIDRs: readonly string[];
  /** kubeconfig with the node's own identity (system:node:<name> in system:nodes). */
  readonly kubeconfig: string;
}

export interface NodeProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Extra environment; NODE_NAME, NODE_IP and KUBECONFIG are always set. */
  readonly env?: Record<string, string>;
  /**
   * Run as this ServiceAccount instead of the node's identity: `cluster up` applies `manifests`
   * (YAML files, e.g. the ServiceAccount and its RBAC), requests a token with TokenRequest and
   * points KUBECONFIG at a kubeconfig holding it.
   */
  readonly serviceAccount?: ServiceAccountIdentity;
  /** Set by `cluster up` for a serviceAccount process: the kubeconfig with its token. */
  readonly kubeconfig?: string;
}

export interface ServiceAccountIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly manifests?: readonly string[];
}
