/**
 * docs/operations.md stays complete: every flag that the built npl-agent and npl-controller print in
 * `--help` (and `npl-controller render --help`) has a row in that binary's flag table, every value of
 * charts/npl (a leaf of values.schema.json, which chart.test.ts proves equal to values.yaml's) has a
 * row in the values table and covers every key of values.yaml, and every metric registered in the
 * shipped code (`registry.counter|gauge|histogram('name', …)` under packages/<pkg>/src) has a row in
 * the metrics table; rows naming a flag, value or metric that no longer exists fail too.
 * Needs `pnpm build` (test-all.sh builds first): the flags come from the binaries themselves.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import { CHART_DIR, REPO_ROOT } from './helm.js';

const DOC_PATH = path.join(REPO_ROOT, 'docs/operations.md');
const doc = readFileSync(DOC_PATH, 'utf8');

/** The text under the heading whose title contains `title`, up to the next heading of the same or a higher level. */
function section(text: string, title: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^#{1,6} /.test(l) && l.includes(title));
  if (start < 0) throw new Error(`docs/operations.md has no heading containing ${JSON.stringify(title)}`);
  const level = /^#+/.exec(lines[start] ?? '')?.[0].length ?? 1;
  const end = lines.findIndex((l, i) => i > start && new RegExp(`^#{1,${level}} `).test(l));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** First cells of the table rows of `text` that are one code span, e.g. `| \`--node-name\` |` -> `--node-name`. */
function rowKeys(text: string): string[] {
  return [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string);
}

/** Every `--flag` (and `-f`) a help text names, in order of first appearance. */
function helpFlags(binary: string, args: readonly string[]): string[] {
  const cli = path.join(REPO_ROOT, 'packages', binary, 'dist/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build (bash scripts/test-all.sh builds first)`);
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  const text = `${r.stdout}${r.stderr}`;
  if (r.status !== 0 || !text.includes('Usage:')) throw new Error(`node ${cli} ${args.join(' ')} exited ${r.status}: ${text}`);
  return [...new Set([...text.matchAll(/(?<![\w-])(--?[a-z][a-z-]*)/g)].map((m) => m[1] as string))].filter((f) => f.startsWith('--') || f === '-f');
}

describe('docs/operations.md lists every flag of the built binaries', () => {
  const cases = [
    { binary: 'agent', title: 'npl-agent flags', flags: helpFlags('agent', ['--help']) },
    { binary: 'controller', title: 'npl-controller flags', flags: [...new Set([...helpFlags('controller', ['--help']), ...helpFlags('controller', ['render', '--help'])])] },
  ];
  describe.each(cases)('npl-$binary', ({ title, flags }) => {
    const rows = rowKeys(section(doc, title));
    it('--help names flags (the parse found some)', () => {
      expect(flags).toContain('--help');
      expect(flags.length).toBeGreaterThan(5);
    });
    it.each(flags)(`has a row for %s under "${title}"`, (flag) => {
      expect(rows).toContain(flag);
    });
    it('has no row for a flag the binary does not have', () => {
      expect(rows.filter((r) => !flags.includes(r))).toEqual([]);
    });
  });
});

interface SchemaNode {
  readonly $comment?: string;
  readonly properties?: Record<string, SchemaNode>;
  readonly $ref?: string;
}

describe('docs/operations.md lists every value of charts/npl', () => {
  const schema = JSON.parse(readFileSync(path.join(CHART_DIR, 'values.schema.json'), 'utf8')) as SchemaNode & { definitions?: Record<string, SchemaNode> };
  const resolve = (n: SchemaNode): SchemaNode => (n.$ref ? (schema.definitions?.[n.$ref.replace('#/definitions/', '')] ?? n) : n);
  /** Dotted paths of the values: leaves of the schema, an object documented as "one value" counting as one. */
  const leaves = (n: SchemaNode, prefix: string): string[] => {
    const node = resolve(n);
    if (!node.properties || node.$comment?.startsWith('one value')) return [prefix];
    return Object.entries(node.properties).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  };
  /** Dotted paths of every key of values.yaml down to scalars, lists and empty maps. */
  const yamlKeys = (v: unknown, prefix: string): string[] => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length === 0) return [prefix];
    return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => yamlKeys(x, prefix ? `${prefix}.${k}` : k));
  };
  const values = leaves(schema, '');
  const rows = rowKeys(section(doc, 'Chart values'));

  it.each(values)('has a row for %s under "Chart values"', (value) => {
    expect(rows).toContain(value);
  });
  it('every key of values.yaml is one of those rows or inside one (e.g. agent.resources.limits.memory in agent.resources)', () => {
    const keys = yamlKeys(loadYaml(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')), '');
    expect(keys.length).toBeGreaterThan(50);
    expect(keys.filter((k) => !rows.some((r) => k === r || k.startsWith(`${r}.`)))).toEqual([]);
  });
  it('has no row for a value the chart does not have', () => {
    expect(rows.filter((r) => !values.includes(r))).toEqual([]);
  });
});

/** Shipped TypeScript files of every package: src/ without tests and test-only `testing/` folders. */
function shippedSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'testing' || e.name === 'node_modules' ? [] : shippedSources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

describe('docs/operations.md lists every metric registered in code', () => {
  const packagesDir = path.join(REPO_ROOT, 'packages');
  const registered = new Map<string, string>();
  for (const pkg of readdirSync(packagesDir)) {
    const src = path.join(packagesDir, pkg, 'src');
    if (!existsSync(src)) continue;
    for (const file of shippedSources(src)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\.(?:counter|gauge|histogram)\(\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)) {
        registered.set(m[1] as string, path.relative(REPO_ROOT, file));
      }
    }
  }
  const names = [...registered.keys()];
  const rows = rowKeys(section(doc, 'Metrics reference')).map((r) => r.replace(/\{.*$/, ''));

  it('the scan finds the agent, controller and leader-election metrics', () => {
    const files = new Set(registered.values());
    expect([...files].sort()).toEqual(expect.arrayContaining(['packages/agent/src/metrics.ts', 'packages/controller/src/metrics.ts', 'packages/runtime/src/leader-election.ts']));
  });
  it.each(names)('has a row for %s under "Metrics reference"', (name) => {
    expect(rows).toContain(name);
  });
  it('has no row for a metric the code does not register', () => {
    expect(rows.filter((r) => !registered.has(r))).toEqual([]);
  });
});
