#!/usr/bin/env bash
# tools.sh — build (once) every binary the kind node image needs besides Kubernetes itself, from
# Go modules at the versions pinned in versions.sh, and cache each under
#   $cache/kind/<name>-<version>-<key>/      (key = hash of the version, build flags, TOOLS_RECIPE)
# with a .stamp written last; a cached piece is reused without running go. Kubernetes (kubelet,
# kubeadm, kube-proxy, kubectl, the control plane) and etcd come from
# packages/cluster/scripts/build-binaries.sh --node.
#
# Prints (stdout, KEY=VALUE, absolute paths):
#   KIND_BIN=…/kind  KIND_CRICTL=…/crictl  KIND_COREDNS=…/coredns  KIND_PAUSE=…/pause
#   KIND_CNI_BIN_DIR=…/  (every plugin in KIND_CNI_PLUGINS)
#   KIND_BASE_FILES=…/   (the kind module's images/base/files: what kind's own base image holds)
# then the lines of build-binaries.sh --node (NPL_KUBELET=… etc.).
# --kind-only: build and print only KIND_BIN (the stock-image path of node-image.sh).
# Cold: kind+crictl+plugins ~2 min, coredns ~5 min, Kubernetes ~4 min (2 cores); warm: < 1 s.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TOOLS_RECIPE=1
LDFLAGS="-s -w"
cache="$(kind_cache_root)/kind"

# tool_dir NAME VERSION -> the cache dir for that piece (the key covers what changes its output).
tool_dir() {
  local key
  key="$(printf 'recipe=%s\nname=%s\nversion=%s\nldflags=%s\nextra=%s\n' "$TOOLS_RECIPE" "$1" "$2" "$LDFLAGS" "${3:-}" | kind_hash)"
  printf '%s/%s-%s-%s' "$cache" "$1" "$2" "${key:0:12}"
}
have() { [[ -f "$1/.stamp" ]]; }

# go_install DIR LABEL PKG@VERSION... : `go install` into DIR (via a temp dir renamed into place).
go_install() {
  local dir="$1" label="$2"; shift 2
  local tmp start=$SECONDS
  tmp="$(mktemp -d "$cache/.tools.XXXXXX")"
  kind_log "building $label from Go modules"
  if ! (cd "$tmp" && kind_go_env GOBIN="$tmp/bin" go install -trimpath -ldflags "$LDFLAGS" "$@") >"$tmp/go.log" 2>&1; then
    tail -n 30 "$tmp/go.log" >&2; rm -rf "$tmp"; kind_die "go install of $label failed (log above)"
  fi
  finish "$tmp/bin" "$dir"; rm -rf "$tmp"
  kind_log "built $label in $((SECONDS - start))s -> $dir"
}
# finish SRC DIR : move SRC into place as DIR and stamp it.
finish() {
  rm -rf "$2"; mv "$1" "$2"; date -u +%FT%TZ >"$2/.stamp"
}

kind_only=0
case "${1:-}" in "") ;; --kind-only) kind_only=1 ;; *) kind_die "unknown argument '$1' (usage: tools.sh [--kind-only])" ;; esac

kind_lock tools

d_kind="$(tool_dir kind "$KIND_VERSION")"
have "$d_kind" || go_install "$d_kind" "kind $KIND_VERSION" "sigs.k8s.io/kind@$KIND_VERSION"
if (( kind_only )); then printf 'KIND_BIN=%s\n' "$d_kind/kind"; exit 0; fi

d_crictl="$(tool_dir crictl "$KIND_CRICTL_VERSION")"
have "$d_crictl" || go_install "$d_crictl" "crictl $KIND_CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$KIND_CRICTL_VERSION"

d_cni="$(tool_dir cni-plugins "$KIND_CNI_PLUGINS_VERSION" "${KIND_CNI_PLUGINS[*]}")"
if ! have "$d_cni"; then
  pkgs=()
  for p in "${KIND_CNI_PLUGINS[@]}"; do
    case "$p" in
      host-local|dhcp|static) sub=ipam ;;
      bandwidth|firewall|portmap|sbr|tuning|vrf) sub=meta ;;
      *) sub=main ;;
    esac
    pkgs+=("github.com/containernetworking/plugins/plugins/$sub/$p@$KIND_CNI_PLUGINS_VERSION")
  done
  go_install "$d_cni" "CNI plugins $KIND_CNI_PLUGINS_VERSION (${KIND_CNI_PLUGINS[*]})" "${pkgs[@]}"
fi

d_coredns="$(tool_dir coredns "$KIND_COREDNS_VERSION")"
have "$d_coredns" || go_install "$d_coredns" "coredns $KIND_COREDNS_VERSION" "github.com/coredns/coredns@$KIND_COREDNS_VERSION"

pause_key="$(kind_hash "$kind_here/go/pause/go.mod" "$kind_here/go/pause/main.go")"
d_pause="$(tool_dir pause "src" "$pause_key")"
if ! have "$d_pause"; then
  tmp="$(mktemp -d "$cache/.tools.XXXXXX")"
  (cd "$kind_here/go/pause" && kind_go_env go build -trimpath -ldflags "$LDFLAGS" -o "$tmp/bin/pause" .) || kind_die "go build of pause failed"
  finish "$tmp/bin" "$d_pause"; rm -rf "$tmp"
fi

# kind's base files (entrypoint, /kind/bin/*, systemd units, containerd config) from its module.
d_files="$(tool_dir kind-base-files "$KIND_VERSION")"
if ! have "$d_files"; then
  moddir="$(cd "$cache" && kind_go_env go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -d "$moddir/images/base/files" ]] || kind_die "sigs.k8s.io/kind@$KIND_VERSION has no images/base/files (go mod download gave '$moddir')"
  tmp="$(mktemp -d "$cache/.tools.XXXXXX")"
  cp -r "$moddir/images/base/files" "$tmp/files"
  cp "$moddir/images/base/Dockerfile" "$tmp/files/.kind-base.Dockerfile"
  chmod -R u+w "$tmp/files"
  finish "$tmp/files" "$d_files"; rm -rf "$tmp"
fi

printf 'KIND_BIN=%s\nKIND_CRICTL=%s\nKIND_COREDNS=%s\nKIND_PAUSE=%s\nKIND_CNI_BIN_DIR=%s\nKIND_BASE_FILES=%s\n' \
  "$d_kind/kind" "$d_crictl/crictl" "$d_coredns/coredns" "$d_pause/pause" "$d_cni" "$d_files"
bash "$kind_repo/packages/cluster/scripts/build-binaries.sh" --node
