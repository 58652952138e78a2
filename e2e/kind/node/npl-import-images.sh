#!/bin/bash
# npl-import-images.sh — run once per boot by npl-import-images.service: waits for containerd, then
# imports /kind/images/*.tar into its k8s.io namespace unless this tarball was already imported
# into this node's /var (a restarted node keeps its /var volume).
set -euo pipefail
for _ in $(seq 1 120); do ctr version >/dev/null 2>&1 && break; sleep 0.5; done
ctr version >/dev/null || { echo "containerd did not answer within 60 s" >&2; exit 1; }
snapshotter="$(sed -n 's/^[[:space:]]*snapshotter = "\(.*\)"/\1/p' /etc/containerd/config.toml | head -n1)"
for tar in /kind/images/*.tar; do
  [[ -e "$tar" ]] || continue
  marker="/var/lib/containerd/.npl-imported-$(basename "$tar" .tar)-$(stat -c %s-%Y "$tar")"
  [[ -e "$marker" ]] && continue
  ctr --namespace=k8s.io images import --digests --snapshotter="${snapshotter:-overlayfs}" "$tar"
  touch "$marker"
done
