#!/usr/bin/env bash
# build-binaries.sh — build (once) and locate the local test cluster's control
# plane: kube-apiserver, kube-controller-manager, kube-scheduler and etcd, plus
# the matching kubectl.
#
# The binaries are compiled from Go modules pinned by the wrapper modules in
# packages/cluster/go/kube (k8s.io/kubernetes) and packages/cluster/go/etcd
# (go.etcd.io/etcd/server/v3), and cached in
#   ${NPL_CACHE_DIR:-$HOME/.cache/npl}/bin/kubernetes-<version>-<stamp prefix>/
#   ${NPL_CACHE_DIR:-$HOME/.cache/npl}/bin/etcd-<version>/
# Each cache dir has a .stamp file holding a hash of the wrapper module's
# go.mod, go.sum and Go sources plus this script's BUILD_RECIPE_VERSION; when
# the binaries exist and the stamp matches, the script only prints their paths.
# The Kubernetes dir is also named after its stamp, so checkouts whose wrapper
# modules differ (e.g. one without kubectl) keep separate caches instead of
# rebuilding over each other.
# Otherwise it builds them (the first build takes several minutes) into a temp
# dir and renames them into place; the stamp is written last. Concurrent runs
# are serialised with flock(1) when available.
#
# Usage:
#   build-binaries.sh                   build if needed, print paths
#   build-binaries.sh --force           rebuild even if cached
#   build-binaries.sh --node [--force]  also build the node binaries (kind, see below)
#   build-binaries.sh --print-versions  print pinned versions, build nothing
#   build-binaries.sh --help
#
# Environment:
#   NPL_CACHE_DIR                default $HOME/.cache/npl
#   NPL_KUBE_APISERVER           use this existing binary instead of building it
#   NPL_KUBE_CONTROLLER_MANAGER  (same)
#   NPL_KUBE_SCHEDULER           (same)
#   NPL_ETCD                     (same)
#   NPL_KUBECTL                  (same)
#   GOCACHE, GOMODCACHE, GOPROXY are honoured (Go's defaults otherwise).
#
# Output contract (stdout; all progress and errors go to stderr):
#   On success stdout consists of exactly these lines, in this order, each
#   KEY=VALUE with an unquoted absolute path as VALUE (split on the first '='):
#     NPL_KUBE_APISERVER=/abs/path/kube-apiserver
#     NPL_KUBE_CONTROLLER_MANAGER=/abs/path/kube-controller-manager
#     NPL_KUBE_SCHEDULER=/abs/path/kube-scheduler
#     NPL_ETCD=/abs/path/etcd
#     NPL_KUBECTL=/abs/path/kubectl
#     NPL_BIN_DIR=/abs/path/dir
#   NPL_BIN_DIR (always the last line) is a directory of symlinks named
#   kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kubectl
#   pointing at the five binaries above (usable as PATH entry or as envtest's
#   KUBEBUILDER_ASSETS). Exit status 0. On failure: exit status != 0, an
#   "error: ..." message on stderr, and no NPL_BIN_DIR line.
#
#   --node (used by e2e/kind to assemble its node image) builds, in addition, kubelet, kubeadm and
#   kube-proxy from the same module, ignores the NPL_* overrides, and prints instead exactly:
#     NPL_KUBE_APISERVER=… NPL_KUBE_CONTROLLER_MANAGER=… NPL_KUBE_SCHEDULER=… NPL_ETCD=…
#     NPL_KUBECTL=… NPL_KUBELET=… NPL_KUBEADM=… NPL_KUBE_PROXY=…   (one per line, in this order)
#
#   --print-versions prints (exit 0):
#     NPL_KUBERNETES_VERSION=v1.Y.Z
#     NPL_ETCD_VERSION=v3.Y.Z
#     NPL_GO_MIN_VERSION=1.Y.Z      (minimum Go needed to build them)
#
# To bump versions, run scripts/update-go-modules.sh and commit the result.
set -euo pipefail

# Bump when the build recipe (flags, tags, layout) changes: invalidates caches.
BUILD_RECIPE_VERSION=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
godir="$(cd "$here/../go" && pwd)"
kube_mod="$godir/kube"
etcd_mod="$godir/etcd"

log() { printf 'npl: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
commas() { local out="$1"; shift; local x; for x in "$@"; do out+=", $x"; done; printf '%s' "$out"; }

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; }

force=0 node=0
while (( $# )); do
  case "$1" in
    --force) force=1 ;;
    --node) node=1 ;;
    --print-versions) mode=versions ;;
    -h|--help) usage; exit 0 ;;
    *) usage; die "unknown argument: $1" ;;
  esac
  shift
done

modver() { awk -v m="$2" '$1=="require" && $2==m {print $3; exit} $1==m {print $2; exit}' "$1/go.mod"; }
goline() { awk '$1=="go"{print $2; exit}' "$1/go.mod"; }

kube_ver="$(modver "$kube_mod" k8s.io/kubernetes)"
etcd_ver="$(modver "$etcd_mod" go.etcd.io/etcd/server/v3)"
[[ -n "$kube_ver" && -n "$etcd_ver" ]] || die "cannot read pinned versions from $kube_mod/go.mod and $etcd_mod/go.mod"
go_min="$(printf '%s\n%s\n' "$(goline "$kube_mod")" "$(goline "$etcd_mod")" | sort -V | tail -n1)"

if [[ "${mode:-}" == versions ]]; then
  printf 'NPL_KUBERNETES_VERSION=%s\nNPL_ETCD_VERSION=%s\nNPL_GO_MIN_VERSION=%s\n' "$kube_ver" "$etcd_ver" "$go_min"
  exit 0
fi

cache_root="${NPL_CACHE_DIR:-${HOME:?HOME is not set}/.cache/npl}"
mkdir -p "$cache_root/bin"
cache_root="$(cd "$cache_root" && pwd -P)"
bin_root="$cache_root/bin"

stamp_of() { # module dir -> hash of everything that determines its binaries
  { echo "recipe=$BUILD_RECIPE_VERSION"; cat "$1/go.mod" "$1/go.sum" "$1"/*.go; } | sha256sum | cut -d' ' -f1
}
kube_stamp="$(stamp_of "$kube_mod")"
etcd_stamp="$(stamp_of "$etcd_mod")"
kube_dir="$bin_root/kubernetes-$kube_ver-${kube_stamp:0:12}"
etcd_dir="$bin_root/etcd-$etcd_ver"

# A cached binary is valid when it exists and its dir's .stamp matches.
cached_ok() { # dir stamp name
  [[ -x "$1/$3" && -f "$1/.stamp" && "$(<"$1/.stamp")" == "$2" ]]
}

override_for() { # binary name -> value of its NPL_* override (maybe empty)
  case "$1" in
    kube-apiserver) printf '%s' "${NPL_KUBE_APISERVER:-}" ;;
    kube-controller-manager) printf '%s' "${NPL_KUBE_CONTROLLER_MANAGER:-}" ;;
    kube-scheduler) printf '%s' "${NPL_KUBE_SCHEDULER:-}" ;;
    etcd) printf '%s' "${NPL_ETCD:-}" ;;
    kubectl) printf '%s' "${NPL_KUBECTL:-}" ;;
  esac
}
var_for() { case "$1" in kube-apiserver) echo NPL_KUBE_APISERVER ;; kube-controller-manager) echo NPL_KUBE_CONTROLLER_MANAGER ;; kube-scheduler) echo NPL_KUBE_SCHEDULER ;; etcd) echo NPL_ETCD ;; kubectl) echo NPL_KUBECTL ;; esac; }

kube_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
(( node == 0 )) || kube_bins+=(kubelet kubeadm kube-proxy)
declare -A path_of=()
for b in "${kube_bins[@]}" etcd; do
  (( node == 0 )) || continue
  o="$(override_for "$b")"
  if [[ -n "$o" ]]; then
    [[ "$o" != *$'\n'* && -f "$o" && -x "$o" ]] || die "$(var_for "$b")=$o is not an executable file"
    path_of[$b]="$(cd "$(dirname "$o")" && pwd -P)/$(basename "$o")"
  fi
done

need_kube=() need_etcd=()
for b in "${kube_bins[@]}"; do
  [[ -n "${path_of[$b]:-}" ]] && continue
  if (( force == 0 )) && cached_ok "$kube_dir" "$kube_stamp" "$b"; then path_of[$b]="$kube_dir/$b"; else need_kube+=("$b"); fi
done
if [[ -z "${path_of[etcd]:-}" ]]; then
  if (( force == 0 )) && cached_ok "$etcd_dir" "$etcd_stamp" etcd; then path_of[etcd]="$etcd_dir/etcd"; else need_etcd=(etcd); fi
fi

# ---------------------------------------------------------------- building
check_go() {
  # The official Go tarball's default location, in case it is not on PATH.
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then PATH="/usr/local/go/bin:$PATH"; fi
  command -v go >/dev/null 2>&1 || die "'go' was not found in PATH. Building the cluster binaries needs Go >= $go_min: install it from https://go.dev/dl/ (Debian's golang package is usually too old), or point NPL_KUBE_APISERVER, NPL_KUBE_CONTROLLER_MANAGER, NPL_KUBE_SCHEDULER and NPL_ETCD at prebuilt binaries."
  local have
  have="$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null || true)"
  have="${have#go}"; have="${have%%[!0-9.]*}"
  [[ "$have" =~ ^[0-9]+\.[0-9]+ ]] || die "cannot determine the Go version of $(command -v go) (go env GOVERSION); Go >= $go_min is required"
  [[ "$(printf '%s\n%s\n' "$go_min" "$have" | sort -V | head -n1)" == "$go_min" ]] \
    || die "Go $have ($(command -v go)) is too old: building Kubernetes $kube_ver / etcd $etcd_ver needs Go >= $go_min. Install a newer Go from https://go.dev/dl/ (or set the NPL_* binary overrides)."
}

lock_fd=""
take_lock() {
  [[ -n "$lock_fd" ]] && return 0
  if command -v flock >/dev/null 2>&1; then
    exec {lock_fd}>"$bin_root/.build.lock"
    if ! flock -n "$lock_fd"; then
      log "another build-binaries.sh is running; waiting for it to finish"
      flock "$lock_fd"
    fi
  else
    lock_fd=none
  fi
}

go_env() { # common, reproducible environment for go commands
  env -u GOOS -u GOARCH -u GOFLAGS \
    GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" "$@"
}

# build <label> <moddir> <destdir> <stamp> <ldflags> <tags> <binary=package>...
build() {
  local label="$1" mod="$2" dest="$3" stamp="$4" ldflags="$5" tags="$6"; shift 6
  local names=() pkgs=() spec
  for spec in "$@"; do names+=("${spec%%=*}"); pkgs+=("${spec#*=}"); done

  mkdir -p "$dest"
  # A stale stamp means everything in dest is stale: drop it before adding new binaries.
  if [[ ! -f "$dest/.stamp" || "$(<"$dest/.stamp")" != "$stamp" ]] || (( force )); then
    rm -f "$dest/.stamp"
    find "$dest" -maxdepth 1 -type f ! -name '.*' -delete
  fi

  local tmp start
  tmp="$(mktemp -d "$bin_root/.tmp-build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  start=$SECONDS
  log "building $(commas "${names[@]}") $label from Go modules; the first build takes several minutes (later builds reuse Go's build cache)"
  (cd "$mod" && go_env go build -trimpath -tags "$tags" -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}") \
    || die "go build of ${names[*]} failed (see above)"
  local n; for n in "${names[@]}"; do
    [[ -x "$tmp/$n" ]] || die "go build did not produce $n"
    mv -f "$tmp/$n" "$dest/$n"
  done
  printf '%s\n' "$stamp" > "$tmp/.stamp" && mv -f "$tmp/.stamp" "$dest/.stamp"
  rm -rf "$tmp"; trap - EXIT
  log "built $(commas "${names[@]}") $label in $((SECONDS - start))s -> $dest"
}

if (( ${#need_kube[@]} + ${#need_etcd[@]} > 0 )); then
  check_go
  take_lock
  # Re-check under the lock: a concurrent run may have just built them.
  if (( force == 0 )); then
    still=(); for b in "${need_kube[@]}"; do
      if cached_ok "$kube_dir" "$kube_stamp" "$b"; then path_of[$b]="$kube_dir/$b"; else still+=("$b"); fi
    done; need_kube=("${still[@]}")
    if (( ${#need_etcd[@]} )) && cached_ok "$etcd_dir" "$etcd_stamp" etcd; then path_of[etcd]="$etcd_dir/etcd"; need_etcd=(); fi
  fi
fi

if (( ${#need_kube[@]} )); then
  [[ "$kube_ver" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || die "unexpected Kubernetes version $kube_ver"
  major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
  # buildDate = the release tag's commit time (from the module proxy), so builds are reproducible.
  build_date="$(cd "$kube_mod" && go_env go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes 2>/dev/null || true)"
  [[ -n "$build_date" ]] || build_date="1970-01-01T00:00:00Z"
  # Same version variables as kubernetes' hack/lib/version.sh. The proxy does not
  # tell the tag's git commit, so gitCommit keeps its built-in default.
  ld="-s -w"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ld+=" -X $pkg.gitVersion=$kube_ver -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
  done
  specs=(); for b in "${need_kube[@]}"; do specs+=("$b=k8s.io/kubernetes/cmd/$b"); done
  # Tags as in kubernetes' hack/lib/golang.sh for non-debug builds.
  build "$kube_ver" "$kube_mod" "$kube_dir" "$kube_stamp" "$ld" "selinux,notest,grpcnotrace" "${specs[@]}"
  for b in "${need_kube[@]}"; do path_of[$b]="$kube_dir/$b"; done
fi

if (( ${#need_etcd[@]} )); then
  build "$etcd_ver" "$etcd_mod" "$etcd_dir" "$etcd_stamp" "-s -w" "" "etcd=."
  path_of[etcd]="$etcd_dir/etcd"
fi

if (( node )); then
  (( ${#need_kube[@]} + ${#need_etcd[@]} )) || log "using cached node binaries (Kubernetes $kube_ver, etcd $etcd_ver) in $kube_dir"
  for b in kube-apiserver kube-controller-manager kube-scheduler etcd kubectl kubelet kubeadm kube-proxy; do
    v="NPL_${b//-/_}"; printf '%s=%s\n' "${v^^}" "${path_of[$b]}"
  done
  exit 0
fi

# ------------------------------------------------------- NPL_BIN_DIR (symlinks)
all_bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
if [[ -z "${NPL_KUBE_APISERVER:-}${NPL_KUBE_CONTROLLER_MANAGER:-}${NPL_KUBE_SCHEDULER:-}${NPL_ETCD:-}${NPL_KUBECTL:-}" ]]; then
  set_dir="$bin_root/kubernetes-$kube_ver-${kube_stamp:0:12}+etcd-$etcd_ver"
else
  set_dir="$bin_root/set-$(for b in "${all_bins[@]}"; do echo "${path_of[$b]}"; done | sha256sum | cut -c1-16)"
fi
mkdir -p "$set_dir"
for b in "${all_bins[@]}"; do
  if [[ "$(readlink "$set_dir/$b" 2>/dev/null || true)" != "${path_of[$b]}" ]]; then
    ln -sfn "${path_of[$b]}" "$set_dir/.$b.tmp.$$" && mv -Tf "$set_dir/.$b.tmp.$$" "$set_dir/$b"
  fi
done

if (( ${#need_kube[@]} + ${#need_etcd[@]} == 0 )); then
  log "using cached binaries (Kubernetes $kube_ver, etcd $etcd_ver) in $set_dir"
fi
printf 'NPL_KUBE_APISERVER=%s\nNPL_KUBE_CONTROLLER_MANAGER=%s\nNPL_KUBE_SCHEDULER=%s\nNPL_ETCD=%s\nNPL_KUBECTL=%s\nNPL_BIN_DIR=%s\n' \
  "${path_of[kube-apiserver]}" "${path_of[kube-controller-manager]}" "${path_of[kube-scheduler]}" "${path_of[etcd]}" "${path_of[kubectl]}" "$set_dir"
