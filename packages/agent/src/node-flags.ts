/**
 * The Node.js (V8) flags npl-agent is tuned for (issue 11, memory). They keep the V8 heap close to
 * the live data instead of letting it grow far ahead of it: a 1 MiB young generation semi-space
 * (default up to 16 MiB, two of them) and V8's optimize-for-size mode (slow heap growth, memory-
 * reducing GCs, less speculative optimisation). Measured by bench/memory.ts (docs/benchmarks.md)
 * on the bundle with 1,000 local pods and 10,000 Services: RSS 111-121 MiB against 183-195 MiB
 * with Node's defaults, for 13-36% more CPU while syncing (more, smaller GCs); a heap growing factor
 * of 1.2 instead of optimize-for-size gave 129 MiB.
 *
 * Contract: `src/cli.ts` declares exactly these flags, and the environment of NODE_ENV below, in its
 * shebang (`#!/usr/bin/env -S NAME=value node <flags>`), so `npl-agent` (the image's entrypoint, the
 * package's bin) runs with them (scripts/bundle.mjs keeps the line in dist/npl-agent.mjs); launchers
 * that start `node <script>` themselves read both from that line (@npl/cluster does). A unit test
 * keeps them equal.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];

/**
 * The environment npl-agent's process is tuned for: at most 2 glibc malloc arenas. By default glibc
 * gives each thread that allocates its own arena, up to 8 per core; V8's worker threads (concurrent
 * GC and compilation) and libuv's each take one, and memory freed there fragments instead of going
 * back to the kernel. Measured by bench/churn.ts --compare (10 Pods a second for 10 minutes on
 * 2 cores, both in one cluster): with glibc's default RSS grew 0.71 MiB/min after the first minute,
 * nearly all of it anonymous memory outside V8's heap (heap committed 0.08 MiB/min), in the
 * 64 MiB-aligned mappings of thread arenas; with the cap 0.18 MiB/min, and 10 MiB lower at the end.
 * Read by glibc when the process starts, so it can only be set from outside (the shebang).
 */
export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** The flags of NODE_FLAGS that `execArgv` (the process's own Node options) lacks. */
export function missingNodeFlags(execArgv: readonly string[]): string[] {
  return NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}

/** The variables of NODE_ENV that `env` does not set at all (a different value is the operator's choice). */
export function missingNodeEnv(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.keys(NODE_ENV).filter((name) => env[name] === undefined);
}

/** The shebang line src/cli.ts must start with. */
export function expectedShebang(): string {
  const assignments = Object.entries(NODE_ENV).map(([name, value]) => `${name}=${value} `);
  return `#!/usr/bin/env -S ${assignments.join('')}node ${NODE_FLAGS.join(' ')}`;
}
