/**
 * Test files that start a local cluster must each use their own cluster name: two files with one
 * name tear down each other's cluster when Jest runs them at once (or when one leaves leftovers
 * that the other's `up` removes). Reads every test file of every package.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Cluster names a test file's source starts: describeWithCluster/startCluster options, `--name` of the CLI. */
function clusterNames(source: string): string[] {
  const names = new Set<string>();
  const patterns = [
    /describeWithCluster\([^]*?\{\s*name:\s*'([a-z0-9]+)'/g,
    /startCluster\(\{[^}]*?\bname:\s*'([a-z0-9]+)'/g,
    /'--name',\s*'([a-z0-9]+)'/g,
    /new LocalDriver\(\{\s*name:\s*'([a-z0-9]+)'/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) names.add(m[1]!);
  return [...names];
}

function testFiles(): string[] {
  const out: string[] = [];
  for (const pkg of readdirSync(path.join(root, 'packages'))) {
    for (const dir of ['src', 'e2e', 'test']) {
      const base = path.join(root, 'packages', pkg, dir);
      let entries: string[];
      try {
        entries = readdirSync(base, { recursive: true }) as string[];
      } catch {
        continue;
      }
      for (const f of entries) if (f.endsWith('.test.ts')) out.push(path.join(base, f));
    }
  }
  // The e2e suite (e2e/test: one file per driver; its local driver starts a local cluster).
  for (const f of readdirSync(path.join(root, 'e2e', 'test'))) if (f.endsWith('.test.ts')) out.push(path.join(root, 'e2e', 'test', f));
  return out;
}

describe('local cluster names in test files', () => {
  it('finds the names in each way tests start a cluster', () => {
    const src = `describeWithCluster('t', { name: 'aa1', nodes: 2 }, (get) => {});
      const c = await startCluster({ logger, name: 'bb2' });
      await cli(['up', '--name', 'cc3', '--nodes', '1']);
      defineSuite(new LocalDriver({ name: 'dd4' }));`;
    expect(clusterNames(src).sort()).toEqual(['aa1', 'bb2', 'cc3', 'dd4']);
  });

  it('are distinct between test files', () => {
    const users = new Map<string, string[]>();
    for (const file of testFiles()) {
      for (const name of clusterNames(readFileSync(file, 'utf8'))) users.set(name, [...(users.get(name) ?? []), path.relative(root, file)]);
    }
    expect(users.size).toBeGreaterThan(0);
    expect([...users].filter(([, files]) => files.length > 1)).toEqual([]);
  });
});
