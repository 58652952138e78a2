/**
 * `pnpm demo` end to end: the built CLI (what scripts/demo.sh runs after its set-up) starts the real
 * local cluster with npl-agent, npl-controller and the BIG-IP emulator, and the test reads only
 * what the demo printed, then checks independently that nothing was left behind. Needs root and
 * `pnpm build`; run under the machine-wide lock like every cluster test.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { clusterStatus } from '@npl/cluster';
import { clusterSkipReason } from '@npl/cluster/testing';
import { describeUnless } from '@npl/testkit';
import { parseSnapshots, scaleTimes, type Snapshot } from '../src/testing/snapshot.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');
const T = 300_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the demo CLI; `onStdout` sees the output so far (to act at a point of the run). */
function demo(args: readonly string[], onStdout?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`pnpm build\` (scripts/test-all.sh does) before this test`);
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NPL_LOG_LEVEL: 'info' } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    onStdout?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

async function leftovers(name: string): Promise<string[]> {
  const netns = (await readdir('/run/netns').catch(() => [] as string[])).filter((n) => n.startsWith(`npl-${name}-`));
  return [...((await clusterStatus(name)) ? [`state of cluster ${name}`] : []), ...netns];
}

const nodePortOf = (entry: string) => entry.split('->')[0]!;

function expectFullPicture(snap: Snapshot, replicas: number): void {
  expect(snap.desired).toBe(replicas);
  expect(snap.pods.map((p) => p.status)).toEqual(Array(replicas).fill('ready'));
  for (const p of snap.pods) expect(p.nodePorts).toEqual([expect.stringMatching(/^198\.18\.\d+\.1\d:\d+->80\/tcp$/)]);
  // The pool's members are exactly the pods' nodeIP:nodePort, each enabled and named after its pod.
  expect(snap.pool).toMatchObject({ members: replicas, matchesPods: true });
  expect(snap.members.map((m) => m.name).sort()).toEqual(snap.pods.map((p) => nodePortOf(p.nodePorts[0]!)).sort());
  expect(snap.members.map((m) => m.pod).sort()).toEqual(snap.pods.map((p) => p.name).sort());
  for (const m of snap.members) expect(m.session).toBe('user-enabled');
  expect(snap.virtual).toMatch(/^198\.18\.\d+\.1:8080$/);
}

describeUnless(clusterSkipReason, 'pnpm demo (the CLI on the local cluster)', () => {
  it('--for: pods with node ports, pool members matching them, requests answered by every pod, a timed scale, no cluster left', async () => {
    const run = await demo(['--for', '30', '--scale-to', '3@10', '--replicas', '2', '--rate', '8', '--name', 'demoe2e']);
    if (run.code !== 0) throw new Error(`demo exited ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    const snaps = parseSnapshots(run.stdout);
    const final = snaps.at(-1)!;
    expect(final.final).toBe(true);
    expect(final.complete).toBe(true);
    expectFullPicture(final, 3);
    // Every pod answered through the virtual server, the one added by the scale included.
    for (const p of final.pods) expect(final.requests!.byPod[p.name]).toBeGreaterThan(0);
    // Before the scale the picture was complete with 2 pods.
    const before = snaps.filter((s) => !s.final && s.complete && s.desired === 2).at(-1);
    expect(before).toBeDefined();
    expectFullPicture(before!, 2);
    // The scale was shown: pods, then the pool, then answers from every pod, each timed.
    expect(final.scales).toHaveLength(1);
    const times = scaleTimes(final.scales[0]!);
    expect(times.podsS).toBeDefined();
    expect(times.poolS).toBeGreaterThanOrEqual(times.podsS!);
    expect(times.answeringS).toBeGreaterThanOrEqual(times.poolS!);
    expect(run.stdout).toMatch(/first complete frame \(every pod mapped, in the pool and answering\): [\d.]+ s after the demo started/);
    expect(run.stdout).toContain('teardown done: cluster demoe2e removed');
    expect(await leftovers('demoe2e')).toEqual([]);
    process.stderr.write(`demo --for figures: ${final.scales[0]}\n${/first complete frame.*$/m.exec(run.stdout)?.[0]}\n`);
  }, T);

  it('refuses to start over a running demo of that name, and SIGTERM tears the running one down', async () => {
    let refusal: Promise<Run> | undefined;
    const first = demo(['--for', '600', '--name', 'demoterm'], (text, child) => {
      if (refusal || !/--- t=[\d.]+s complete ---/.test(text)) return;
      refusal = demo(['--for', '5', '--name', 'demoterm']).then((r) => {
        child.kill('SIGTERM');
        return r;
      });
    });
    const run = await first;
    const second = await refusal!;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/a cluster named demoterm already runs .*cluster down --name demoterm/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('ended: SIGTERM');
    expect(run.stdout).toContain('teardown done: cluster demoterm removed');
    expect(await leftovers('demoterm')).toEqual([]);
  }, T);
});

describe('pnpm demo with bad flags', () => {
  it('bad flags exit 2 with the usage, before anything starts', async () => {
    const run = await demo(['--for', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--for "0": expected a number from 1 to 86400\nusage: pnpm demo/);
  });
});
