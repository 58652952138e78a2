#!/usr/bin/env bash
# `pnpm demo` (root package.json), or `bash scripts/demo.sh` on a fresh machine with only Node and
# npm: does its own set-up (Debian packages, Node 24, pnpm, node_modules, the local cluster's
# binaries, the build), then runs the demo (packages/demo). Arguments go to the demo: `--for
# SECONDS`, `--scale-to N@T`, `--help`. Needs root (the local cluster is network namespaces).
# Set-up progress goes to stderr; the demo's output to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in *" --help "* | *" -h "*) ;; *)
  if [ "$(id -u)" != 0 ]; then
    echo "pnpm demo needs root: it starts a local cluster of network namespaces (run it as root, e.g. sudo -E pnpm demo)" >&2
    exit 1
  fi
esac
# shellcheck source=bootstrap.sh
source scripts/bootstrap.sh
npl_bootstrap >&2
npl_ensure_cluster_binaries >&2
echo "[demo] building (cached after the first run)" >&2
pnpm exec turbo run build --output-logs=errors-only >&2
exec node packages/demo/dist/cli.js "$@"
