#!/usr/bin/env bash
# rootfs.sh — build (once) the kind node's Debian root filesystem with debootstrap and cache it as
# a tarball: $cache/kind/rootfs-<suite>-<key>.tar, where <key> hashes the suite, the package list
# and ROOTFS_RECIPE. Prints KIND_ROOTFS_TAR=/abs/path. Needs root (debootstrap) and Debian's mirror
# (http://deb.debian.org, or $KIND_DEBIAN_MIRROR). ~3 min cold on 2 cores, instant when cached.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROOTFS_RECIPE=1
mirror="${KIND_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
pkgs="$(IFS=,; echo "${KIND_NODE_PACKAGES[*]}")"
key="$(printf 'recipe=%s\nsuite=%s\npkgs=%s\n' "$ROOTFS_RECIPE" "$KIND_DEBIAN_SUITE" "$pkgs" | kind_hash)"
cache="$(kind_cache_root)/kind"
tar_file="$cache/rootfs-$KIND_DEBIAN_SUITE-${key:0:12}.tar"

if [[ ! -f "$tar_file" ]]; then
  kind_lock rootfs
fi
if [[ ! -f "$tar_file" ]]; then
  [[ "$(id -u)" == 0 ]] || kind_die "building the node rootfs needs root (debootstrap); run as root or build it once on a machine where you are"
  command -v debootstrap >/dev/null 2>&1 || kind_die "debootstrap is not installed (apt-get install debootstrap)"
  tmp="$(mktemp -d "$cache/.rootfs.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  start=$SECONDS
  kind_log "debootstrap $KIND_DEBIAN_SUITE (systemd, containerd, runc, iptables, nftables, ...) from $mirror; takes ~3 min"
  debootstrap --variant=minbase --include="$pkgs" "$KIND_DEBIAN_SUITE" "$tmp/root" "$mirror" >"$tmp/debootstrap.log" 2>&1 \
    || { tail -n 30 "$tmp/debootstrap.log" >&2; kind_die "debootstrap failed (log above)"; }
  # Trim what a node never needs: apt's package lists and caches, docs, man pages.
  rm -rf "$tmp/root"/var/lib/apt/lists/* "$tmp/root"/var/cache/apt/*.bin "$tmp/root"/var/cache/apt/archives/*.deb \
    "$tmp/root"/usr/share/doc/* "$tmp/root"/usr/share/man/* "$tmp/root"/usr/share/info/* "$tmp/root"/var/log/*.log
  tar --numeric-owner --xattrs -C "$tmp/root" -cf "$tmp/rootfs.tar" .
  mv -f "$tmp/rootfs.tar" "$tar_file"
  kind_log "rootfs built in $((SECONDS - start))s -> $tar_file ($(du -m "$tar_file" | cut -f1) MB)"
fi
printf 'KIND_ROOTFS_TAR=%s\n' "$tar_file"
