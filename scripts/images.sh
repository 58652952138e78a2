#!/usr/bin/env bash
# Builds the container images of npl-agent, npl-controller and the BIG-IP emulator from their
# Dockerfiles (context: the repository root) and prints, on stdout, one line each:
#   NPL_IMAGE_AGENT=npl-agent:<tag>
#   NPL_IMAGE_CONTROLLER=npl-controller:<tag>
#   NPL_IMAGE_EMULATOR=npl-bigip-emulator:<tag>
# <tag> is the first 12 hex digits of the image ID (the digest of the image's config, which names
# every layer), so it changes exactly when the image's content does: kind never runs a stale image.
# Usage: bash scripts/images.sh [agent|controller|emulator ...]   (default: all three)
#
# First it makes the Dockerfiles' base images exist (scripts/base-images.sh: the official ones where
# they can be pulled, stand-ins built here where they cannot). Builds are incremental through
# Docker's layer cache; the three Dockerfiles share their first build steps. Progress goes to
# stderr; on failure the exit code is non-zero after a line "error: ...". Uses the engine of
# scripts/docker.sh (npl_ensure_docker); `--network host` is added when that is our private engine,
# which has no bridge network. Environment: NPL_IMAGES_SOURCE sets the org.opencontainers.image.source
# label (default: the git remote "origin", when there is one).
set -euo pipefail
shopt -s inherit_errexit

NPL_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# component -> "package dir|image repository|output key"
declare -A IMAGES=(
  [agent]="packages/agent|npl-agent|NPL_IMAGE_AGENT"
  [controller]="packages/controller|npl-controller|NPL_IMAGE_CONTROLLER"
  [emulator]="packages/bigip-emulator|npl-bigip-emulator|NPL_IMAGE_EMULATOR"
)
ORDER=(agent controller emulator)

package_version() {
  node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version)' "$1/package.json" 2>/dev/null ||
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1/package.json" | head -n 1
}

# Builds one component; prints its KEY=repo:tag line.
build_image() {
  local component="$1" dir repo key
  IFS='|' read -r dir repo key <<<"${IMAGES[$component]}"
  local version source idfile t0=$SECONDS
  version="$(package_version "$NPL_REPO_ROOT/$dir")"
  [ -n "$version" ] || die "no version in $dir/package.json"
  source="${NPL_IMAGES_SOURCE:-$(git -C "$NPL_REPO_ROOT" remote get-url origin 2>/dev/null || true)}"
  idfile="$(mktemp)"
  local args=(build --file "$NPL_REPO_ROOT/$dir/Dockerfile" --iidfile "$idfile"
    --build-arg "VERSION=$version" --build-arg "SOURCE=$source")
  [ "${NPL_DOCKER_PRIVATE:-0}" = 1 ] && args+=(--network host)
  # The legacy builder (no buildx) leaves a failed step's container behind unless told; buildx
  # refuses the flag.
  docker buildx version >/dev/null 2>&1 || args+=(--force-rm)
  log "building $repo ($dir/Dockerfile)"
  if ! docker "${args[@]}" "$NPL_REPO_ROOT" >"$idfile.log" 2>&1; then
    tail -n 40 "$idfile.log" >&2
    rm -f "$idfile" "$idfile.log"
    die "docker build of $dir/Dockerfile failed (its last lines are above)"
  fi
  [ "${NPL_IMAGES_VERBOSE:-0}" = 1 ] && cat "$idfile.log" >&2
  local id; id="$(cat "$idfile")"
  rm -f "$idfile" "$idfile.log"
  [[ "$id" =~ ^sha256:[0-9a-f]{64}$ ]] || die "docker build of $dir/Dockerfile gave no image ID"
  local ref="$repo:${id:7:12}"
  docker tag "$id" "$ref" || die "docker tag $id $ref failed"
  local size; size="$(docker image inspect -f '{{.Size}}' "$ref")"
  log "$ref: $((size / 1000000)) MB, $((SECONDS - t0)) s"
  printf '%s=%s\n' "$key" "$ref"
}

main() {
  local components=("$@") c
  [ ${#components[@]} -gt 0 ] || components=("${ORDER[@]}")
  for c in "${components[@]}"; do
    [ -n "${IMAGES[$c]:-}" ] || die "unknown image '$c': expected agent, controller or emulator"
  done
  # shellcheck source=scripts/docker.sh
  source "$NPL_REPO_ROOT/scripts/docker.sh"
  npl_ensure_docker || die "no Docker engine (see the lines above)"
  local t0=$SECONDS
  bash "$NPL_REPO_ROOT/scripts/base-images.sh" || die "the base images are missing (see the lines above)"
  # One build at a time on this engine: a second caller waits, then finds every layer cached.
  local cache="${NPL_CACHE_DIR:-$HOME/.cache/npl}/images"
  mkdir -p "$cache"
  exec 8>"$cache/images.lock"
  flock 8
  local out=() line
  for c in "${components[@]}"; do
    line="$(build_image "$c")"
    out+=("$line")
  done
  log "done in $((SECONDS - t0)) s"
  printf '%s\n' "${out[@]}"
}

main "$@"
