#!/usr/bin/env bash
# build.sh — build (once) the Go binaries and the container image of one CNI
# for the kind clusters: flannel or kube-router.
#
# Binaries come from Go modules at the versions pinned below (the Go module
# proxy serves them; go install checks them against the checksum database) and
# are cached in
#   ${NPL_CACHE_DIR:-$HOME/.cache/npl}/bin/cni-<set>-<stamp prefix>/
# with a .stamp holding a hash of the versions and BUILD_RECIPE_VERSION, like
# packages/cluster/scripts/build-binaries.sh. The image is built from our own
# Dockerfile (e2e/kind/cni/<cni>/Dockerfile, FROM debian:bookworm-slim) with the
# cached binaries as its context; its tag is a hash of the Dockerfile, the
# binaries and the base image's ID, so a changed input always gives a new tag
# and kind never runs a stale image. An image that already exists is reused.
#
# The base image: when debian:bookworm-slim is not in the Docker engine, the
# script pulls it; where nothing can be pulled it runs scripts/base-images.sh
# (the repository's offline stand-in builder) when that exists.
#
# Usage:
#   build.sh --cni flannel|kube-router      build if needed, print the image
#   build.sh --print-versions               print pinned versions, build nothing
#
# Output contract (stdout; progress and errors on stderr):
#   NPL_CNI_IMAGE=<repo>:<tag>
# Exit status 0. On failure: non-zero, "error: ..." on stderr.
#
# Environment: NPL_CACHE_DIR, DOCKER_HOST (call npl_ensure_docker first here),
# GOCACHE/GOMODCACHE/GOPROXY are honoured.
set -euo pipefail

# Bump when the recipe (flags, layout, Dockerfiles' inputs) changes: invalidates caches.
BUILD_RECIPE_VERSION=1

FLANNEL_VERSION=v0.28.10                 # github.com/flannel-io/flannel (flanneld)
FLANNEL_CNI_PLUGINS_VERSION=v0.9.1       # github.com/containernetworking/plugins: last release with plugins/meta/flannel
KUBE_ROUTER_VERSION=v2.1.0               # github.com/cloudnativelabs/kube-router/v2
CNI_PLUGINS_VERSION=v1.10.0              # github.com/containernetworking/plugins: bridge, host-local, loopback, portmap
BASE_IMAGE=debian:bookworm-slim

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../../.." && pwd)"

log() { printf 'npl-cni: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

cni=""
while (($#)); do
  case "$1" in
    --cni) [[ $# -ge 2 ]] || die "--cni needs a value (flannel or kube-router)"; cni="$2"; shift 2 ;;
    --print-versions)
      printf 'NPL_FLANNEL_VERSION=%s\nNPL_FLANNEL_CNI_PLUGIN_VERSION=%s\nNPL_KUBE_ROUTER_VERSION=%s\nNPL_CNI_PLUGINS_VERSION=%s\n' \
        "$FLANNEL_VERSION" "$FLANNEL_CNI_PLUGINS_VERSION" "$KUBE_ROUTER_VERSION" "$CNI_PLUGINS_VERSION"
      exit 0 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case "$cni" in
  flannel|kube-router) ;;
  "") die "--cni is required (flannel or kube-router)" ;;
  *) die "--cni must be flannel or kube-router, got '$cni'" ;;
esac

cache_root="${NPL_CACHE_DIR:-${HOME:?HOME is not set}/.cache/npl}"
mkdir -p "$cache_root/bin"
bin_root="$(cd "$cache_root/bin" && pwd -P)"

# Each binary is either name=package@version (go install, static, no cgo) or
# name=wrapper:<dir under go/>:package (go build inside our wrapper module, whose
# go.mod/go.sum pin it; used where the upstream module cannot be built with
# go install as it is).
declare -a specs
case "$cni" in
  flannel)
    specs=(
      # flannel's udp backend needs cgo (as upstream's Makefile builds it): a static cgo build.
      "flanneld=wrapper:flannel:github.com/flannel-io/flannel"
      "flannel=github.com/containernetworking/plugins/plugins/meta/flannel@$FLANNEL_CNI_PLUGINS_VERSION"
    ) ;;
  kube-router)
    specs=("kube-router=github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION") ;;
esac
# Both images carry the reference plugins they delegate to: stock kind node
# images ship only host-local, loopback, ptp and portmap (no bridge).
for p in main/bridge ipam/host-local main/loopback meta/portmap; do
  specs+=("${p#*/}=github.com/containernetworking/plugins/plugins/$p@$CNI_PLUGINS_VERSION")
done

ldflags_for() {
  case "$1" in
    flanneld) printf '%s' "-s -w -extldflags -static -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION" ;;
    kube-router) printf '%s' "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION -X github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate=unknown" ;;
    *) printf '%s' "-s -w" ;;
  esac
}

wrapper_inputs() { # hash input: the wrapper modules the specs use
  local s d
  for s in "${specs[@]}"; do
    [[ "${s#*=}" == wrapper:* ]] || continue
    d="${s#*=wrapper:}"; d="$here/go/${d%%:*}"
    cat "$d/go.mod" "$d/go.sum" "$d"/*.go
  done
}

stamp="$({ echo "recipe=$BUILD_RECIPE_VERSION"; printf '%s\n' "${specs[@]}"; for s in "${specs[@]}"; do ldflags_for "${s%%=*}"; echo; done; wrapper_inputs; } | sha256sum | cut -c1-64)"
bin_dir="$bin_root/cni-$cni-${stamp:0:12}"

cached_ok() {
  [[ -f "$bin_dir/.stamp" && "$(<"$bin_dir/.stamp")" == "$stamp" ]] || return 1
  local s; for s in "${specs[@]}"; do [[ -x "$bin_dir/${s%%=*}" ]] || return 1; done
}

go_env() { # reproducible, static builds
  env -u GOOS -u GOARCH -u GOFLAGS GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="-buildvcs=false" "$@"
}

build_binaries() {
  command -v go >/dev/null 2>&1 || { [[ -x /usr/local/go/bin/go ]] && PATH="/usr/local/go/bin:$PATH"; }
  command -v go >/dev/null 2>&1 || die "'go' was not found in PATH; building the $cni binaries needs Go (https://go.dev/dl/)"
  local tmp start s name pkg
  tmp="$(mktemp -d "$bin_root/.tmp-cni.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  start=$SECONDS
  log "building the $cni binaries from Go modules into $bin_dir; the first build takes minutes (later ones reuse Go's build cache)"
  for s in "${specs[@]}"; do
    name="${s%%=*}" pkg="${s#*=}"
    if [[ "$pkg" == wrapper:* ]]; then
      local mod="${pkg#wrapper:}"; pkg="${mod#*:}"; mod="$here/go/${mod%%:*}"
      log "  go build $pkg (wrapper module ${mod#"$repo_root"/})"
      (cd "$mod" && go_env CGO_ENABLED=1 GOFLAGS="-mod=readonly -buildvcs=false" go build -trimpath -tags netgo,osusergo \
        -ldflags "$(ldflags_for "$name")" -o "$tmp/$name" "$pkg") || die "go build $pkg failed (see above)"
      continue
    fi
    mkdir -p "$tmp/gobin-$name"
    log "  go install $pkg"
    (cd "$tmp" && go_env GOBIN="$tmp/gobin-$name" go install -trimpath -ldflags "$(ldflags_for "$name")" "$pkg") \
      || die "go install $pkg failed (see above)"
    local out; out="$(find "$tmp/gobin-$name" -maxdepth 1 -type f -perm -u+x | head -n1)"
    [[ -n "$out" ]] || die "go install $pkg produced no binary"
    mv -f "$out" "$tmp/$name"
  done
  rm -rf "$bin_dir"; mkdir -p "$bin_dir"
  for s in "${specs[@]}"; do mv -f "$tmp/${s%%=*}" "$bin_dir/"; done
  printf '%s\n' "$stamp" > "$bin_dir/.stamp"
  rm -rf "$tmp"; trap - EXIT
  log "built the $cni binaries in $((SECONDS - start))s"
}

if ! cached_ok; then
  exec {lock_fd}>"$bin_root/.cni-build.lock"
  flock "$lock_fd"
  cached_ok || build_binaries
  flock -u "$lock_fd"
else
  log "using cached $cni binaries in $bin_dir"
fi

# ------------------------------------------------------------------ image
command -v docker >/dev/null 2>&1 || die "'docker' was not found in PATH"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (DOCKER_HOST=${DOCKER_HOST:-unset}); here run: source scripts/docker.sh && npl_ensure_docker"

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE is not in the Docker engine; pulling it"
  if ! docker pull "$BASE_IMAGE" >&2; then
    [[ -f "$repo_root/scripts/base-images.sh" ]] \
      || die "cannot pull $BASE_IMAGE and scripts/base-images.sh (which builds it offline) does not exist"
    log "cannot pull $BASE_IMAGE; building it with scripts/base-images.sh"
    bash "$repo_root/scripts/base-images.sh" "$BASE_IMAGE" >&2 || die "scripts/base-images.sh failed"
    docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || die "scripts/base-images.sh did not create $BASE_IMAGE"
  fi
fi

dockerfile="$here/$cni/Dockerfile"
[[ -f "$dockerfile" ]] || die "missing $dockerfile"
base_id="$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")"
# The image's inputs: its Dockerfile, the scripts it copies (common/) and the binaries.
tag="$({ echo "recipe=$BUILD_RECIPE_VERSION base=$base_id"; cat "$dockerfile"; (cd "$here" && sha256sum common/*); (cd "$bin_dir" && sha256sum -- *); } | sha256sum | cut -c1-12)"
image="npl-cni-$cni:$tag"

if docker image inspect "$image" >/dev/null 2>&1; then
  log "image $image exists"
else
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  mkdir -p "$ctx/bin"
  cp -a "$bin_dir"/. "$ctx/bin/"; rm -f "$ctx/bin/.stamp"
  cp -a "$here/common" "$ctx/common"
  start=$SECONDS
  log "building image $image"
  # --network host: the engine here runs with --bridge=none (a flag, not a Dockerfile change).
  DOCKER_BUILDKIT=0 docker build --network host -q -f "$dockerfile" -t "$image" \
    --label "io.npl.cni=$cni" "$ctx" >&2 || die "docker build of $image failed"
  rm -rf "$ctx"; trap - EXIT
  log "built image $image in $((SECONDS - start))s"
fi
printf 'NPL_CNI_IMAGE=%s\n' "$image"
