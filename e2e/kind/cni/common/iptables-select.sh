#!/bin/sh
# npl-iptables-select COMMAND [ARG...]: point iptables at the backend the node already uses, then
# exec COMMAND. Same rule as kubernetes-sigs/iptables-wrappers: when the legacy tables hold
# kubelet's or kube-proxy's chains (KUBE-IPTABLES-HINT, KUBE-KUBELET-CANARY) and the nft tables
# hold none, use legacy; otherwise nft (Debian's default). Mixing backends on one node splits the
# rules between two tables that both see every packet.
set -eu
hint='KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY'
mode=nft
if ! { iptables-nft-save -t mangle 2>/dev/null; ip6tables-nft-save -t mangle 2>/dev/null; } | grep -Eq ":($hint)"; then
  if { iptables-legacy-save 2>/dev/null; ip6tables-legacy-save 2>/dev/null; } | grep -Eq ":($hint)"; then
    mode=legacy
  fi
fi
for t in iptables ip6tables; do
  update-alternatives --quiet --set "$t" "/usr/sbin/$t-$mode" >/dev/null
done
echo "npl-iptables-select: using iptables-$mode" >&2
exec "$@"
