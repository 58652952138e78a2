#!/usr/bin/env bash
# export-logs.sh --name NAME DIR
#
# Writes what explains a failed run of cluster NAME into DIR (created if needed):
#   DIR/kind/          `kind export logs` (each node's journal, kubelet and containerd logs,
#                      every container's log, inspect output)
#   DIR/kubectl/       nodes, pods, events, DaemonSets and Deployments of every namespace
#                      (`kubectl get -o wide` and `describe`), when the API server answers
# Best effort: a missing cluster or an unreachable API server is reported on stderr, not an error.
# Prints DIR=/abs/path on stdout.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

name="" dir=""
while (($#)); do
  case "$1" in
    --name) name="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    -*) kind_die "unknown argument '$1' (see --help)" ;;
    *) [[ -z "$dir" ]] || kind_die "only one DIR, got '$dir' and '$1'"; dir="$1"; shift ;;
  esac
done
kind_name_check "$name"
[[ -n "$dir" ]] || kind_die "give the output directory: export-logs.sh --name NAME DIR"
mkdir -p "$dir/kind" "$dir/kubectl"
dir="$(cd "$dir" && pwd -P)"
kind_docker

kind="$(kind_tool)"
if "$kind" get clusters 2>/dev/null | grep -qx "$name"; then
  "$kind" export logs --name "$name" "$dir/kind" >&2 || kind_log "kind export logs $name failed (partial logs in $dir/kind)"
else
  kind_log "no kind cluster named $name: nothing for kind to export"
fi

kubeconfig="$(kind_state_dir)/$name.kubeconfig"
kubectl_bin="$(command -v kubectl || bash "$kind_repo/packages/cluster/scripts/build-binaries.sh" 2>/dev/null | sed -n 's/^NPL_KUBECTL=//p')"
k() { timeout 30 "$kubectl_bin" --kubeconfig "$kubeconfig" --request-timeout=20s "$@"; }
if [[ -f "$kubeconfig" ]] && k get --raw /readyz >/dev/null 2>&1; then
  k get nodes -o wide >"$dir/kubectl/nodes.txt" 2>&1 || true
  k describe nodes >"$dir/kubectl/nodes-describe.txt" 2>&1 || true
  k get pods -A -o wide >"$dir/kubectl/pods.txt" 2>&1 || true
  k describe pods -A >"$dir/kubectl/pods-describe.txt" 2>&1 || true
  k get events -A --sort-by=.lastTimestamp >"$dir/kubectl/events.txt" 2>&1 || true
  k get daemonsets,deployments,services,endpointslices -A -o wide >"$dir/kubectl/workloads.txt" 2>&1 || true
else
  kind_log "the API server of $name does not answer (kubeconfig $kubeconfig): no kubectl logs"
fi
kind_log "logs of $name in $dir"
printf 'DIR=%s\n' "$dir"
