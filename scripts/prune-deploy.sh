#!/bin/sh
# Usage: sh scripts/prune-deploy.sh DIR, where DIR is the output of `pnpm deploy --prod` (the build
# stage of packages/*/Dockerfile). Removes what no production process loads: type declarations,
# source maps and test files everywhere, and the tests, benchmarks, examples and docs directories at
# the top of third-party packages; then makes everything world-readable (the images run as uid 65532
# or root) and nothing group/world-writable. The images' tests start every image, so a removal that
# broke a package would show there.
set -eu
dir="${1:?usage: prune-deploy.sh DIR}"
[ -d "$dir/node_modules" ] || { echo "error: $dir has no node_modules (not a pnpm deploy output)" >&2; exit 1; }
find "$dir" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
  -o -name '*.test.js' -o -name '*.test.mjs' -o -name '*.test.cjs' -o -name '*.test.ts' \
  -o -name '*.spec.js' -o -name '*.spec.mjs' -o -name '*.spec.cjs' -o -name '*.spec.ts' \) -delete
find "$dir/node_modules/.pnpm" -regextype posix-extended -type d \
  -regex '.*/node_modules/(@[^/]+/)?[^/]+/(test|tests|__tests__|bench|benchmark|benchmarks|example|examples|doc|docs|coverage|\.github)' \
  -prune -exec rm -rf {} +
chmod -R a+rX,go-w "$dir"
