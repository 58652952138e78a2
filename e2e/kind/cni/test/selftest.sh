#!/usr/bin/env bash
# selftest.sh — end-to-end test of one CNI on a throw-away kind cluster:
#   selftest.sh --cni flannel|kube-router --slot S [--name NAME] [--workers N] [--keep]
#
# 1. creates a kind cluster (e2e/kind/create-cluster.sh; name default npl-cni-<cni>-S) and
#    installs the CNI with install.sh (every node Ready, cross-node pod-to-pod TCP);
# 2. check.sh --full: cross-node pod-to-pod, the echo Service by ClusterIP and DNS, the API server
#    through the kubernetes Service, from a pod on every node;
# 3. `docker restart` of the first worker's node container: the node reports Ready again after
#    its kubelet came back, the CNI's pod on it is Ready again, and check.sh --full passes again
#    with pods created after the restart;
# 4. deletes the cluster (unless --keep), also when a step failed (logs go to
#    $NPL_CNI_TEST_LOG_DIR when set, via e2e/kind/export-logs.sh).
# Prints "ok - ..."/"not ok - ..." per step, the durations, and a closing line
# "N passed, N failed" (stdout). Exit 0 only when every step passed.
# Creates namespaces, containers and a Docker network: run it under the machine-wide lock
#   flock /tmp/npl-root-tests.lock bash e2e/kind/cni/test/selftest.sh --cni flannel --slot 2
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cni_dir="$(cd "$here/.." && pwd)"
repo_root="$(cd "$cni_dir/../../.." && pwd)"
# e2e/kind's scripts (create-cluster.sh, delete-cluster.sh, node-image.sh, export-logs.sh);
# NPL_KIND_SCRIPTS_DIR points at another checkout's copy.
kind_dir="${NPL_KIND_SCRIPTS_DIR:-$(cd "$cni_dir/.." && pwd)}"
[[ -f "$kind_dir/create-cluster.sh" ]] || { printf 'error: %s\n' "$kind_dir/create-cluster.sh is missing (set NPL_KIND_SCRIPTS_DIR)" >&2; exit 2; }
log() { printf 'npl-cni-selftest: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

cni="" slot="" name="" workers=1 keep=0
while (($#)); do
  case "$1" in
    --cni) cni="${2:-}"; shift 2 ;;
    --slot) slot="${2:-}"; shift 2 ;;
    --name) name="${2:-}"; shift 2 ;;
    --workers) workers="${2:-}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
case "$cni" in flannel|kube-router) ;; *) die "--cni must be flannel or kube-router, got '$cni'" ;; esac
[[ "$slot" =~ ^[0-7]$ ]] || die "--slot must be 0..7, got '$slot'"
[[ "$workers" =~ ^[1-3]$ ]] || die "--workers must be 1..3 (the restart step needs a worker), got '$workers'"
name="${name:-npl-cni-$cni-$slot}"

# shellcheck source=/dev/null
source "$repo_root/scripts/docker.sh" && npl_ensure_docker >&2
if [[ -z "${NPL_KUBECTL:-}" ]]; then
  NPL_KUBECTL="$(bash "$repo_root/packages/cluster/scripts/build-binaries.sh" | sed -n 's/^NPL_KUBECTL=//p')"
fi
export NPL_KUBECTL
if [[ -z "${NPL_KIND:-}" || -z "${NPL_KIND_NODE_IMAGE:-}" ]]; then
  while IFS='=' read -r key val; do
    case "$key" in NPL_KIND) NPL_KIND="$val" ;; NPL_KIND_NODE_IMAGE) NPL_KIND_NODE_IMAGE="$val" ;; esac
  done < <(bash "$kind_dir/node-image.sh")
fi
export NPL_KIND NPL_KIND_NODE_IMAGE

passed=0 failed=0
declare -a timings=()
ok() { passed=$((passed + 1)); printf 'ok - %s\n' "$*"; }
not_ok() { failed=$((failed + 1)); printf 'not ok - %s\n' "$*"; }
finish() {
  local rc=$?
  if ((failed > 0 || rc != 0)) && [[ -n "${NPL_CNI_TEST_LOG_DIR:-}" ]]; then
    bash "$kind_dir/export-logs.sh" --name "$name" "$NPL_CNI_TEST_LOG_DIR/$name" >&2 || log "export-logs.sh failed"
  fi
  if ((keep == 0)); then
    bash "$kind_dir/delete-cluster.sh" --name "$name" --slot "$slot" >&2 || log "warning: delete-cluster.sh failed"
  fi
  printf '%s\n' "${timings[@]}"
  printf '%d passed, %d failed\n' "$passed" "$((failed + (rc != 0 && failed == 0 ? 1 : 0)))"
}
trap finish EXIT
trap 'log "command failed (line $LINENO): $BASH_COMMAND"' ERR

t0=$SECONDS
out="$(bash "$kind_dir/create-cluster.sh" --name "$name" --slot "$slot" --workers "$workers")" \
  || { not_ok "create kind cluster $name"; exit 1; }
kubeconfig="$(sed -n 's/^KUBECONFIG=//p' <<<"$out")"
read -r -a nodes <<<"$(sed -n 's/^NPL_KIND_NODES=//p' <<<"$out")"
timings+=("time: create cluster $((SECONDS - t0))s")
k() { "$NPL_KUBECTL" --kubeconfig "$kubeconfig" "$@"; }

t0=$SECONDS
if bash "$cni_dir/install.sh" --kubeconfig "$kubeconfig" --cni "$cni" --name "$name" --slot "$slot"; then
  ok "$cni installed: every node Ready, cross-node pod-to-pod TCP"
else
  not_ok "$cni installed: every node Ready, cross-node pod-to-pod TCP"; exit 1
fi
timings+=("time: install $cni $((SECONDS - t0))s")
image="$(k -n "$([[ $cni == flannel ]] && echo kube-flannel || echo kube-system)" get daemonset \
  "$([[ $cni == flannel ]] && echo kube-flannel-ds || echo kube-router)" -o jsonpath='{.spec.template.spec.containers[0].image}')"

t0=$SECONDS
if bash "$cni_dir/check.sh" --kubeconfig "$kubeconfig" --image "$image" --full --timeout 180; then
  ok "pods reach pods on other nodes, a ClusterIP Service (IP and DNS) and the API server"
else
  not_ok "pods reach pods on other nodes, a ClusterIP Service (IP and DNS) and the API server"
fi
timings+=("time: full check $((SECONDS - t0))s")

# ---------------------------------------------------------------- node restart
worker="${nodes[1]}"
node_name="$worker" # kind names the Node after its container
case "$cni" in flannel) sel=(-n kube-flannel -l app=flannel) ;; kube-router) sel=(-n kube-system -l k8s-app=kube-router) ;; esac
cni_pod_state() { # "<ready> <restartCount>" of the CNI's pod on the worker
  k get pods "${sel[@]}" --field-selector "spec.nodeName=$node_name" \
    -o jsonpath='{range .items[*]}{.status.containerStatuses[0].ready} {.status.containerStatuses[0].restartCount}{end}' 2>/dev/null || true
}
restarts_before="$(cni_pod_state | awk '{print $2}')"
[[ "$restarts_before" =~ ^[0-9]+$ ]] || die "no $cni pod found on $node_name before the restart"
before="$(date -u +%s)"
t0=$SECONDS
docker restart "$worker" >/dev/null || { not_ok "docker restart $worker"; exit 1; }
# Ready again = Ready=True reported by a kubelet that started after the restart (a Ready from
# before the restart stays in the API until the lease times out, so it proves nothing).
deadline=$((SECONDS + 240)) back=0
while ((SECONDS < deadline)); do
  # (a here-string: jsonpath prints no newline, and read would fail at EOF under set -e)
  read -r status beat <<<"$(k get node "$node_name" -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.lastHeartbeatTime}{end}' 2>/dev/null || echo "unknown x")"
  beat="${beat:-x}"
  if [[ "$status" == True && "$beat" != x ]] && (($(date -u -d "$beat" +%s 2>/dev/null || echo 0) >= before)); then back=1; break; fi
  sleep 2
done
if ((back)); then ok "node $node_name Ready again after docker restart ($((SECONDS - t0))s)"; else not_ok "node $node_name Ready again after docker restart"; fi
timings+=("time: node Ready after restart $((SECONDS - t0))s")

deadline=$((SECONDS + 180)) cni_ready=0
while ((SECONDS < deadline)); do
  r="$(cni_pod_state)"
  # The node's restart killed the CNI's container: ready again with a higher restart count.
  if [[ "$r" =~ ^true\ ([0-9]+)$ ]] && ((BASH_REMATCH[1] > restarts_before)); then cni_ready=1; break; fi
  sleep 2
done
if ((cni_ready)); then ok "$cni pod on $node_name restarted and Ready"; else not_ok "$cni pod on $node_name restarted and Ready (state: '${r:-none}')"; fi

t0=$SECONDS
if bash "$cni_dir/check.sh" --kubeconfig "$kubeconfig" --image "$image" --full --timeout 240; then
  ok "after the restart: pod-to-pod across nodes, ClusterIP Service and API server"
else
  not_ok "after the restart: pod-to-pod across nodes, ClusterIP Service and API server"
fi
timings+=("time: full check after restart $((SECONDS - t0))s")
((failed == 0))
