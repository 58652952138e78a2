#!/usr/bin/env bash
# test-cni.sh --name NAME — a trivial CNI for testing the kind scripts without a real CNI (the real
# ones are e2e/kind/cni/install.sh's): on every node, a bridge + host-local conflist for the node's
# spec.podCIDR (the bridge is the pods' gateway, no masquerade), and a route to every other node's
# pod range via that node's IP. Idempotent: run it again after a node restarts (its routes and
# bridge are gone with its network namespace). Prints nothing on stdout.
set -euo pipefail
# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

name=""
while (($#)); do
  case "$1" in
    --name) name="${2:-}"; shift 2 ;;
    *) kind_die "unknown argument '$1' (usage: test-cni.sh --name NAME)" ;;
  esac
done
kind_name_check "$name"
kind_docker
kubeconfig="$(kind_state_dir)/$name.kubeconfig"
kubectl_bin="$(command -v kubectl || bash "$kind_repo/packages/cluster/scripts/build-binaries.sh" | sed -n 's/^NPL_KUBECTL=//p')"
# name podCIDR internalIP, one line per node
mapfile -t rows < <("$kubectl_bin" --kubeconfig "$kubeconfig" get nodes -o \
  jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')
((${#rows[@]})) || kind_die "no nodes in cluster $name"
for row in "${rows[@]}"; do
  read -r node cidr _ <<<"$row"
  [[ -n "$cidr" ]] || kind_die "node $node has no spec.podCIDR yet"
  docker exec -i "$node" sh -c 'mkdir -p /etc/cni/net.d && cat > /etc/cni/net.d/10-npl-test.conflist' <<JSON
{
  "cniVersion": "1.0.0",
  "name": "npl-test",
  "plugins": [
    {"type": "bridge", "bridge": "npl-test0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$cidr"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  for other in "${rows[@]}"; do
    read -r onode ocidr oip <<<"$other"
    [[ "$onode" == "$node" ]] && continue
    docker exec "$node" ip route replace "$ocidr" via "$oip"
  done
done
kind_log "test CNI (bridge + host-local + routes) configured on ${#rows[@]} nodes of $name"
