#!/usr/bin/env bash
# `pnpm bench`: every package's benchmarks, one package at a time (turbo, --concurrency=1; each
# builds first), then the render step that writes docs/benchmarks.md and its charts from
# docs/benchmarks/results/*.json. As root; run it under the machine-wide lock on a shared machine:
#   flock /tmp/npl-root-tests.lock pnpm bench
# Options:
#   --only ID[,ID...]   only these benchmarks (ids as in docs/benchmarks/results, e.g.
#                       agent.service-rollout,controller.storm, or a whole package: agent), then render
#   --no-render         skip the render step (`pnpm bench:render` does it alone)
#   --dry-run           print the commands instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

only=""
render=1
dry=0
run() { if [[ $dry == 1 ]]; then echo "$*"; else "$@"; fi; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) only="${2:?--only needs benchmark ids}"; shift 2 ;;
    --only=*) only="${1#*=}"; shift ;;
    --no-render) render=0; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if [[ -z $only ]]; then
  run pnpm exec turbo run bench --concurrency=1
else
  declare -A names=()
  order=()
  for id in ${only//,/ }; do
    pkg=${id%%.*}
    [[ -d packages/$pkg ]] || { echo "bench: no package '$pkg' for '$id' (ids are <package>.<bench>)" >&2; exit 2; }
    [[ -v names[$pkg] ]] || { order+=("$pkg"); names[$pkg]=""; }
    [[ $id == *.* ]] && names[$pkg]+="${names[$pkg]:+,}${id#*.}"
  done
  for pkg in "${order[@]}"; do
    args=()
    # The cluster package has one benchmark (cluster.up) and takes no --only.
    [[ -n ${names[$pkg]} && $pkg != cluster ]] && args=(-- --only "${names[$pkg]}")
    run pnpm exec turbo run bench --concurrency=1 "--filter=@npl/$pkg" "${args[@]}"
  done
fi

if [[ $render == 1 ]]; then
  run pnpm run bench:render
fi
