/**
 * Test control of a running cluster's API server and etcd: stop them as a crash would, start them
 * again with the same command line, or freeze them (SIGSTOP: sockets stay open, nothing answers,
 * as a hung server). For chaos tests of the clients (npl-agent, npl-controller).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterError } from './errors.js';
import { ensureAlive, probe, waitFor } from './health.js';
import { isAlive, spawnDaemon } from './processes.js';
import { readState, writeState, type ClusterState } from './state.js';

export type ControlPlaneComponent = 'apiserver' | 'etcd';

export const CONTROL_PLANE_COMPONENTS: readonly ControlPlaneComponent[] = ['apiserver', 'etcd'];

/**
 * Stop, start, freeze and thaw the API server or etcd of a running cluster. Every method names the
 * cluster and the component in its errors: NPL_CLUSTER_NOT_FOUND without a state file,
 * NPL_CLUSTER_NOT_RUNNING when the component was never started (no command line to reuse),
 * NPL_CLUSTER_START_TIMEOUT when a restarted component does not become healthy in 120 s.
 */
export interface ControlPlaneControl {
  /** SIGKILL to the component's process group; resolves once it is gone. Idempotent. */
  stop(component: ControlPlaneComponent): Promise<void>;
  /**
   * Starts a stopped component with the command line it had (log appended to the same file),
   * records its new pid, and resolves once it is healthy (API server /readyz 200, etcd /health 200).
   * A running component is left alone (resumed if frozen) and only waited for.
   */
  start(component: ControlPlaneComponent): Promise<void>;
  /** SIGSTOP: the process keeps its listening and accepted sockets but answers nothing. Idempotent. */
  freeze(component: ControlPlaneComponent): Promise<void>;
  /** SIGCONT after freeze; resolves once healthy again. */
  thaw(component: ControlPlaneComponent): Promise<void>;
  /** Pid of the running component, undefined while stopped. */
  pid(component: ControlPlaneComponent): Promise<number | undefined>;
}

export interface ControlPlaneAccess {
  readonly name: string;
  readonly dir: string;
  /** The API server URL (https://host:port). */
  readonly server: string;
  /** etcd's client URL (http://127.0.0.1:port). */
  readonly etcdClientURL: string;
}

const LOG_FILES: Record<ControlPlaneComponent, string> = { apiserver: 'kube-apiserver.log', etcd: 'etcd.log' };
const STOPPED_STATE = /^\d+ \(.*\) T /s;

export function controlPlaneControl(access: ControlPlaneAccess): ControlPlaneControl {
  const load = async (): Promise<ClusterState> => {
    const state = await readState(access.name);
    if (!state) throw new ClusterError('NPL_CLUSTER_NOT_FOUND', `cluster ${access.name}: no state file (is it up?)`);
    return state;
  };
  const livePid = (state: ClusterState, c: ControlPlaneComponent): number | undefined => {
    const pid = state.pids[c];
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  };
  const healthy = async (c: ControlPlaneComponent): Promise<void> => {
    const ca = await readFile(path.join(access.dir, 'pki', 'ca.crt'));
    const url = c === 'apiserver' ? `${access.server}/readyz` : `${access.etcdClientURL}/health`;
    const state = await load();
    const pid = state.pids[c];
    const log = path.join(access.dir, 'logs', LOG_FILES[c]);
    const check = async (): Promise<boolean> => {
      if (pid !== undefined) await ensureAlive(pid, c, log);
      return (await probe(url, c === 'apiserver' ? ca : undefined)) === 200;
    };
    await waitFor(`${c} of cluster ${access.name}`, check, 120_000);
  };
  return {
    async stop(c) {
      const state = await load();
      const pid = livePid(state, c);
      if (pid === undefined) return;
      const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      state.controlPlaneCommands = { ...state.controlPlaneCommands, [c]: argv };
      await writeState(state);
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const deadline = Date.now() + 30_000;
      while (isAlive(pid)) {
        if (Date.now() > deadline) throw new ClusterError('NPL_CLUSTER_COMMAND_FAILED', `cluster ${access.name}: ${c} (pid ${pid}) did not exit after SIGKILL`);
        await sleep(50);
      }
    },
    async start(c) {
      const state = await load();
      const running = livePid(state, c);
      if (running !== undefined) {
        process.kill(running, 'SIGCONT');
        return healthy(c);
      }
      const argv = state.controlPlaneCommands?.[c];
      if (!argv?.length) {
        throw new ClusterError('NPL_CLUSTER_NOT_RUNNING', `cluster ${access.name}: ${c} was not stopped through the control (no command line recorded): cluster up again`);
      }
      state.pids[c] = spawnDaemon({ command: argv[0]!, args: argv.slice(1), logFile: path.join(access.dir, 'logs', LOG_FILES[c]) });
      await writeState(state);
      return healthy(c);
    },
    async freeze(c) {
      const pid = livePid(await load(), c);
      if (pid === undefined) throw new ClusterError('NPL_CLUSTER_NOT_RUNNING', `cluster ${access.name}: ${c} is not running, so it cannot be frozen`);
      process.kill(pid, 'SIGSTOP');
      await waitFor(`${c} of cluster ${access.name} stopped (SIGSTOP)`, async () => STOPPED_STATE.test(await readFile(`/proc/${pid}/stat`, 'utf8')), 10_000);
    },
    async thaw(c) {
      const pid = livePid(await load(), c);
      if (pid === undefined) throw new ClusterError('NPL_CLUSTER_NOT_RUNNING', `cluster ${access.name}: ${c} is not running, so it cannot be thawed`);
      process.kill(pid, 'SIGCONT');
      return healthy(c);
    },
    async pid(c) {
      return livePid(await load(), c);
    },
  };
}
