#!/usr/bin/env node
/**
 * `node packages/benchkit/dist/cli.js render [--check] [--root DIR]`: writes docs/benchmarks.md and
 * the charts from the committed results (`--check`: writes nothing, exits 1 listing what a render
 * would change). Run by `pnpm bench` after the benchmarks and by `pnpm bench:render`.
 */
import { parseArgs } from 'node:util';
import { docPaths, repoRoot } from './paths.js';
import { readInputs, renderFiles, staleFiles, writeRendered } from './render.js';

const HELP = `Usage: node packages/benchkit/dist/cli.js render [--check] [--root DIR]
  render    docs/benchmarks/results/*.json + notes → docs/benchmarks.md and docs/benchmarks/<chart>.svg
  --check   write nothing; exit 1 and list the files a render would change
  --root    the repository (default: found from the current directory)
`;

function main(): number {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { check: { type: 'boolean', default: false }, root: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help || positionals[0] !== 'render') {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const p = docPaths(repoRoot(values.root));
  const files = renderFiles(readInputs(p));
  if (values.check) {
    const stale = staleFiles(p, files);
    for (const s of stale) process.stderr.write(`not up to date: ${s}\n`);
    return stale.length ? 1 : 0;
  }
  const { written, removed } = writeRendered(p, files);
  for (const f of written) process.stdout.write(`wrote ${f}\n`);
  for (const f of removed) process.stdout.write(`removed ${f} (no chart draws it)\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
