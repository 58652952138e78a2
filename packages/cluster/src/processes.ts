import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Starts a daemon in its own session (so it is its own process group and outlives the caller) with
 * output to a log file. Returns its pid, which is also its process group id.
 */
export function spawnDaemon(spec: DaemonSpec): number {
  const fd = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, [...spec.args], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env ?? process.env,
      cwd: spec.cwd,
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** True when `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
    } catch {
      // already gone, or not a group leader
    }
  }
}

/**
 * Stops processes (and their process groups): SIGTERM, then SIGKILL after `graceMs`. Resolves when
 * all are gone (zombies of other parents count as gone).
 */
export async function stopProcesses(pids: readonly number[], graceMs = 1_500): Promise<void> {
  const live = pids.filter((p) => p > 1 && isAlive(p));
  for (const p of live) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && (await anyRunning(live))) await sleep(50);
  for (const p of live) if (await running(p)) signal(p, 'SIGKILL');
  const hard = Date.now() + 5_000;
  while (Date.now() < hard && (await anyRunning(live))) await sleep(50);
}

async function running(pid: number): Promise<boolean> {
  return Promise.resolve(isAlive(pid));
}

async function anyRunning(pids: readonly number[]): Promise<boolean> {
  for (const p of pids) if (await running(p)) return true;
  return false;
}

const DAEMONS = new Set(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);

/** True for the command lines of the cluster's own daemons (not, say, a `tail -f` of a log). */
function isClusterDaemon(argv: readonly string[]): boolean {
  const exe = (argv[0] ?? '').split('/').pop() ?? '';
  return DAEMONS.has(exe) || argv.some((a) => /(standin\/main|\/supervise)\.(ts|js)$/.test(a));
}

/**
 * Pids of the cluster daemons (etcd, kube-*, the stand-in) whose command line mentions `marker`
 * (the cluster directory: each takes a path inside it). Finds leftovers whose pid was lost in a crash.
 */
export async function processesMentioning(marker: string): Promise<number[]> {
  const out: number[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    const argv = (await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (argv.some((a) => a.includes(marker)) && isClusterDaemon(argv)) out.push(pid);
  }
  return out;
}
