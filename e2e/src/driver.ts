/**
 * What a scenario may ask of a cluster, whatever runs it: the local cluster (agents as processes in
 * node namespaces) or kind (Docker containers as nodes, a real CNI, `helm install` of charts/npl).
 * A driver declares the capabilities it has; a scenario declares those it needs, and the suite
 * registers a scenario only with a driver that has them all (never a skip: under CI a skip is a
 * failure, and a scenario a driver cannot run is simply not part of that driver's suite).
 */
import type { KubeConfig, V1Container, V1Volume } from '@kubernetes/client-node';

/** Optional abilities; everything else on `Driver` every driver has. */
export type Capability =
  /** `restartNode`: the node's machine restarts (kind: `docker restart` of its container). */
  | 'nodeRestart'
  /** `serviceAccountKubeConfig` of the controller too (the agent's is always there). */
  | 'controllerServiceAccount'
  /** The agents run from the chart's images (DaemonSet pods), so chart behaviour is real. */
  | 'chart';

/** A node test pods may run on, and the address the annotation carries (InternalIP). */
export interface NodeInfo {
  readonly name: string;
  readonly ip: string;
}

/** Agent settings, each a chart value (`agent.<key>`) and an NPL_* variable of the agent. */
export interface AgentValues {
  /** `agent.portRange`, NPL_PORT_RANGE: "start-end". */
  readonly portRange?: string;
  /** `agent.logLevel`, NPL_LOG_LEVEL. */
  readonly logLevel?: string;
  /** `agent.verifyPeriod`, NPL_VERIFY_PERIOD. */
  readonly verifyPeriod?: string;
}

/** Where a request starts: outside the cluster, on a node (host network), or inside a pod. */
export type Origin =
  | { readonly kind: 'outside' }
  | { readonly kind: 'node'; readonly node: NodeInfo }
  | { readonly kind: 'pod'; readonly namespace: string; readonly pod: string };

export type Protocol = 'tcp' | 'udp';

/** One port the test server listens on. */
export interface ServerPort {
  readonly containerPort: number;
  readonly protocol?: 'TCP' | 'UDP';
  readonly name?: string;
  readonly hostPort?: number;
}

/** The container and volumes that make a pod answer on its ports with its own name. */
export interface ServerPodParts {
  readonly container: V1Container;
  readonly volumes: V1Volume[];
}

/** The names of what the agent installation created, for checks (tables, chains, ServiceAccounts). */
export interface AgentLayout {
  /** nftables table of the agent, in families ip and ip6. */
  readonly nftTable: string;
  /** iptables nat chain of the iptables dataplane. */
  readonly iptablesChain: string;
}

export interface Driver {
  /** `local`, `kind-flannel`, …: names the suite and the log directory. */
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  /** Why this driver cannot run here (e.g. not root, no Docker), or undefined. */
  readonly skipReason: string | undefined;
  readonly layout: AgentLayout;
  /** Durations (ms) of the driver's own set-up steps (image builds, cluster creation, CNI), if it times them. */
  readonly phases?: Readonly<Record<string, number>>;

  /** Creates the cluster and waits until its nodes are Ready; prepares `namespace` for test pods. */
  up(namespace: string): Promise<void>;
  /** Installs the agent on every node with `values`; resolves once every agent is ready. */
  install(values?: AgentValues): Promise<void>;
  /**
   * Changes the agent's values as an upgrade does: one node after the other (kind: `helm upgrade`,
   * the DaemonSet's rolling update); resolves once every agent runs the new values and is ready.
   */
  upgrade(values: AgentValues): Promise<void>;
  /** Restarts every agent with its current values; resolves once all are ready again. */
  restartAgents(): Promise<void>;
  /** Removes the agent as a user does (kind: `helm uninstall`, with its pre-delete hook). */
  uninstall(): Promise<void>;
  /** Admin access to the API server. */
  kubeConfig(): KubeConfig;
  /** The nodes test pods run on (at least two). */
  nodes(): readonly NodeInfo[];
  /** Every node of the cluster, control plane included (where an agent runs). */
  allNodes(): readonly NodeInfo[];
  /** Container (and volumes) of a test server pod answering on `ports` with its name. */
  serverPod(ports: readonly ServerPort[]): ServerPodParts;
  /** Runs `cmd` on the node, in its root network namespace; resolves with stdout, rejects on failure. */
  execOnNode(node: NodeInfo, cmd: readonly string[]): Promise<string>;
  /** One request to ip:port: the answer (a pod name and newline), or '' when none came in 3 s. */
  request(from: Origin, ip: string, port: number, protocol: Protocol): Promise<string>;
  /** A client configuration holding a TokenRequest token of the component's ServiceAccount. */
  serviceAccountKubeConfig(component: 'agent' | 'controller'): Promise<KubeConfig>;
  /** Restarts the node's machine (capability `nodeRestart`); resolves once the node is Ready again. */
  restartNode(node: NodeInfo): Promise<void>;
  /** Copies logs of the cluster and the agents into `dir` (on failure). */
  collectLogs(dir: string): Promise<void>;
  /** Deletes the cluster; idempotent. */
  down(): Promise<void>;
}
