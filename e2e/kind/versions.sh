# shellcheck shell=bash
# versions.sh — the one place where the kind toolchain's versions are pinned. Sourced by the
# scripts in e2e/kind; bump a value here and the next node-image.sh rebuilds what depends on it
# (every cache key below includes the versions it was built from).
#
# Kubernetes itself (kubelet, kubeadm, kube-proxy, kubectl, and the control plane's images) comes
# from packages/cluster/go/kube (k8s.io/kubernetes, see packages/cluster/scripts/update-go-modules.sh)
# and etcd from packages/cluster/go/etcd, so the kind nodes run the same Kubernetes as the local
# cluster. KIND_K8S_VERSION must equal the version pinned there (node-image.sh checks it).

KIND_K8S_VERSION=v1.37.2
KIND_VERSION=v0.33.0                     # sigs.k8s.io/kind
KIND_CRICTL_VERSION=v1.37.0              # sigs.k8s.io/cri-tools
KIND_CNI_PLUGINS_VERSION=v1.10.0         # github.com/containernetworking/plugins
KIND_COREDNS_VERSION=v1.14.6             # github.com/coredns/coredns: the tag kubeadm 1.37 asks for
KIND_DEBIAN_SUITE=bookworm               # the node's rootfs (debootstrap); its containerd and runc
# The CNI plugins put into every node's /opt/cni/bin (flannel and kube-router chain some of them).
KIND_CNI_PLUGINS=(bridge host-local loopback portmap ptp bandwidth firewall tuning vlan macvlan ipvlan host-device dhcp static sbr vrf tap dummy)
# debootstrap's package list for the node (kind's base image installs the same kinds of tools).
KIND_NODE_PACKAGES=(systemd systemd-sysv dbus containerd runc iptables nftables iproute2 ethtool socat
  conntrack ca-certificates mount kmod procps libseccomp2 util-linux jq pigz curl bash
  iputils-ping netcat-openbsd lsof less)
# On a Docker host that can pull: the node image kind v0.33.0 defaults to (Kubernetes v1.37.0);
# NPL_KIND_STOCK_NODE_IMAGE overrides it (e.g. a mirror, or a local image for tests).
KIND_STOCK_NODE_IMAGE="${NPL_KIND_STOCK_NODE_IMAGE:-kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5}"
