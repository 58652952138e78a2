/** scripts/bench.sh (`pnpm bench`): which commands --only runs, checked with --dry-run. */
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './paths.js';

const script = path.join(repoRoot(path.dirname(fileURLToPath(import.meta.url))), 'scripts', 'bench.sh');
const dry = (...args: string[]): string[] => execFileSync('bash', [script, '--dry-run', ...args], { encoding: 'utf8' }).trim().split('\n');

describe('pnpm bench (scripts/bench.sh)', () => {
  it('runs every package bench one at a time, then renders', () => {
    expect(dry()).toEqual(['pnpm exec turbo run bench --concurrency=1', 'pnpm run bench:render']);
  });

  it('--only groups ids by package, passes the names on (not to the cluster package), then renders', () => {
    expect(dry('--only', 'agent.service-rollout,controller.storm,agent.agent-restart,cluster.up')).toEqual([
      'pnpm exec turbo run bench --concurrency=1 --filter=@npl/agent -- --only service-rollout,agent-restart',
      'pnpm exec turbo run bench --concurrency=1 --filter=@npl/controller -- --only storm',
      'pnpm exec turbo run bench --concurrency=1 --filter=@npl/cluster',
      'pnpm run bench:render',
    ]);
  });

  it('--only a package runs all its benchmarks; --no-render skips the render', () => {
    expect(dry('--only=controller', '--no-render')).toEqual(['pnpm exec turbo run bench --concurrency=1 --filter=@npl/controller']);
  });

  it('rejects an id of no package, naming it', () => {
    const r = spawnSync('bash', [script, '--dry-run', '--only', 'nope.x'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("no package 'nope' for 'nope.x'");
  });
});
