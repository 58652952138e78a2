/**
 * One demo run: start the local cluster with npl-agent on each node, the BIG-IP emulator and
 * npl-controller; deploy the sample app; feed the pods, the BIG-IP and the requests into the state;
 * show it; scale on request; tear everything down exactly once, whatever ends the run (q, Ctrl-C,
 * SIGINT, SIGTERM, `--for` expiry, an error).
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { agentNodeProcess, clusterStatus, startCluster, stopCluster, type Cluster } from '@npl/cluster';
import { pino, type Logger } from 'pino';
import { httpsBigipReader, type BigipReader } from './bigip.js';
import type { Display } from './display.js';
import { DemoError } from './errors.js';
import { kubeAppCluster, type AppCluster, type AppSpec } from './kube.js';
import { initialState, isComplete, observeScales, podView, recordRequest, withBigip, withBigipError, withDeployment, withoutPod, withPod, withScale, type DemoState } from './model.js';
import { MAX_REPLICAS, type DemoOptions } from './options.js';
import { renderSnapshot, scaleText, type RenderContext } from './render.js';
import { startTrafficLoop, type TrafficLoop } from './traffic.js';

const APP = 'web';
const NAMESPACE = 'default';
const PORT = 80;
const VS_PORT = 8080;
const BIGIP_POLL_MS = 250;
const TICK_MS = 100;

export interface DemoIO {
  /** Progress and the final summary (plain text). */
  readonly out: Writable;
  /** Makes the display once the app is deployed (live or plain). */
  makeDisplay(): Display;
  /** Milliseconds, monotonic. */
  now(): number;
  /** Directory for the demo's own log and, at teardown, a copy of the cluster's logs. */
  readonly logsDir: string;
}

/** How a run ended: a reason for the summary and the exit code. */
export interface Ending {
  readonly reason: string;
  readonly code: number;
}

/** Refuses to run over a live cluster of the same name (its owner would lose it). */
export async function refuseIfRunning(name: string): Promise<void> {
  const s = await clusterStatus(name);
  if (s && Object.values(s.processes).some((p) => p.alive)) {
    throw new DemoError(
      'NPL_DEMO_ALREADY_RUNNING',
      `a cluster named ${name} already runs (${s.dir}); stop it first with \`packages/cluster/bin/cluster down --name ${name}\`, or pick another name with --name`,
    );
  }
}

export class DemoRun {
  private state: DemoState = initialState(APP, NAMESPACE, '', PORT);
  private cluster?: Cluster;
  private display?: Display;
  private watch?: { stop(): Promise<void> };
  private traffic?: TrafficLoop;
  private bigip?: BigipReader;
  private app?: AppCluster;
  private t0 = 0;
  private firstCompleteAt?: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private ending?: Promise<Ending>;
  private stopRequested = false;
  private resolveEnd!: (e: Ending) => void;
  private readonly ended = new Promise<Ending>((r) => (this.resolveEnd = r));
  private readonly log: Logger;
  private readonly startedAt: number;

  constructor(
    private readonly opts: DemoOptions,
    private readonly io: DemoIO,
  ) {
    this.startedAt = io.now();
    this.log = pino({ level: process.env.NPL_LOG_LEVEL ?? 'info' }, createWriteStream(path.join(io.logsDir, 'demo.log'), { flags: 'a' }));
  }

  private say(line: string): void {
    this.io.out.write(`[demo ${((this.io.now() - this.startedAt) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
  }

  /** Runs until the run ends; resolves with how it ended (teardown done). */
  async run(): Promise<Ending> {
    let stopped = false;
    void this.ended.then(() => (stopped = true));
    try {
      // A stop during set-up waits for it: tearing down a half-started cluster races its start.
      await this.setUp();
      if (!stopped) this.startShowing();
    } catch (err) {
      this.fail(err);
    }
    const ending = await this.ended;
    return this.tearDown(ending);
  }

  /** Ends the run (q, Ctrl-C, a signal, `--for`): teardown follows. Idempotent: the first reason wins. */
  stop(reason: string, code = 0): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    if (!this.display) this.say(`${reason}: stopping once the set-up step under way has finished, then tearing down`);
    this.resolveEnd({ reason, code });
  }

  fail(err: unknown): void {
    this.log.error({ err }, 'demo failed');
    this.stop(`error: ${err instanceof Error ? err.message : String(err)}`, 1);
  }

  /** Scales the app by `delta` replicas from what the Deployment asks for now (the + and - keys). */
  scaleBy(delta: number): void {
    const from = this.state.desiredReplicas;
    if (from === undefined) return;
    this.scaleTo(Math.min(MAX_REPLICAS, Math.max(0, from + delta)));
  }

  private scaleTo(replicas: number): void {
    if (!this.app) return;
    this.state = withScale(this.state, replicas, this.elapsed());
    this.app.scale({ namespace: NAMESPACE, name: APP }, replicas).catch((err: unknown) => this.fail(err));
  }

  private elapsed(): number {
    return this.io.now() - this.t0;
  }

  private async setUp(): Promise<void> {
    await refuseIfRunning(this.opts.name);
    this.say(`starting cluster ${this.opts.name}: 2 nodes, npl-agent on each, BIG-IP emulator, npl-controller (logs: ${this.io.logsDir})`);
    const t = this.io.now();
    const cluster = await startCluster({
      name: this.opts.name,
      nodes: 2,
      ipFamily: 'ipv4',
      nodeProcesses: [agentNodeProcess()],
      controller: true,
      logger: this.log,
      onProgress: (l) => this.say(l),
    });
    this.cluster = cluster;
    if (!cluster.bigip) throw new DemoError('NPL_DEMO_BIGIP', `cluster ${cluster.name} started without the BIG-IP emulator`);
    this.say(`cluster ${cluster.name} is up in ${((this.io.now() - t) / 1000).toFixed(1)} s: ${cluster.nodes.map((n) => `${n.name} ${n.ip}`).join(', ')}; BIG-IP ${cluster.bigip.url}`);
    this.say(`logs while it runs: ${cluster.dir}/logs (node-*-npl-agent.log, npl-controller-0.log, bigip-emulator.log); copied to ${this.io.logsDir} at exit`);
    const vsAddress = `${cluster.layout.nets[0]!.bridgeIP}:${VS_PORT}`;
    this.state = initialState(APP, NAMESPACE, vsAddress, PORT);
    this.bigip = await httpsBigipReader(cluster.bigip);
    this.app = kubeAppCluster(cluster.kubeConfig);
    const spec: AppSpec = { namespace: NAMESPACE, name: APP, replicas: this.opts.replicas, port: PORT, virtualServer: vsAddress };
    await this.app.deploy(spec);
    this.say(`deployed ${NAMESPACE}/${APP} (${spec.replicas} replicas) behind Service ${APP} (nodeportlocal.antrea.io/enabled=true, virtual server ${vsAddress})`);
  }

  private startShowing(): void {
    const cluster = this.cluster!;
    this.t0 = this.io.now();
    this.watch = this.app!.watch({ namespace: NAMESPACE, name: APP }, {
      pod: (p, deleted) => (this.state = deleted ? withoutPod(this.state, p.metadata?.name ?? '') : withPod(this.state, podView(p))),
      deployment: (d) => (this.state = withDeployment(this.state, d)),
      error: (err, context) => this.log.warn({ err, context }, 'kubernetes list/watch failed (retrying)'),
    });
    this.traffic = startTrafficLoop(
      { netns: cluster.outsideNetns, url: `http://${this.state.virtualAddress}/`, rate: this.opts.rate },
      (r) => (this.state = recordRequest(this.state, { ...r, at: this.elapsed() })),
      (reason) => this.fail(new DemoError('NPL_DEMO_TRAFFIC', reason)),
    );
    void this.pollBigip();
    for (const step of this.opts.scaleSteps) this.timers.push(setTimeout(() => this.scaleTo(step.replicas), step.atSeconds * 1000));
    if (this.opts.forSeconds !== undefined) this.timers.push(setTimeout(() => this.stop(`--for ${this.opts.forSeconds} s elapsed`), this.opts.forSeconds * 1000));
    this.display = this.io.makeDisplay();
    this.timers.push(setInterval(() => this.tick(), TICK_MS));
  }

  private async pollBigip(): Promise<void> {
    let stopped = false;
    void this.ended.then(() => (stopped = true));
    while (!stopped) {
      const started = this.io.now();
      try {
        const view = await this.bigip!.read(this.state.poolName);
        const virtual = view.virtuals.find((v) => v.destination === this.state.virtualAddress);
        this.state = withBigip(this.state, view.pool, virtual);
      } catch (err) {
        this.state = withBigipError(this.state, err instanceof Error ? err.message : String(err));
      }
      await new Promise((r) => setTimeout(r, Math.max(0, BIGIP_POLL_MS - (this.io.now() - started))));
    }
  }

  private context(): RenderContext {
    const c = this.cluster!;
    return { elapsedMs: this.elapsed(), cluster: c.name, nodes: c.nodes, bigipUrl: c.bigip?.url ?? '-', logsDir: `${c.dir}/logs` };
  }

  private tick(): void {
    const shown = this.display?.offer(this.state, this.context());
    if (!shown) return;
    // Times are taken when a frame showing them was drawn: they measure the display.
    this.state = observeScales(this.state, this.elapsed());
    if (this.firstCompleteAt === undefined && isComplete(this.state)) this.firstCompleteAt = this.io.now();
  }

  private async tearDown(ending: Ending): Promise<Ending> {
    this.ending ??= this.doTearDown(ending);
    return this.ending;
  }

  private async doTearDown(ending: Ending): Promise<Ending> {
    for (const t of this.timers) clearTimeout(t);
    this.display?.close();
    await Promise.allSettled([this.traffic?.stop(), this.watch?.stop()]);
    this.bigip?.close();
    if (this.cluster) this.summarize(ending);
    this.say(`stopping: ${ending.reason}; tearing down cluster ${this.opts.name}`);
    await this.keepLogs();
    try {
      await stopCluster(this.opts.name);
      const left = await clusterStatus(this.opts.name);
      this.say(left ? `teardown incomplete: cluster ${this.opts.name} still has state in ${left.dir}` : `teardown done: cluster ${this.opts.name} removed; logs kept in ${this.io.logsDir}`);
      return left ? { reason: ending.reason, code: 1 } : ending;
    } catch (err) {
      this.say(`teardown failed: ${err instanceof Error ? err.message : String(err)} (run \`packages/cluster/bin/cluster down --name ${this.opts.name}\`)`);
      return { reason: ending.reason, code: 1 };
    }
  }

  /** The cluster's logs die with its directory: copy them next to the demo's own log first. */
  private async keepLogs(): Promise<void> {
    if (!this.cluster) return;
    await cp(path.join(this.cluster.dir, 'logs'), path.join(this.io.logsDir, 'cluster'), { recursive: true }).catch((err: unknown) =>
      this.log.warn({ err }, 'copying the cluster logs failed'),
    );
  }

  private summarize(ending: Ending): void {
    if (!this.display) return;
    this.state = observeScales(this.state, this.elapsed());
    this.io.out.write(renderSnapshot(this.state, this.context()).replace(/ (complete|settling) ---/, ' final $1 ---'));
    const first = this.firstCompleteAt === undefined ? 'never' : `${((this.firstCompleteAt - this.startedAt) / 1000).toFixed(1)} s after the demo started (${((this.firstCompleteAt - this.t0) / 1000).toFixed(1)} s after the app was deployed)`;
    this.say(`first complete frame (every pod mapped, in the pool and answering): ${first}`);
    for (const s of this.state.scales) this.say(scaleText(s));
    this.say(`ended: ${ending.reason}`);
  }
}

/** Prepares the logs directory of a run: `<base>/<name>`, emptied first. */
export async function prepareLogsDir(base: string, name: string): Promise<string> {
  const dir = path.join(base, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}
