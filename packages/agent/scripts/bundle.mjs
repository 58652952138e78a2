/**
 * Bundles the built agent (dist/cli.js and everything it imports, dependencies included) into the
 * one file that ships: dist/npl-agent.mjs, the package's `npl-agent` bin and the image's entrypoint.
 *
 * Why (issue 11, memory): V8 keeps every loaded module's source text on the heap. Unbundled,
 * @kubernetes/client-node's generated API and model modules alone keep about 20 MB of source the
 * agent never calls (it uses CoreV1Api, Watch and KubeConfig). Bundling drops what is not
 * reachable and the whitespace and comments; identifiers are kept, so stack traces and logs stay
 * readable. The shebang of src/cli.ts (the Node flags, see src/node-flags.ts) is kept as line 1.
 */
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import path from 'node:path';

const dir = path.join(import.meta.dirname, '..');
const outfile = path.join(dir, 'dist', 'npl-agent.mjs');
const result = await build({
  entryPoints: [path.join(dir, 'dist', 'cli.js')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies call require() for Node built-ins; an ES module has none of its own.
  banner: { js: "import { createRequire as __nplCreateRequire } from 'node:module'; const require = __nplCreateRequire(import.meta.url);" },
});
if (result.errors.length) process.exit(1);
chmodSync(outfile, 0o755);
