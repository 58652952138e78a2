#!/bin/bash
# setup-node.sh — runs once inside the node image build (a RUN step of node-image.sh's Dockerfile):
# what kind's images/base/Dockerfile and `kind build node-image` do to a base image, adapted to a
# Debian rootfs with Debian's containerd and runc and to this sandbox (see README.md).
# Arguments: KUBERNETES_VERSION PAUSE_IMAGE
set -euo pipefail
k8s_version="$1" pause_image="$2"

chmod 755 /kind /kind/bin
# kind's service clean-up (images/base/Dockerfile)
find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
  /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
  /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >> /etc/systemd/journald.conf
ln -sf /usr/lib/systemd/systemd /sbin/init

# kind's units run /usr/local/bin/containerd; Debian installs it in /usr/bin.
for b in containerd containerd-shim containerd-shim-runc-v2 ctr; do
  [[ -x "/usr/bin/$b" ]] && ln -sf "/usr/bin/$b" "/usr/local/bin/$b"
done

systemctl enable kubelet.service containerd.service undo-mount-hacks.service npl-import-images.service
systemctl mask systemd-binfmt.service
mkdir -p /etc/kubernetes/manifests /opt/cni/bin /etc/cni/net.d

# kind's OCI base spec: `ctr oci spec` with its createContainer hook and without rlimits.
ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json

# containerd: our pause image; restrict_oom_score_adj because no process may lower oom_score_adj
# below 0 here (harmless elsewhere: it only caps what containerd asks for at its own value).
sed -i -e "s|^\([[:space:]]*sandbox_image = \).*|\1\"$pause_image\"|" \
  -e 's|restrict_oom_score_adj = false|restrict_oom_score_adj = true|' /etc/containerd/config.toml
grep -q "sandbox_image = \"$pause_image\"" /etc/containerd/config.toml
grep -q 'restrict_oom_score_adj = true' /etc/containerd/config.toml

echo "$k8s_version" > /kind/version
containerd --version; runc --version | head -n1; kubelet --version; crictl --version
