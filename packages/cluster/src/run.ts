import { execa } from 'execa';
import { ClusterError } from './errors.js';

/** Runs a command to completion; throws NPL_CLUSTER_COMMAND_FAILED with its stderr on failure. */
export async function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await execa(cmd, args, { input: input ?? '', reject: false, stripFinalNewline: true });
  if (r.exitCode !== 0 || r.failed) {
    const detail = String(r.stderr || r.stdout || r.message || '').trim();
    throw new ClusterError('NPL_CLUSTER_COMMAND_FAILED', `${cmd} ${args.join(' ')}: ${detail}`);
  }
  return String(r.stdout);
}

/** Like run, but never throws: resolves to whether the command succeeded. */
export async function tryRun(cmd: string, args: readonly string[], input?: string): Promise<boolean> {
  const r = await execa(cmd, args, { input: input ?? '', reject: false });
  return r.exitCode === 0 && !r.failed;
}

/** Runs `ip` commands as one batch (`ip [-n netns] -batch -`); all-or-nothing is NOT guaranteed. */
export async function ipBatch(lines: readonly string[], netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  await run('ip', args, lines.join('\n') + '\n');
}

/** Names of all network namespaces (`ip netns list`). */
export async function listNetns(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** Names of all links in the root namespace. */
export async function listLinks(): Promise<string[]> {
  const out = await run('ip', ['-o', 'link', 'show']);
  return out
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.length > 0);
}

/** Sets sysctls inside a network namespace (one process). */
export async function netnsSysctl(netns: string, settings: Record<string, string>): Promise<void> {
  const script = Object.entries(settings)
    .map(([k, v]) => `echo ${v} > /proc/sys/${k.replace(/\./g, '/')}`)
    .join('; ');
  await run('ip', ['netns', 'exec', netns, 'sh', '-c', script]);
}
