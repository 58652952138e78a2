#!/bin/sh
# npl-install-cni CONF_NAME [PLUGIN...]: run in an init container with the node's /opt/cni/bin at
# /host/opt/cni/bin, its /etc/cni/net.d at /host/etc/cni/net.d and the CNI config at
# /etc/npl-cni/cni-conf.json.
# - PLUGIN... (binaries of this image's /opt/cni-plugins) are always installed: they belong to this
#   CNI. The reference plugins it delegates to (bridge, host-local, loopback, portmap) are installed
#   only where the node has none, so a node image's own copies are kept.
# - The config is written as /host/etc/cni/net.d/CONF_NAME unless NPL_CNI_CONF_KEEP=1 and the file
#   exists (kube-router writes the node's pod CIDR into its file and must keep it).
# Every file is written to a temporary name and renamed, so kubelet never reads half a file.
set -eu
conf_name="$1"; shift
src=/opt/cni-plugins bin=/host/opt/cni/bin netd=/host/etc/cni/net.d
[ -d "$bin" ] && [ -d "$netd" ] || { echo "error: $bin and $netd must be mounted" >&2; exit 1; }
install_file() { # src dest mode
  cp "$1" "$2.npl-tmp.$$" && chmod "$3" "$2.npl-tmp.$$" && mv -f "$2.npl-tmp.$$" "$2"
}
for p in "$@"; do
  install_file "$src/$p" "$bin/$p" 0755
  echo "installed $bin/$p" >&2
done
for p in bridge host-local loopback portmap; do
  if [ ! -x "$bin/$p" ]; then
    install_file "$src/$p" "$bin/$p" 0755
    echo "installed $bin/$p (the node had none)" >&2
  fi
done
if [ "${NPL_CNI_CONF_KEEP:-0}" = 1 ] && [ -f "$netd/$conf_name" ]; then
  echo "kept $netd/$conf_name" >&2
else
  install_file /etc/npl-cni/cni-conf.json "$netd/$conf_name" 0644
  echo "wrote $netd/$conf_name" >&2
fi
