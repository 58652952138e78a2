/**
 * The `dist` check of `scripts/test-all.sh`, run after the build: every package with a build script
 * has a `dist/` holding no test or bench code, and no package keeps e2e or bench code under `src/`.
 * Prints one line per problem and exits 1 if there is any. Run by Node directly:
 *
 *   node packages/testkit/src/check-dist.ts [repo root]
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { misplacedInSrc, shippedTestCode } from './dist-check.ts';

const root = path.resolve(process.argv[2] ?? '.');
const problems: string[] = [];
let packages = 0;
let files = 0;

function list(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
}

for (const name of readdirSync(path.join(root, 'packages')).sort()) {
  const dir = path.join(root, 'packages', name);
  const manifest = path.join(dir, 'package.json');
  if (!existsSync(manifest)) continue;
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { scripts?: Record<string, string> };
  if (existsSync(path.join(dir, 'src'))) {
    for (const p of misplacedInSrc(list(path.join(dir, 'src')).map((f) => `src/${f}`))) problems.push(`packages/${name}/${p.file}: ${p.why}`);
  }
  if (!pkg.scripts?.build) continue;
  packages += 1;
  const dist = path.join(dir, 'dist');
  if (!existsSync(dist)) {
    problems.push(`packages/${name}/dist is missing: build first`);
    continue;
  }
  const shipped = list(dist);
  files += shipped.length;
  for (const p of shippedTestCode(shipped)) problems.push(`packages/${name}/dist/${p.file}: ${p.why} must not ship (a stale build? rm -rf packages/${name}/dist and build)`);
}

for (const p of problems) process.stdout.write(`[dist] ${p}\n`);
if (problems.length === 0) process.stdout.write(`[dist] ${packages} packages, ${files} files in dist/: no test, e2e or bench code\n`);
process.exitCode = problems.length === 0 ? 0 : 1;
