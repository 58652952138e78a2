#!/usr/bin/env bash
# build.sh — build (once) Antrea's own NodePortLocal controller as a stand-alone binary, the baseline
# of bench/antrea-compare.ts, and print its path.
#
# Antrea's source is a release tag (ANTREA_TAG, default v2.4.1) exported with `git archive` from a bare
# mirror of antrea-io/antrea (ANTREA_GIT_DIR, default /work/.mirror/antrea-io+antrea/repo) into
#   ${NPL_CACHE_DIR:-$HOME/.cache/npl}/antrea-src-<tag>/
# or taken as is from ANTREA_SRC (an unpacked source tree). The module proxy does not serve
# antrea.io/antrea, so main.go's module replaces it with that tree; Antrea's dependencies (client-go,
# klog, go-iptables, ...) come from the proxy as usual. The build runs in a copy of this directory
#   ${NPL_CACHE_DIR:-$HOME/.cache/npl}/antrea-npl-build-<tag>/
# and the binary is cached as
#   ${NPL_CACHE_DIR:-$HOME/.cache/npl}/bin/antrea-npl-<tag>-<stamp>/antrea-npl
# where <stamp> hashes main.go, go.mod, go.sum and this script; a cached binary is reused.
#
# Why v2.4.1 (the newest tag that builds here, checked 2026-12-02): the module proxy answers 403 for
# every antrea.io/* module, so Antrea's own dependencies come from fetched mirrors too
# (antrea-io/ofnet, antrea-io/libOpenflow), which hold ofnet tags up to v0.14.0 and libOpenflow up to
# v0.16.0. v2.4.2-v2.4.5 pin ofnet v0.15.0 (not in the mirror; v2.4.5 with ofnet v0.14.0 fails:
# pkg/ovs/openflow/ofctrl_builder.go:291: b.Match.CtZone undefined); v2.5+ pin libOpenflow v0.17.0 and
# are module antrea.io/antrea/v2 (main.go's imports would need the /v2 path). NodePortLocal changed
# from v2.4.1 to v2.4.5 only in handling a missing or changed Pod IP (#7512), which the benchmark
# does not exercise. With a newer ofnet mirror, ANTREA_TAG=v2.4.5 should build unchanged.
#
# Usage: build.sh [--force]
# Output contract: on success stdout is exactly one line, ANTREA_NPL=/abs/path/antrea-npl (exit 0);
# progress goes to stderr. On failure: exit != 0 and an "error: ..." line on stderr.
# Needs Go >= the go line of Antrea's go.mod (1.25 for v2.4.x); GOTOOLCHAIN is left to the caller.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${NPL_CACHE_DIR:-$HOME/.cache/npl}"
tag="${ANTREA_TAG:-v2.4.1}"
git_dir="${ANTREA_GIT_DIR:-/work/.mirror/antrea-io+antrea/repo}"
force=0
if [[ "${1:-}" == "--force" ]]; then force=1; fi

die() { echo "error: $*" >&2; exit 1; }
command -v go >/dev/null || die "go not found on PATH"

stamp_of() {
  local f
  for f in main.go go.mod go.sum build.sh; do [[ -f "$here/$f" ]] && cat "$here/$f"; done | sha256sum | cut -c1-12
}
stamp="$(stamp_of)"
out_dir="$cache/bin/antrea-npl-$tag-$stamp"
bin="$out_dir/antrea-npl"
if [[ $force -eq 0 && -x "$bin" ]]; then
  echo "ANTREA_NPL=$bin"
  exit 0
fi

mkdir -p "$cache/bin"
exec 9>"$cache/antrea-npl.lock"
flock 9

# export_tag REPO_GIT_DIR TAG DEST: `git archive` TAG of a bare mirror into DEST (once).
export_tag() {
  local git_dir="$1" tag="$2" dest="$3"
  if [[ -f "$dest/go.mod" ]]; then return 0; fi
  git --git-dir="$git_dir" rev-parse -q --verify "refs/tags/$tag" >/dev/null \
    || die "tag $tag not in $git_dir (fetch the repository's mirror first)"
  echo "exporting $(basename "$(dirname "$git_dir")") $tag into $dest" >&2
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  git --git-dir="$git_dir" archive "$tag" | tar -x -C "$dest.tmp"
  mv "$dest.tmp" "$dest"
}

src="${ANTREA_SRC:-$cache/antrea-src-$tag}"
if [[ -n "${ANTREA_SRC:-}" && ! -f "$src/go.mod" ]]; then die "ANTREA_SRC=$src has no go.mod"; fi
export_tag "$git_dir" "$tag" "$src"
head -1 "$src/go.mod" | grep -qx 'module antrea.io/antrea' \
  || die "$src/go.mod is not module antrea.io/antrea (v2.5+ is antrea.io/antrea/v2: adjust go.mod and imports)"
# Antrea's own dependencies, which the proxy refuses too: the versions its go.mod pins.
dep_version() { awk -v m="$1" '$1 == m { print $2; exit }' "$src/go.mod"; }
ofnet_tag="$(dep_version antrea.io/ofnet)"
libof_tag="$(dep_version antrea.io/libOpenflow)"
[[ -n "$ofnet_tag" && -n "$libof_tag" ]] || die "$src/go.mod pins no antrea.io/ofnet or antrea.io/libOpenflow"
ofnet_src="$cache/ofnet-src-$ofnet_tag"
libof_src="$cache/libopenflow-src-$libof_tag"
export_tag "${OFNET_GIT_DIR:-/work/.mirror/antrea-io+ofnet/repo}" "$ofnet_tag" "$ofnet_src"
export_tag "${LIBOPENFLOW_GIT_DIR:-/work/.mirror/antrea-io+libOpenflow/repo}" "$libof_tag" "$libof_src"

work="$cache/antrea-npl-build-$tag"
mkdir -p "$work"
cp "$here/main.go" "$here/go.mod" "$work/"
if [[ -f "$here/go.sum" ]]; then cp "$here/go.sum" "$work/"; fi
ln -sfn "$src" "$work/antrea-src"
ln -sfn "$ofnet_src" "$work/ofnet-src"
ln -sfn "$libof_src" "$work/libopenflow-src"

echo "building antrea-npl ($tag) in $work with $(go version)" >&2
cd "$work"
export GOWORK=off GOFLAGS=-mod=mod
go mod tidy >&2 || die "go mod tidy failed in $work (a dependency the proxy refused? see above)"
# Keep the resolved go.mod/go.sum beside the source so the next build needs no new look-ups.
for f in go.mod go.sum; do
  if ! cmp -s "$work/$f" "$here/$f"; then
    cp "$work/$f" "$here/$f"
    echo "updated $here/$f (commit it)" >&2
  fi
done
tmp="$(mktemp -d "$cache/bin/antrea-npl.XXXXXX")"
CGO_ENABLED=0 go build -trimpath -o "$tmp/antrea-npl" . >&2 || { rm -rf "$tmp"; die "go build failed in $work"; }
# The stamp includes go.sum, which may just have been written: name the dir after the final one.
stamp="$(stamp_of)"
out_dir="$cache/bin/antrea-npl-$tag-$stamp"
rm -rf "$out_dir" && mv "$tmp" "$out_dir"
echo "ANTREA_NPL=$out_dir/antrea-npl"
