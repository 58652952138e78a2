#!/usr/bin/env bash
# `pnpm e2e`: the e2e scenario suite on one driver, under the machine-wide test lock.
#
#   pnpm e2e [--driver kind|local] [--cni flannel|kube-router|all] [--slot S] [--keep] [-- JEST ARGS]
#
#   --driver  kind (default): a kind cluster with a real CNI, our images, `helm install` of
#             charts/npl; needs a Docker engine (as root on Debian, scripts/docker.sh starts one).
#             local: the local cluster (network namespaces, agents from the build); needs root.
#   --cni     kind only: flannel (default), kube-router, or all (one after the other).
#   --slot    kind only: address slot 0-7 (docker network npl-kind-S, 198.18.(64+S).0/24);
#             default: 0 for flannel, 6 for kube-router.
#   --keep    kind only: keep the cluster afterwards (NPL_E2E_KEEP=1); delete it with
#             e2e/kind/delete-cluster.sh --name NAME --slot S.
# The same options as variables: NPL_E2E_DRIVER, NPL_E2E_CNI, NPL_E2E_SLOT, NPL_E2E_KEEP.
# On failure the cluster's logs are in .test-results/e2e/<driver>/logs; phase durations of every
# run in .test-results/e2e/<driver>/timings.json. `bash scripts/test-all.sh` runs every driver file.
set -uo pipefail
cd "$(dirname "$0")/.."

driver="${NPL_E2E_DRIVER:-kind}" cni="${NPL_E2E_CNI:-flannel}" slot="${NPL_E2E_SLOT:-}"
jest_args=()
usage() { sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }
while (($#)); do
  case "$1" in
    --driver) driver="${2:-}"; shift 2 ;;
    --cni) cni="${2:-}"; shift 2 ;;
    --slot) slot="${2:-}"; shift 2 ;;
    --keep) export NPL_E2E_KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; jest_args=("$@"); break ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

files=()
case "$driver" in
  local) files=(e2e/test/local.e2e.test.ts) ;;
  kind)
    case "$cni" in
      flannel|kube-router) files=("e2e/test/kind-$cni.e2e.test.ts") ;;
      all) files=(e2e/test/kind-flannel.e2e.test.ts e2e/test/kind-kube-router.e2e.test.ts) ;;
      *) die "--cni must be flannel, kube-router or all, got '$cni'" ;;
    esac ;;
  *) die "--driver must be kind or local, got '$driver'" ;;
esac
if [ -n "$slot" ]; then
  [[ "$slot" =~ ^[0-7]$ ]] || die "--slot must be 0..7, got '$slot'"
  export NPL_E2E_SLOT="$slot"
fi

# shellcheck source=../scripts/bootstrap.sh
source scripts/bootstrap.sh
if [ "$driver" = local ]; then
  npl_bootstrap && npl_ensure_cluster_binaries || exit 1
  pnpm exec turbo run build --output-logs=errors-only || exit 1
else
  # kind needs no nftables or network namespaces on this host: Node, pnpm, helm, kubectl, Docker.
  npl_ensure_node && npl_ensure_pnpm && npl_ensure_deps && npl_ensure_helm || exit 1
  if command -v kubectl >/dev/null 2>&1; then export NPL_KUBECTL="${NPL_KUBECTL:-$(command -v kubectl)}"; else npl_ensure_cluster_binaries || exit 1; fi
fi

# One file at a time (a kind cluster is heavy), under the lock every cluster test takes.
exec flock /tmp/npl-root-tests.lock node --experimental-vm-modules node_modules/jest/bin/jest.js --ci --runInBand "${files[@]}" "${jest_args[@]}"
