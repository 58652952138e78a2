# shellcheck shell=bash
# common.sh — helpers shared by the scripts in e2e/kind (sourced, never run).
# Contract of every script that sources it: progress on stderr ("kind: ..."), results on stdout as
# KEY=VALUE lines, failure = non-zero exit with "error: ..." on stderr.

kind_here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind_repo="$(cd "$kind_here/../.." && pwd)"
# shellcheck source=../versions.sh
. "$kind_here/versions.sh"

kind_log() { printf 'kind: %s\n' "$*" >&2; }
kind_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The cache shared with packages/cluster/scripts/build-binaries.sh (~/.cache/npl).
kind_cache_root() {
  local root="${NPL_CACHE_DIR:-${HOME:?HOME is not set}/.cache/npl}"
  mkdir -p "$root/kind"
  (cd "$root" && pwd -P)
}

# kind_hash FILE... : sha256 of the files' contents, and of stdin when no file is given.
kind_hash() { if (($#)); then cat "$@"; else cat; fi | sha256sum | cut -c1-64; }

# kind_lock NAME : hold an exclusive flock on $cache/kind/.NAME.lock until the shell exits, so that
# two runs never build the same artefact at once (the second waits, then finds it cached).
kind_lock() {
  local f
  f="$(kind_cache_root)/kind/.$1.lock"
  exec {kind_lock_fd}>"$f"
  if ! flock -n "$kind_lock_fd"; then
    kind_log "another run is building $1; waiting for it"
    flock "$kind_lock_fd"
  fi
}

# kind_go_env CMD... : the reproducible environment for go commands (as build-binaries.sh).
kind_go_env() {
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then PATH="/usr/local/go/bin:$PATH"; fi
  command -v go >/dev/null 2>&1 || kind_die "'go' was not found in PATH; building kind's tools needs Go (https://go.dev/dl/)"
  env -u GOOS -u GOARCH -u GOFLAGS GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="-buildvcs=false" "$@"
}

# kind_docker : make `docker` work (scripts/docker.sh: the host's engine or a private one).
kind_docker() {
  # shellcheck source=../../../scripts/docker.sh
  . "$kind_repo/scripts/docker.sh"
  npl_ensure_docker >/dev/null || kind_die "no working Docker engine (see scripts/docker.sh)"
}

# kind_slot_check S : the slot must be 0..7 (see the address plan in e2e/kind/README.md).
kind_slot_check() { [[ "$1" =~ ^[0-7]$ ]] || kind_die "--slot must be an integer 0..7, got '$1'"; }
kind_network() { printf 'npl-kind-%s' "$1"; }

# Slot S's addresses (see README.md): node network, Service CIDR, pod CIDR (a /24 per node).
kind_subnet() { printf '198.18.%d.0/24' $((64 + $1)); }
kind_service_cidr() { printf '198.18.%d.0/24' $((80 + $1)); }
kind_pod_cidr() { printf '198.18.%d.0/22' $((96 + 4 * $1)); }

# kind_state_dir : where create-cluster.sh keeps each cluster's kubeconfig and kind config.
kind_state_dir() {
  local d="${NPL_KIND_STATE_DIR:-$(kind_cache_root)/kind/clusters}"
  mkdir -p "$d" && (cd "$d" && pwd -P)
}

# kind_name_check NAME : a kind cluster name of ours (npl- prefix, DNS label, short enough for
# kind's node container names and hostnames).
kind_name_check() {
  [[ "$1" =~ ^npl-[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$ ]] \
    || kind_die "--name must start with 'npl-', use only a-z, 0-9 and '-', and have at most 36 characters; got '$1'"
}

# kind_tool : the kind binary (NPL_KIND, else what node-image.sh would print, without building).
kind_tool() {
  if [[ -n "${NPL_KIND:-}" ]]; then printf '%s' "$NPL_KIND"; return; fi
  if command -v kind >/dev/null 2>&1; then command -v kind; return; fi
  local k
  k="$(ls -d "$(kind_cache_root)/kind/kind-$KIND_VERSION-"*/kind 2>/dev/null | head -n1)"
  [[ -x "$k" ]] || kind_die "no kind binary: set NPL_KIND or run e2e/kind/node-image.sh first"
  printf '%s' "$k"
}
