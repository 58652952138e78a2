/**
 * The Node.js (V8) flags npl-agent is tuned for (issue 11, memory). They keep the V8 heap close to
 * the live data instead of letting it grow far ahead of it: a 1 MiB young generation semi-space
 * (default up to 16 MiB, two of them) and V8's optimize-for-size mode (slow heap growth, memory-
 * reducing GCs, less speculative optimisation). Measured by bench/memory.ts (docs/benchmarks.md)
 * on the bundle with 1,000 local pods and 10,000 Services: RSS 115-121 MiB against 183-184 MiB
 * with Node's defaults, for 13-36% more CPU while syncing (more, smaller GCs); a heap growing factor
 * of 1.2 instead of optimize-for-size gave 129 MiB.
 *
 * Contract: `src/cli.ts` declares exactly these flags in its shebang
 * (`#!/usr/bin/env -S node <flags>`), so `npl-agent` (the image's entrypoint, the package's bin)
 * runs with them (scripts/bundle.mjs keeps the line in dist/npl-agent.mjs); launchers that start
 * `node <script>` themselves read them from that line (@npl/cluster does). A unit test keeps the two
 * equal.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--optimize-for-size'];

/** The flags of NODE_FLAGS that `execArgv` (the process's own Node options) lacks. */
export function missingNodeFlags(execArgv: readonly string[]): string[] {
  return NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
