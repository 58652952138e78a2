/**
 * `cluster up --controller`: the BIG-IP emulator (its CLI, standalone) and npl-controller
 * replicas (this repository's build, as the `kube-system/npl-controller` ServiceAccount with
 * packages/controller/manifests/rbac.yaml) as host processes of the root namespace — the
 * control-plane host, which reaches the API server and every node IP. Each runs under `supervise`
 * (restarted with backoff), logs in `<dir>/logs/`, pids in the state file (so `down` stops them and
 * `status` shows them).
 *
 * The emulator listens on the cluster bridge's primary address, port 443 (so node namespaces and the
 * outside namespace reach it, and its virtual servers on that address are reachable from both). Its
 * account is a local test account with a random password, kept in `<dir>/bigip/credentials/`
 * (files `username`, `password`, mode 0600) which the controllers read (`--bigip-credentials-dir`);
 * its CA is copied to `<dir>/bigip/ca.pem` and verified by the controllers (no insecure flag).
 * The emulator keeps its configuration in memory and makes a new CA at each start: if it ever
 * restarts, it is a fresh device the controllers no longer trust (run `cluster up` again).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { packageDir } from './binaries.js';
import { ClusterError } from './errors.js';
import { ensureAlive, probe, waitFor } from './health.js';
import type { ClusterLayout } from './layout.js';
import { isAlive, spawnDaemon, stopProcesses } from './processes.js';
import { identityKubeconfig } from './service-accounts.js';
import type { ServiceAccountIdentity } from './standin/config.js';
import { readState, writeState, type ClusterState } from './state.js';
import type { SupervisedSpec } from './supervise.js';

const controllerDir = path.join(packageDir, '..', 'controller');
const emulatorDir = path.join(packageDir, '..', 'bigip-emulator');

/** The controller's identity: its ServiceAccount and least-privilege RBAC. */
export const CONTROLLER_IDENTITY: ServiceAccountIdentity = {
  namespace: 'kube-system',
  name: 'npl-controller',
  manifests: [path.join(controllerDir, 'manifests', 'rbac.yaml')],
};

/** The BIG-IP partition the emulator starts with and the controllers manage. */
export const BIGIP_PARTITION = 'k8s';
const BIGIP_PORT = 443;

/** `StartOptions.controller` in object form. */
export interface ControllerOptions {
  /** Replicas (1-4, default 1); more than one needs the controller's leader election. */
  readonly replicas?: number;
  /** Extra controller flags for every replica (e.g. `--resync-period 2s`). */
  readonly args?: readonly string[];
  /** Extra environment (NPL_* variables) for every replica. */
  readonly env?: Record<string, string>;
}

/** How to reach the emulated BIG-IP (its local test account: the password is not a secret). */
export interface BigipAccess {
  readonly url: string;
  readonly caFile: string;
  readonly username: string;
  readonly password: string;
  readonly partition: string;
}

/** What the state file records of `--controller`. */
export interface ControllerRecord {
  readonly bigip: BigipAccess;
  /** Supervisor spec file of each replica, in replica order. */
  readonly specs: readonly string[];
  /** Health address (`host:port`: /healthz, /readyz, /metrics) of each replica. */
  readonly healthAddresses: readonly string[];
}

/** Start, stop and inspect the controller replicas of a running cluster. */
export interface ControllerReplicas {
  readonly replicas: number;
  /** `http://host:port` of replica i's /healthz, /readyz and /metrics. */
  healthURL(replica: number): string;
  /** Stops replica i (and its supervisor): it stays stopped until start(i). */
  stop(replica: number): Promise<void>;
  /** Starts replica i again (no-op when it runs). */
  start(replica: number): Promise<void>;
  /** Pid of replica i's supervisor (its process group), undefined when stopped. */
  pid(replica: number): Promise<number | undefined>;
}

export const EMULATOR_ROLE = 'bigip-emulator';
export const replicaRole = (i: number): string => `npl-controller-${i}`;

function built(dir: string, what: string): string {
  const cli = path.join(dir, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    throw new ClusterError('NPL_CLUSTER_CONTROLLER_NOT_BUILT', `${what} is not built (${cli} is missing): run \`pnpm build\` first`);
  }
  return cli;
}

/** Node arguments that run supervise from the same form (sources or dist) as this module. */
function superviseCommand(specFile: string): string[] {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    return ['--disable-warning=ExperimentalWarning', '--import', path.join(packageDir, 'bin', 'ts-hooks.mjs'), path.join(path.dirname(here), 'supervise.ts'), specFile];
  }
  return [path.join(path.dirname(here), 'supervise.js'), specFile];
}

function spawnSupervised(dir: string, role: string, specFile: string): number {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return spawnDaemon({ command: process.execPath, args: superviseCommand(specFile), logFile: path.join(dir, 'logs', `${role}.log`), env });
}

async function writeSpec(dir: string, spec: SupervisedSpec): Promise<string> {
  await mkdir(path.join(dir, 'supervise'), { recursive: true });
  const file = path.join(dir, 'supervise', `${spec.name}.json`);
  await writeFile(file, JSON.stringify(spec, null, 2), { mode: 0o600 });
  return file;
}

function urlHost(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/** Starts the emulator; resolves with its access once it answers with its test account. */
export async function startBigip(layout: ClusterLayout, dir: string, state: ClusterState): Promise<BigipAccess> {
  const cli = built(emulatorDir, 'the BIG-IP emulator');
  const bigipDir = path.join(dir, 'bigip');
  const credentials = path.join(bigipDir, 'credentials');
  await mkdir(credentials, { recursive: true, mode: 0o700 });
  await mkdir(path.join(bigipDir, 'tmp'), { recursive: true });
  const username = 'admin';
  const password = randomBytes(12).toString('base64url');
  await writeFile(path.join(credentials, 'username'), `${username}\n`, { mode: 0o600 });
  await writeFile(path.join(credentials, 'password'), `${password}\n`, { mode: 0o600 });
  const address = layout.nets[0]!.bridgeIP;
  const spec: SupervisedSpec = {
    name: EMULATOR_ROLE,
    command: process.execPath,
    args: [cli, '--address', address, '--port', String(BIGIP_PORT), '--partition', BIGIP_PARTITION, '--username', username, '--password-file', path.join(credentials, 'password')],
    // Its generated CA directory lands in the cluster directory, so `down` removes leftovers.
    env: { TMPDIR: path.join(bigipDir, 'tmp') },
  };
  const logFile = path.join(dir, 'logs', `${EMULATOR_ROLE}.log`);
  const pid = spawnSupervised(dir, EMULATOR_ROLE, await writeSpec(dir, spec));
  state.pids[EMULATOR_ROLE] = pid;
  await writeState(state);
  let printedCa = '';
  await waitFor(
    'the BIG-IP emulator',
    async () => {
      await ensureAlive(pid, 'the BIG-IP emulator', logFile);
      const m = /^BIGIP_CA_FILE=(.+)$/m.exec(await readFile(logFile, 'utf8'));
      printedCa = m?.[1] ?? '';
      return printedCa !== '';
    },
    60_000,
    async () => (await readFile(logFile, 'utf8')).split('\n').slice(-15).join('\n'),
  );
  const caFile = path.join(bigipDir, 'ca.pem');
  await copyFile(printedCa, caFile);
  const url = `https://${urlHost(address)}:${BIGIP_PORT}`;
  const ca = await readFile(caFile);
  await waitFor('the BIG-IP emulator answering', async () => (await probe(`${url}/emulator/state`, ca)) === 200, 30_000);
  return { url, caFile, username, password, partition: BIGIP_PARTITION };
}

function replicasOf(opts: ControllerOptions): number {
  const n = opts.replicas ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 4) {
    throw new ClusterError('NPL_CLUSTER_CONTROLLER_INVALID', `controller.replicas ${JSON.stringify(opts.replicas)}: expected an integer from 1 to 4`);
  }
  return n;
}

interface ControllerStart {
  readonly kubeConfig: KubeConfig;
  readonly layout: ClusterLayout;
  readonly dir: string;
  readonly server: string;
  readonly caCertFile: string;
  readonly state: ClusterState;
  readonly bigip: BigipAccess;
}

/**
 * Starts the controller replicas (after the emulator) and resolves when each answers /healthz.
 * With more than one replica each takes part in leader election on the Lease
 * `kube-system/npl-controller` with its own identity (the controller's default, hostname_uuid).
 */
export async function startControllers(ctx: ControllerStart, opts: ControllerOptions): Promise<ControllerRecord> {
  const cli = built(controllerDir, 'npl-controller');
  const replicas = replicasOf(opts);
  const kubeconfig = await identityKubeconfig(ctx.kubeConfig, CONTROLLER_IDENTITY, { dir: ctx.dir, server: ctx.server, caCertFile: ctx.caCertFile });
  const specs: string[] = [];
  const healthAddresses: string[] = [];
  for (let i = 0; i < replicas; i++) {
    const health = `127.0.0.1:${ctx.layout.ports.etcdClient + 10 + i}`;
    const spec: SupervisedSpec = {
      name: replicaRole(i),
      command: process.execPath,
      args: [
        cli, '--bigip-url', ctx.bigip.url, '--bigip-ca-file', ctx.bigip.caFile, '--bigip-credentials-dir', path.join(ctx.dir, 'bigip', 'credentials'),
        '--bigip-partition', ctx.bigip.partition, '--health-address', health, '--kubeconfig', kubeconfig,
        // Every replica takes part in leader election (the controller's default), so one writes.
        '--leader-elect', 'true',
        ...(opts.args ?? []),
      ],
      env: { POD_NAMESPACE: CONTROLLER_IDENTITY.namespace, ...opts.env },
    };
    specs.push(await writeSpec(ctx.dir, spec));
    healthAddresses.push(health);
    ctx.state.pids[replicaRole(i)] = spawnSupervised(ctx.dir, replicaRole(i), specs[i]!);
    await writeState(ctx.state);
  }
  const record: ControllerRecord = { bigip: ctx.bigip, specs, healthAddresses };
  await Promise.all(healthAddresses.map((h, i) => waitHealthy(ctx.dir, ctx.state.pids[replicaRole(i)]!, i, h)));
  return record;
}

async function waitHealthy(dir: string, pid: number, i: number, health: string): Promise<void> {
  const logFile = path.join(dir, 'logs', `${replicaRole(i)}.log`);
  await waitFor(
    `npl-controller replica ${i} (/healthz on ${health})`,
    async () => {
      await ensureAlive(pid, `npl-controller replica ${i}`, logFile);
      return (await probe(`http://${health}/healthz`)) === 200;
    },
    60_000,
    async () => (await readFile(logFile, 'utf8')).split('\n').slice(-15).join('\n'),
  );
}

/** The ControllerReplicas of cluster `name` (whose state records `record`). */
export function controllerReplicas(name: string, dir: string, record: ControllerRecord): ControllerReplicas {
  const check = (i: number): void => {
    if (!Number.isInteger(i) || i < 0 || i >= record.specs.length) {
      throw new ClusterError('NPL_CLUSTER_CONTROLLER_INVALID', `cluster ${name}: no controller replica ${i} (it has ${record.specs.length})`);
    }
  };
  const current = async (): Promise<ClusterState> => {
    const s = await readState(name);
    if (!s) throw new ClusterError('NPL_CLUSTER_NOT_FOUND', `cluster ${name}: no state`);
    return s;
  };
  return {
    replicas: record.specs.length,
    healthURL: (i) => {
      check(i);
      return `http://${record.healthAddresses[i]!}`;
    },
    pid: async (i) => {
      check(i);
      return (await current()).pids[replicaRole(i)];
    },
    stop: async (i) => {
      check(i);
      const s = await current();
      const pid = s.pids[replicaRole(i)];
      if (pid !== undefined) await stopProcesses([pid]);
      delete s.pids[replicaRole(i)];
      await writeState(s);
    },
    start: async (i) => {
      check(i);
      const s = await current();
      const pid = s.pids[replicaRole(i)];
      if (pid !== undefined && isAlive(pid)) return;
      s.pids[replicaRole(i)] = spawnSupervised(dir, replicaRole(i), record.specs[i]!);
      await writeState(s);
    },
  };
}
