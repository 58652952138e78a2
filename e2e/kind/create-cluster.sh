#!/usr/bin/env bash
# create-cluster.sh --name NAME --slot S [--workers N] [--kube-proxy-mode iptables|nftables]
#
# Creates the docker network npl-kind-S (198.18.(64+S).0/24, masquerade off, bridge npl-kind-S)
# and a kind cluster NAME on it: one control plane and N workers (default 1, at most 3: the slot's
# pod range is a /22 with a /24 per node), no CNI (e2e/kind/cni/install.sh adds one), pod CIDR
# 198.18.(96+4S).0/22, Service CIDR 198.18.(80+S).0/24, kube-proxy in iptables (default) or
# nftables mode, the cgroup v1 and oom_score_adj adaptations (harmless on other hosts).
# A cluster of the same name left over from an earlier run is deleted first.
# Waits until the API server answers and every node has registered (they stay NotReady until a
# CNI is installed), then prints (stdout):
#   KUBECONFIG=/abs/path
#   NPL_KIND_NODES=<node container names, space separated, control plane first>
# On failure the cluster is kept (kind --retain) for export-logs.sh; delete-cluster.sh removes it.
#
# Environment: NPL_KIND and NPL_KIND_NODE_IMAGE (else node-image.sh is run to get them),
# NPL_KIND_STATE_DIR (kubeconfigs; default ~/.cache/npl/kind/clusters),
# NPL_KIND_CREATE_TIMEOUT (seconds to wait for the API server and nodes, default 300).
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

name="" slot="" workers=1 proxy_mode=iptables
while (($#)); do
  case "$1" in
    --name) name="${2:-}"; shift 2 ;;
    --slot) slot="${2:-}"; shift 2 ;;
    --workers) workers="${2:-}"; shift 2 ;;
    --kube-proxy-mode) proxy_mode="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    *) kind_die "unknown argument '$1' (see --help)" ;;
  esac
done
kind_name_check "$name"
kind_slot_check "$slot"
[[ "$workers" =~ ^[0-3]$ ]] || kind_die "--workers must be 0..3 (the slot's pod range holds 4 nodes), got '$workers'"
[[ "$proxy_mode" == iptables || "$proxy_mode" == nftables ]] || kind_die "--kube-proxy-mode must be iptables or nftables, got '$proxy_mode'"
timeout_s="${NPL_KIND_CREATE_TIMEOUT:-300}"
start=$SECONDS

kind_docker
if [[ -z "${NPL_KIND:-}" || -z "${NPL_KIND_NODE_IMAGE:-}" ]]; then
  while IFS='=' read -r k val; do
    case "$k" in NPL_KIND) NPL_KIND="$val" ;; NPL_KIND_NODE_IMAGE) NPL_KIND_NODE_IMAGE="$val" ;; esac
  done < <(bash "$kind_here/node-image.sh")
fi
[[ -x "$NPL_KIND" ]] || kind_die "NPL_KIND=$NPL_KIND is not an executable"
kind="$NPL_KIND"

# ---------------------------------------------------------------- network
net="$(kind_network "$slot")" subnet="$(kind_subnet "$slot")"
if have="$(docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' "$net" 2>/dev/null)"; then
  [[ "$have" == *"$subnet"* ]] || kind_die "docker network $net exists with subnet '$have', expected $subnet; delete it (delete-cluster.sh --slot $slot) first"
else
  kind_log "creating docker network $net ($subnet, no masquerade)"
  docker network create --driver bridge --subnet "$subnet" --gateway "${subnet%.0/24}.1" \
    -o com.docker.network.bridge.enable_ip_masquerade=false -o com.docker.network.bridge.name="$net" \
    --label npl.kind.slot="$slot" "$net" >/dev/null \
    || docker network inspect "$net" >/dev/null 2>&1 || kind_die "cannot create docker network $net"
fi

# ---------------------------------------------------------------- cluster
if "$kind" get clusters 2>/dev/null | grep -qx "$name"; then
  kind_log "deleting the leftover cluster $name"
  "$kind" delete cluster --name "$name" >&2
fi
state="$(kind_state_dir)"
kubeconfig="$state/$name.kubeconfig"
config="$state/$name.kind.yaml"
rm -f "$kubeconfig"
{
  cat <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: $name
networking:
  disableDefaultCNI: true
  podSubnet: $(kind_pod_cidr "$slot")
  serviceSubnet: $(kind_service_cidr "$slot")
  kubeProxyMode: $proxy_mode
  apiServerAddress: 127.0.0.1
nodes:
- role: control-plane
  labels: {npl.test/slot: "$slot"}
YAML
  for ((i = 0; i < workers; i++)); do printf -- '- role: worker\n  labels: {npl.test/slot: "%s"}\n' "$slot"; done
  cat <<'YAML'
# containerd may not ask for a negative oom_score_adj where the sandbox forbids it (see README.md)
containerdConfigPatches:
- |-
  [plugins."io.containerd.grpc.v1.cri"]
    restrict_oom_score_adj = true
kubeadmConfigPatches:
# Kubernetes >= 1.35 refuses cgroup v1 unless told otherwise; some hosts (this one) have only v1.
- |
  kind: KubeletConfiguration
  failCgroupV1: false
YAML
} >"$config"

kind_log "creating kind cluster $name (1 control plane + $workers workers, kube-proxy $proxy_mode, $NPL_KIND_NODE_IMAGE) on $net"
t0=$SECONDS
KIND_EXPERIMENTAL_DOCKER_NETWORK="$net" "$kind" create cluster --name "$name" --config "$config" \
  --image "$NPL_KIND_NODE_IMAGE" --kubeconfig "$kubeconfig" --retain >&2 \
  || kind_die "kind create cluster $name failed (kept for export-logs.sh; delete-cluster.sh --name $name --slot $slot removes it)"
kind_log "kind create cluster took $(( SECONDS - t0 ))s"

# ---------------------------------------------------------------- wait
mapfile -t nodes < <("$kind" get nodes --name "$name" | sort | awk '/-control-plane$/{print; next} {w[++n]=$0} END{for(i=1;i<=n;i++) print w[i]}')
(( ${#nodes[@]} == workers + 1 )) || kind_die "kind reports ${#nodes[@]} nodes for $name (${nodes[*]}), expected $((workers + 1))"
kubectl_bin="$(command -v kubectl || true)"
if [[ -z "$kubectl_bin" ]]; then kubectl_bin="$(bash "$kind_repo/packages/cluster/scripts/build-binaries.sh" | sed -n 's/^NPL_KUBECTL=//p')"; fi
deadline=$((SECONDS + timeout_s))
until "$kubectl_bin" --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1; do
  (( SECONDS < deadline )) || kind_die "the API server of $name did not become ready within ${timeout_s}s"
  sleep 1
done
until [[ "$("$kubectl_bin" --kubeconfig "$kubeconfig" get nodes --no-headers 2>/dev/null | wc -l)" -eq ${#nodes[@]} ]]; do
  (( SECONDS < deadline )) || kind_die "not every node of $name registered within ${timeout_s}s"
  sleep 1
done
kind_log "cluster $name up in $(( SECONDS - start ))s: ${nodes[*]}"
printf 'KUBECONFIG=%s\nNPL_KIND_NODES=%s\n' "$kubeconfig" "${nodes[*]}"
