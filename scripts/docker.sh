# shellcheck shell=bash
# Source this file, then call npl_ensure_docker: afterwards `docker` (from PATH) talks to a working
# Docker engine through DOCKER_HOST. Idempotent; a second call takes well under a second.
#
# Which engine, in this order:
#   1. NPL_DOCKER_HOST is set: that engine (e.g. unix:///var/run/docker.sock), used as it is.
#   2. `docker info` already works (a laptop or CI host with Docker): that engine, used as it is.
#   3. Otherwise, as root on Debian: a private engine of our own. Debian's docker.io is installed
#      if missing, and dockerd runs with its own data root under $NPL_CACHE_DIR/docker (so built
#      images survive between runs, like the Go-built binaries), its own exec root and socket
#      (/run/npl-docker), and these settings, each for a reason:
#        --iptables=false --ip6tables=false --ip-masq=false --bridge=none
#            the engine never touches the host's firewall (other tests program it) and there is no
#            docker0; containers use networks we create (kind's, with masquerade off).
#        --default-runtime npl-runc (only where the capability bounding set lacks CAP_SYS_RESOURCE,
#            as in a container-in-VM sandbox): a wrapper that removes that capability from every
#            container's and every `exec`'s capability sets, then runs runc. Without it a
#            --privileged container (every kind node) fails with "unable to apply caps".
#      Its log is $NPL_CACHE_DIR/docker/dockerd.log. Stop it with npl_stop_docker.
#
# Contract: on success DOCKER_HOST is exported and `docker info` works; NPL_DOCKER_PRIVATE=1 when the
# engine is our own. On failure it prints what is wrong and returns non-zero.

NPL_DOCKER_RUN_DIR="${NPL_DOCKER_RUN_DIR:-/run/npl-docker}"

npl_docker_log() { printf '[docker] %s\n' "$*" >&2; }

# True when CAP_SYS_RESOURCE (bit 24) is missing from this process's bounding set.
npl_docker_needs_cap_wrapper() {
  local bnd
  bnd="$(awk '/^CapBnd:/{print $2}' /proc/self/status 2>/dev/null)"
  [ -n "$bnd" ] && (( (16#$bnd >> 24 & 1) == 0 ))
}

# Writes the OCI runtime wrapper (contract above) to $1.
npl_docker_write_wrapper() {
  local tmp="$1.tmp.$$"
  cat >"$tmp" <<'EOF'
#!/bin/sh
# npl-runc: runc without CAP_SYS_RESOURCE (absent from this machine's bounding set).
# Edits the bundle's config.json (create/run) or the --process file (exec), then execs runc.
strip() { # $1 = JSON file, $2 = jq path of the capabilities object
  [ -f "$1" ] || return 0
  jq "if $2 then $2 |= with_entries(.value |= (if type == \"array\" then map(select(. != \"CAP_SYS_RESOURCE\")) else . end)) else . end" "$1" >"$1.npl" &&
    mv "$1.npl" "$1"
}
bundle="" process="" cmd="" prev=""
for a in "$@"; do
  case "$prev" in
    --bundle|-b) bundle="$a" ;;
    --process|-p) process="$a" ;;
  esac
  case "$a" in
    --bundle=*) bundle="${a#--bundle=}" ;;
    --process=*) process="${a#--process=}" ;;
    create|run|exec) [ -z "$cmd" ] && cmd="$a" ;;
  esac
  prev="$a"
done
case "$cmd" in
  create|run) strip "${bundle:-.}/config.json" .process.capabilities ;;
  exec) [ -n "$process" ] && strip "$process" .capabilities ;;
esac
exec runc "$@"
EOF
  chmod 0755 "$tmp" && mv -f "$tmp" "$1"
}

npl_stop_docker() {
  local pidfile="$NPL_DOCKER_RUN_DIR/dockerd.pid" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || return 0
  local i; for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  npl_docker_log "dockerd ($pid) did not stop within 10 s"; return 1
}

npl_ensure_docker() {
  if [ -n "${NPL_DOCKER_HOST:-}" ]; then
    export DOCKER_HOST="$NPL_DOCKER_HOST"
    docker info >/dev/null 2>&1 || { npl_docker_log "NPL_DOCKER_HOST=$NPL_DOCKER_HOST does not answer 'docker info'"; return 1; }
    return 0
  fi
  local sock="unix://$NPL_DOCKER_RUN_DIR/docker.sock"
  if [ -z "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1 && [ ! -S "$NPL_DOCKER_RUN_DIR/docker.sock" ] &&
    docker info >/dev/null 2>&1; then
    return 0 # a Docker host: use its engine
  fi
  if DOCKER_HOST="$sock" docker info >/dev/null 2>&1; then
    export DOCKER_HOST="$sock" NPL_DOCKER_PRIVATE=1
    return 0
  fi
  [ "$(id -u)" = 0 ] || { npl_docker_log "no Docker engine answers and only root can start one: start Docker, or set NPL_DOCKER_HOST"; return 1; }
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v jq >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 && [ "${NPL_SKIP_APT:-0}" != 1 ] ||
      { npl_docker_log "no Docker engine: install Debian's docker.io and jq (apt-get install docker.io jq)"; return 1; }
    npl_docker_log "installing Debian's Docker engine (docker.io) and jq"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io jq >/dev/null ||
      { npl_docker_log "apt-get install docker.io jq failed"; return 1; }
  fi
  local cache="${NPL_CACHE_DIR:-$HOME/.cache/npl}/docker"
  mkdir -p "$cache/data" "$NPL_DOCKER_RUN_DIR/exec" || return 1
  local args=(--data-root "$cache/data" --exec-root "$NPL_DOCKER_RUN_DIR/exec" -H "$sock"
    --pidfile "$NPL_DOCKER_RUN_DIR/dockerd.pid" --iptables=false --ip6tables=false --ip-masq=false
    --bridge=none --storage-driver overlay2)
  if npl_docker_needs_cap_wrapper; then
    npl_docker_write_wrapper "$NPL_DOCKER_RUN_DIR/npl-runc" || return 1
    args+=(--add-runtime "npl-runc=$NPL_DOCKER_RUN_DIR/npl-runc" --default-runtime npl-runc)
  fi
  (
    # Serialise concurrent starts; the loser finds the winner's engine answering.
    exec 9>"$NPL_DOCKER_RUN_DIR/start.lock"
    flock 9
    DOCKER_HOST="$sock" docker info >/dev/null 2>&1 && exit 0
    npl_docker_log "starting a private dockerd (log: $cache/dockerd.log)"
    setsid dockerd "${args[@]}" >>"$cache/dockerd.log" 2>&1 9>&- </dev/null &
    local i
    for i in $(seq 1 300); do
      DOCKER_HOST="$sock" docker info >/dev/null 2>&1 && exit 0
      sleep 0.1
    done
    npl_docker_log "dockerd did not answer within 30 s; last lines of its log:"
    tail -n 20 "$cache/dockerd.log" >&2
    exit 1
  ) || return 1
  export DOCKER_HOST="$sock" NPL_DOCKER_PRIVATE=1
}
