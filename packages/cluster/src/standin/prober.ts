import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { ProbeTarget } from './podnet-client.js';

/**
 * A container's readiness probe in the form the stand-in runs it. Only `httpGet` and `tcpSocket`
 * are probed; `exec` and `grpc` probes have no process to run in and count as passing.
 */
export interface ReadinessProbe {
  readonly kind: 'tcp' | 'http';
  readonly port: number;
  readonly path?: string;
  /** Host to probe instead of the pod IP (httpGet.host). */
  readonly host?: string;
  readonly initialDelayMs: number;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** The API server's defaults for a probe (pods read back from it already carry them). */
const DEFAULTS = { periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3, initialDelaySeconds: 0 };

/**
 * The port a probe names: a number, a numeric string, or the name of one of the container's ports.
 * Throws naming the pod, container and field when the name matches no port.
 */
export function resolveProbePort(pod: V1Pod, c: V1Container, port: number | string, field: string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const named = (c.ports ?? []).find((p) => p.name === port);
  if (!named) {
    throw new Error(`pod ${pod.metadata?.namespace}/${pod.metadata?.name} container ${c.name}: ${field} names port "${port}", which the container does not declare`);
  }
  return named.containerPort;
}

function probeTiming(p: V1Probe): Omit<ReadinessProbe, 'kind' | 'port' | 'path' | 'host'> {
  return {
    initialDelayMs: 1000 * (p.initialDelaySeconds ?? DEFAULTS.initialDelaySeconds),
    periodMs: 1000 * Math.max(1, p.periodSeconds ?? DEFAULTS.periodSeconds),
    timeoutMs: 1000 * Math.max(1, p.timeoutSeconds ?? DEFAULTS.timeoutSeconds),
    successThreshold: Math.max(1, p.successThreshold ?? DEFAULTS.successThreshold),
    failureThreshold: Math.max(1, p.failureThreshold ?? DEFAULTS.failureThreshold),
  };
}

/** The container's readiness probe if it has an httpGet or tcpSocket one; undefined otherwise. */
export function readinessProbeOf(pod: V1Pod, c: V1Container): ReadinessProbe | undefined {
  const p = c.readinessProbe;
  if (!p || (!p.httpGet && !p.tcpSocket)) return undefined;
  const timing = probeTiming(p);
  if (p.httpGet) {
    const port = resolveProbePort(pod, c, p.httpGet.port, 'readinessProbe.httpGet.port');
    return { kind: 'http', port, path: p.httpGet.path ?? '/', ...(p.httpGet.host ? { host: p.httpGet.host } : {}), ...timing };
  }
  const port = resolveProbePort(pod, c, p.tcpSocket!.port, 'readinessProbe.tcpSocket.port');
  return { kind: 'tcp', port, ...(p.tcpSocket!.host ? { host: p.tcpSocket!.host } : {}), ...timing };
}

/** What podnet is asked to probe for `probe` of a pod at `podIP`. */
export function probeTarget(probe: ReadinessProbe, podIP: string): ProbeTarget {
  const host = probe.host ?? podIP;
  const hostPort = host.includes(':') ? `[${host}]:${probe.port}` : `${host}:${probe.port}`;
  return { target: hostPort, kind: probe.kind, ...(probe.path ? { path: probe.path } : {}), timeoutMs: probe.timeoutMs };
}

/**
 * kubelet's readiness result for one container (pkg/kubelet/prober/worker.go): not ready until
 * the probe succeeded `successThreshold` times in a row; then ready until it failed
 * `failureThreshold` times in a row. A result below its threshold leaves the state unchanged.
 */
export class ReadinessState {
  private isReady = false;
  private last: boolean | undefined;
  private run = 0;
  private readonly successThreshold: number;
  private readonly failureThreshold: number;

  constructor(successThreshold: number, failureThreshold: number) {
    this.successThreshold = successThreshold;
    this.failureThreshold = failureThreshold;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Records one probe result; true when the readiness changed. */
  record(success: boolean): boolean {
    if (this.last === success) this.run++;
    else {
      this.last = success;
      this.run = 1;
    }
    if (this.run < (success ? this.successThreshold : this.failureThreshold)) return false;
    if (this.isReady === success) return false;
    this.isReady = success;
    return true;
  }
}

/** Runs one probe; resolves true on success. Never rejects. */
export type ProbeRunner = (target: ProbeTarget) => Promise<boolean>;

interface ContainerProbe {
  readonly name: string;
  readonly probe: ReadinessProbe;
  readonly state: ReadinessState;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The readiness probes of one running pod: each probed container is probed every period after
 * its initial delay; containers without an httpGet/tcpSocket probe are ready once started.
 * `onChange` is called after a container's readiness changed. `stop` is idempotent.
 */
export class PodReadiness {
  private readonly probes: ContainerProbe[];
  private stopped = false;
  private changedAt: Date;
  private readonly podIP: string;
  private readonly run: ProbeRunner;
  private readonly onChange: () => void;

  constructor(pod: V1Pod, podIP: string, startedAt: Date, run: ProbeRunner, onChange: () => void) {
    this.podIP = podIP;
    this.run = run;
    this.onChange = onChange;
    this.changedAt = startedAt;
    this.probes = (pod.spec?.containers ?? []).flatMap((c) => {
      const probe = readinessProbeOf(pod, c);
      return probe ? [{ name: c.name, probe, state: new ReadinessState(probe.successThreshold, probe.failureThreshold), timer: undefined }] : [];
    });
    const sinceStart = Date.now() - startedAt.getTime();
    for (const p of this.probes) this.schedule(p, Math.max(0, p.probe.initialDelayMs - sinceStart));
  }

  /** Whether container `name` is ready now. */
  ready(name: string): boolean {
    const p = this.probes.find((x) => x.name === name);
    return p ? p.state.ready : true;
  }

  /** When a container's readiness last changed (the pod's start before any change). */
  lastChange(): Date {
    return this.changedAt;
  }

  stop(): void {
    this.stopped = true;
    for (const p of this.probes) clearTimeout(p.timer);
  }

  private schedule(p: ContainerProbe, delayMs: number): void {
    if (this.stopped) return;
    p.timer = setTimeout(() => void this.probeOnce(p), delayMs);
  }

  private async probeOnce(p: ContainerProbe): Promise<void> {
    const ok = await this.run(probeTarget(p.probe, this.podIP));
    if (this.stopped) return;
    if (p.state.record(ok)) {
      this.changedAt = new Date();
      this.onChange();
    }
    this.schedule(p, p.probe.periodMs);
  }
}
