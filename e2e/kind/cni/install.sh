#!/usr/bin/env bash
# install.sh — install a third-party CNI into a kind cluster made by e2e/kind/create-cluster.sh:
#   install.sh --kubeconfig FILE --cni flannel|kube-router --name NAME --slot S [--timeout SECONDS]
#
# 1. builds (or reuses) the CNI's image with build.sh and loads it into the cluster's nodes
#    (kind load docker-image --name NAME);
# 2. checks that every node's spec.podCIDR lies in the slot's pod range 198.18.(96+4S).0/22;
# 3. applies our manifest (<cni>/manifest.yaml, image and pod range filled in);
# 4. waits until the CNI's DaemonSet is rolled out, every node is Ready, and a pod on each node
#    reaches a pod on every other node over TCP (check.sh; its namespace is deleted afterwards).
# Exit 0 when steps 2-4 hold within --timeout (default 300 s, NPL_CNI_INSTALL_TIMEOUT) of the image
# being loaded, else "error: ..." on stderr and non-zero. Building the image is not counted: the
# first build on a machine compiles the CNI from Go modules and takes minutes. Progress on stderr; stdout stays empty.
#
# Environment: NPL_FLANNEL_BACKEND (flannel's backend: vxlan, the default, or host-gw),
# NPL_KIND (kind binary; else kind on PATH), NPL_KUBECTL (else the repository's cluster kubectl
# from packages/cluster/scripts/build-binaries.sh, else kubectl on PATH), DOCKER_HOST (here the
# shared engine: scripts/docker.sh is sourced when DOCKER_HOST is unset and it exists).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../../.." && pwd)"
log() { printf 'npl-cni: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

kubeconfig="" cni="" name="" slot="" timeout="${NPL_CNI_INSTALL_TIMEOUT:-300}"
while (($#)); do
  case "$1" in
    --kubeconfig|--cni|--name|--slot|--timeout)
      [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"
      case "$1" in
        --kubeconfig) kubeconfig="$2" ;; --cni) cni="$2" ;; --name) name="$2" ;;
        --slot) slot="$2" ;; --timeout) timeout="$2" ;;
      esac
      shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n "$kubeconfig" ]] || die "--kubeconfig is required"
[[ -f "$kubeconfig" ]] || die "--kubeconfig: '$kubeconfig' is not a file"
case "$cni" in flannel|kube-router) ;; "") die "--cni is required (flannel or kube-router)" ;;
  *) die "--cni must be flannel or kube-router, got '$cni'" ;; esac
[[ -n "$name" ]] || die "--name is required (the kind cluster's name)"
[[ "$slot" =~ ^[0-7]$ ]] || die "--slot must be 0..7, got '${slot}'"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number of seconds, got '$timeout'"
flannel_backend="${NPL_FLANNEL_BACKEND:-vxlan}"
case "$flannel_backend" in vxlan|host-gw) ;;
  *) die "NPL_FLANNEL_BACKEND must be vxlan or host-gw, got '$flannel_backend'" ;; esac
start=$SECONDS
deadline=$((SECONDS + timeout)) # set again once the image is loaded
left() { local l=$((deadline - SECONDS)); ((l > 0)) && echo "$l" || echo 1; }

# ------------------------------------------------------------------ tools
if [[ -z "${DOCKER_HOST:-}" && -f "$repo_root/scripts/docker.sh" ]]; then
  # shellcheck source=/dev/null
  source "$repo_root/scripts/docker.sh" && npl_ensure_docker >&2 || die "cannot reach a Docker engine (scripts/docker.sh)"
fi
kind_bin="${NPL_KIND:-$(command -v kind || true)}"
[[ -n "$kind_bin" && -x "$kind_bin" ]] || die "kind not found: set NPL_KIND (e2e/kind/node-image.sh prints it) or put kind on PATH"
if [[ -z "${NPL_KUBECTL:-}" && -f "$repo_root/packages/cluster/scripts/build-binaries.sh" ]] && command -v go >/dev/null 2>&1; then
  # The repository's kubectl: the same Kubernetes version as the nodes (cached after the first build).
  NPL_KUBECTL="$(bash "$repo_root/packages/cluster/scripts/build-binaries.sh" | sed -n 's/^NPL_KUBECTL=//p')" || true
fi
kubectl_bin="${NPL_KUBECTL:-$(command -v kubectl || true)}"
[[ -n "$kubectl_bin" && -x "$kubectl_bin" ]] || die "kubectl not found: set NPL_KUBECTL or put kubectl on PATH"
export NPL_KUBECTL="$kubectl_bin"
k() { "$kubectl_bin" --kubeconfig "$kubeconfig" "$@"; }

"$kind_bin" get clusters 2>/dev/null | grep -qx "$name" || die "kind has no cluster named '$name' (create it with e2e/kind/create-cluster.sh)"
k get --raw /readyz >/dev/null 2>&1 || die "the API server in $kubeconfig does not answer /readyz"

# ------------------------------------------------------------------ pod range
pod_cidr="198.18.$((96 + 4 * slot)).0/22"
lo=$((96 + 4 * slot)) hi=$((96 + 4 * slot + 3))
mapfile -t node_cidrs < <(k get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR}{"\n"}{end}')
((${#node_cidrs[@]} > 0)) || die "the cluster has no nodes"
for line in "${node_cidrs[@]}"; do
  read -r node cidr <<<"$line"
  [[ -n "${cidr:-}" ]] || die "node $node has no spec.podCIDR: the cluster must allocate node CIDRs (kind's podSubnet $pod_cidr)"
  [[ "$cidr" =~ ^198\.18\.([0-9]+)\.0/2[4-9]$ ]] && ((BASH_REMATCH[1] >= lo && BASH_REMATCH[1] <= hi)) \
    || die "node $node has spec.podCIDR $cidr, outside slot $slot's pod range $pod_cidr (create the cluster with --slot $slot)"
done

# ------------------------------------------------------------------ image
image="$(bash "$here/build.sh" --cni "$cni" | sed -n 's/^NPL_CNI_IMAGE=//p')"
[[ -n "$image" ]] || die "build.sh --cni $cni printed no image"
t0=$SECONDS
log "loading $image into the nodes of $name"
"$kind_bin" load docker-image --name "$name" "$image" >&2 || die "kind load docker-image $image into $name failed"
log "loaded in $((SECONDS - t0))s"
deadline=$((SECONDS + timeout))

# ------------------------------------------------------------------ manifests
manifest="$here/$cni/manifest.yaml"
[[ -f "$manifest" ]] || die "missing $manifest"
sed -e "s|@NPL_CNI_IMAGE@|$image|g" -e "s|@NPL_POD_CIDR@|$pod_cidr|g" \
  -e "s|@NPL_FLANNEL_BACKEND@|$flannel_backend|g" "$manifest" | k apply -f - >&2 \
  || die "kubectl apply of $manifest failed"
case "$cni" in
  flannel) ds_ns=kube-flannel ds=kube-flannel-ds ;;
  kube-router) ds_ns=kube-system ds=kube-router ;;
esac

# ------------------------------------------------------------------ wait
log "waiting for daemonset $ds_ns/$ds"
k -n "$ds_ns" rollout status "daemonset/$ds" --timeout="$(left)s" >&2 \
  || { k -n "$ds_ns" get pods -o wide >&2 || true; die "daemonset $ds_ns/$ds was not rolled out within ${timeout}s"; }
log "waiting for every node to be Ready"
k wait --for=condition=Ready nodes --all --timeout="$(left)s" >/dev/null \
  || { k get nodes -o wide >&2 || true; die "not every node became Ready within ${timeout}s after installing $cni"; }
log "checking pod-to-pod traffic between the nodes"
bash "$here/check.sh" --kubeconfig "$kubeconfig" --image "$image" --timeout "$(left)" \
  || die "$cni is installed but pods on different nodes cannot reach each other (see above)"
log "$cni is ready in $name: $((SECONDS - start))s"
