#!/usr/bin/env bash
# node-image.sh — make everything kind needs available, building what cannot be pulled, and print
#   NPL_KIND=/abs/path/kind
#   NPL_KIND_NODE_IMAGE=<image ref>
# (stdout; progress on stderr; failure: non-zero exit and "error: ..." on stderr).
#
# Where the node image comes from (NPL_KIND_NODE_IMAGE_SOURCE, default auto):
#   stock  kind's own node image for this Kubernetes minor (KIND_STOCK_NODE_IMAGE in versions.sh),
#          pulled if missing, and `kind` from PATH, else built with `go install` (cached).
#   build  assemble the node image here, offline except for Go modules and Debian's mirror:
#            - Go binaries (lib/tools.sh, packages/cluster/scripts/build-binaries.sh --node)
#            - a Debian rootfs with systemd, containerd, runc, iptables, nftables (lib/rootfs.sh)
#            - kubeadm's images, tagged exactly as `kubeadm config images list` prints, saved into
#              the node image and imported into containerd at boot (npl-import-images.service)
#            - kind's base files from the kind module, containerd's config (our pause image,
#              restrict_oom_score_adj) and STOPSIGNAL SIGRTMIN+3
#          The tag is npl-kind-node:<k8s version>-<hash of every input>, so a changed input gives
#          a new image; an existing tag is reused at once (warm run: a second or two).
#   auto   stock when the stock image is present or `docker pull` gets it, else build.
# Options: --force  rebuild the node image and kubeadm's images even if the tag exists.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

NODE_RECIPE=1
force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
  *) kind_die "unknown argument '$1' (usage: node-image.sh [--force])" ;;
esac
start=$SECONDS
kind_docker

# ------------------------------------------------------------------ stock
source_mode="${NPL_KIND_NODE_IMAGE_SOURCE:-auto}"
case "$source_mode" in auto|stock|build) ;; *) kind_die "NPL_KIND_NODE_IMAGE_SOURCE must be auto, stock or build, got '$source_mode'" ;; esac
if [[ "$source_mode" != build ]]; then
  if docker image inspect "$KIND_STOCK_NODE_IMAGE" >/dev/null 2>&1 \
    || { kind_log "trying to pull $KIND_STOCK_NODE_IMAGE"; timeout 600 docker pull -q "$KIND_STOCK_NODE_IMAGE" >&2 2>/dev/null; }; then
    if command -v kind >/dev/null 2>&1; then
      kind_bin="$(command -v kind)"
    else
      kind_bin="$(bash "$kind_here/lib/tools.sh" --kind-only | sed -n 's/^KIND_BIN=//p')"
    fi
    kind_log "using the stock node image $KIND_STOCK_NODE_IMAGE and $kind_bin ($(( SECONDS - start ))s)"
    printf 'NPL_KIND=%s\nNPL_KIND_NODE_IMAGE=%s\n' "$kind_bin" "$KIND_STOCK_NODE_IMAGE"
    exit 0
  fi
  [[ "$source_mode" == stock ]] && kind_die "NPL_KIND_NODE_IMAGE_SOURCE=stock but $KIND_STOCK_NODE_IMAGE is not present and cannot be pulled"
  kind_log "cannot pull $KIND_STOCK_NODE_IMAGE: building the node image here"
fi

# ------------------------------------------------------------------ inputs
declare -A v=()
while IFS='=' read -r k val; do [[ -n "$k" ]] && v[$k]="$val"; done < <(bash "$kind_here/lib/tools.sh")
while IFS='=' read -r k val; do [[ -n "$k" ]] && v[$k]="$val"; done < <(bash "$kind_here/lib/rootfs.sh")
for k in KIND_BIN KIND_CRICTL KIND_COREDNS KIND_PAUSE KIND_CNI_BIN_DIR KIND_BASE_FILES KIND_ROOTFS_TAR \
  NPL_KUBE_APISERVER NPL_KUBE_CONTROLLER_MANAGER NPL_KUBE_SCHEDULER NPL_ETCD NPL_KUBECTL NPL_KUBELET NPL_KUBEADM NPL_KUBE_PROXY; do
  [[ -n "${v[$k]:-}" && -e "${v[$k]}" ]] || kind_die "internal: $k missing from lib/tools.sh / lib/rootfs.sh output"
done
k8s_built="$("${v[NPL_KUBEADM]}" version -o short)"
[[ "$k8s_built" == "$KIND_K8S_VERSION" ]] || kind_die "versions.sh pins KIND_K8S_VERSION=$KIND_K8S_VERSION but packages/cluster/go/kube builds $k8s_built"

# Every input's identity: cache paths carry their versions and build stamps; our own files by content.
key="$( { echo "recipe=$NODE_RECIPE"
  for k in $(printf '%s\n' "${!v[@]}" | sort); do
    p="${v[$k]}"; [[ -d "$p" ]] || p="$(dirname "$p")"
    echo "$k=${v[$k]} stamp=$(cat "$p/.stamp" 2>/dev/null || true)"
  done
  cat "$kind_here/node-image.sh" "$kind_here/versions.sh" "$kind_here"/node/*; } | kind_hash)"
root_tag="npl-kind-rootfs:$(basename "${v[KIND_ROOTFS_TAR]}" .tar | sed 's/^rootfs-//')"
node_tag="npl-kind-node:$KIND_K8S_VERSION-${key:0:12}"

emit() {
  kind_log "node image $node_tag ready ($(( SECONDS - start ))s)"
  printf 'NPL_KIND=%s\nNPL_KIND_NODE_IMAGE=%s\n' "${v[KIND_BIN]}" "$node_tag"
  exit 0
}
(( force )) || ! docker image inspect "$node_tag" >/dev/null 2>&1 || emit
kind_lock node-image
(( force )) || ! docker image inspect "$node_tag" >/dev/null 2>&1 || emit

# ------------------------------------------------------------------ build
cache="$(kind_cache_root)/kind"
work="$(mktemp -d "$cache/.node-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export DOCKER_BUILDKIT=0 # the classic builder works offline with local FROM images
dbuild() { # TAG CONTEXT : docker build, output only on failure
  local t0=$SECONDS
  # --no-cache: the classic builder's cache missed changed symlinks in a COPY --from (seen here),
  # and a build only happens when an input changed anyway.
  docker build --no-cache --network host --force-rm -t "$1" "$2" >"$work/build.log" 2>&1 \
    || { tail -n 40 "$work/build.log" >&2; kind_die "docker build of $1 failed (log above)"; }
  kind_log "built image $1 in $(( SECONDS - t0 ))s"
}
link_or_copy() { cp -l "$1" "$2" 2>/dev/null || cp "$1" "$2"; }

if ! docker image inspect "$root_tag" >/dev/null 2>&1; then
  t0=$SECONDS
  docker import "${v[KIND_ROOTFS_TAR]}" "$root_tag" >/dev/null
  kind_log "imported the rootfs as $root_tag in $(( SECONDS - t0 ))s"
fi

# kubeadm's images: each a scratch image with its binary (kube-proxy also with iptables/nft).
mapfile -t images < <("${v[NPL_KUBEADM]}" config images list --kubernetes-version "$KIND_K8S_VERSION")
(( ${#images[@]} >= 6 )) || kind_die "kubeadm config images list printed ${#images[@]} images: ${images[*]}"
pause_image=""
for img in "${images[@]}"; do
  repo="${img%:*}"; name="${repo##*/}"
  ctx="$work/img-$name"; mkdir -p "$ctx/root/etc" "$ctx/root/tmp" "$ctx/root/usr/local/bin"
  chmod 1777 "$ctx/root/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$ctx/root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$ctx/root/etc/group"
  printf 'hosts: files dns\n' >"$ctx/root/etc/nsswitch.conf"
  entry=""
  case "$name" in
    kube-apiserver|kube-controller-manager|kube-scheduler) bin="${v[$(tr 'a-z-' 'A-Z_' <<<"NPL_$name")]}" ;;
    etcd) bin="${v[NPL_ETCD]}" ;;
    kube-proxy) bin="${v[NPL_KUBE_PROXY]}" ;;
    coredns) bin="${v[KIND_COREDNS]}"; entry='["/coredns"]' ;;
    pause) bin="${v[KIND_PAUSE]}"; entry='["/pause"]'; pause_image="$img" ;;
    *) kind_die "kubeadm asks for an image this script cannot build: $img" ;;
  esac
  if [[ -n "$entry" ]]; then link_or_copy "$bin" "$ctx/root/$(basename "$bin")"; else link_or_copy "$bin" "$ctx/root/usr/local/bin/$name"; fi
  {
    if [[ "$name" == kube-proxy ]]; then
      cp "$kind_here/node/collect-proxy-userland.sh" "$kind_here/node/iptables-wrapper" "$ctx/"
      echo "FROM $root_tag AS userland"
      echo "LABEL npl.kind.build=1"
      echo "COPY collect-proxy-userland.sh iptables-wrapper /"
      echo "RUN /collect-proxy-userland.sh /out /iptables-wrapper"
      echo "FROM scratch"
      echo "COPY --from=userland /out/ /"
    else
      echo "FROM scratch"
    fi
    echo "COPY root/ /"
    echo "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin"
    [[ -n "$entry" ]] && echo "ENTRYPOINT $entry"
    echo "LABEL npl.kind.build=1 npl.kind.node-image=$node_tag"
  } >"$ctx/Dockerfile"
  dbuild "$img" "$ctx"
done
[[ -n "$pause_image" ]] || kind_die "kubeadm config images list did not name a pause image: ${images[*]}"

# The node image.
ctx="$work/node"
mkdir -p "$ctx/base" "$ctx/usr-bin" "$ctx/local-bin" "$ctx/cni" "$ctx/kind/bin" "$ctx/kind/images" "$ctx/units"
cp -a "${v[KIND_BASE_FILES]}/." "$ctx/base/"; rm -f "$ctx/base/.stamp" "$ctx/base/.kind-base.Dockerfile"
# the modes kind's base Dockerfile gives them (COPY --chmod)
find "$ctx/base" -type d -exec chmod 0755 {} +
find "$ctx/base" -type f -exec chmod 0644 {} +
chmod 0755 "$ctx/base/usr/local/bin/"* "$ctx/base/kind/bin/"*
for b in NPL_KUBELET NPL_KUBEADM NPL_KUBECTL; do link_or_copy "${v[$b]}" "$ctx/usr-bin/"; done
link_or_copy "${v[KIND_CRICTL]}" "$ctx/local-bin/"
for p in "${KIND_CNI_PLUGINS[@]}"; do link_or_copy "${v[KIND_CNI_BIN_DIR]}/$p" "$ctx/cni/"; done
install -m 0755 "$kind_here/node/npl-import-images.sh" "$kind_here/node/setup-node.sh" "$ctx/kind/bin/"
install -m 0644 "$kind_here/node/npl-import-images.service" "$ctx/units/"
t0=$SECONDS
docker save -o "$ctx/kind/images/kubeadm-images.tar" "${images[@]}"
kind_log "saved kubeadm's images ($(du -m "$ctx/kind/images/kubeadm-images.tar" | cut -f1) MB) in $(( SECONDS - t0 ))s"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $root_tag
COPY base/ /
COPY usr-bin/ /usr/bin/
COPY local-bin/ /usr/local/bin/
COPY cni/ /opt/cni/bin/
COPY kind/ /kind/
COPY units/ /etc/systemd/system/
RUN /kind/bin/setup-node.sh "$KIND_K8S_VERSION" "$pause_image" && rm /kind/bin/setup-node.sh
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
LABEL npl.kind.build=1 npl.kind.node-image=$node_tag npl.kind.kubernetes=$KIND_K8S_VERSION
DOCKERFILE
dbuild "$node_tag" "$ctx"
# Images of ours that a rebuild untagged (kubeadm's tags moved to the new build): reclaim the space.
docker image prune -f --filter label=npl.kind.build >/dev/null 2>&1 || true
emit
