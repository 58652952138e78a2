#!/bin/sh
# collect-proxy-userland.sh OUT WRAPPER — runs in the node rootfs (a build stage of node-image.sh)
# and copies into OUT what kube-proxy's image needs besides kube-proxy: iptables (legacy and nft
# backends) with every xtables extension (a Service with two endpoints needs 'statistic'), nft,
# conntrack, a shell with grep and ln for iptables-wrapper (WRAPPER), and every shared library
# those load. OUT gets Debian's merged-/usr layout (/bin, /sbin, /lib, /lib64 link into /usr), so
# every path a binary or an absolute symlink names resolves as it does in the rootfs.
set -eu
out="$1" wrapper="$2"
mkdir -p "$out/usr/bin" "$out/usr/sbin" "$out/usr/lib" "$out/usr/lib64" "$out/tmp" "$out/etc" "$out/run" "$out/var"
chmod 1777 "$out/tmp"
for d in bin sbin lib lib64; do ln -sfn "usr/$d" "$out/$d"; done
ln -sfn ../run "$out/var/run"

canon() { case "$1" in /bin/*|/sbin/*|/lib/*|/lib64/*) echo "/usr$1" ;; *) echo "$1" ;; esac; }
# copy PATH: the file under its /usr path, and what it links to (a symlink chain's final target)
copy() {
  c="$(canon "$1")"
  cp -a --parents "$c" "$out/"
  t="$(readlink -f "$c")"
  [ "$t" = "$c" ] || cp -a --parents "$t" "$out/"
}

bins="/usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/sbin/nft /usr/sbin/conntrack
  /usr/bin/dash /usr/bin/sh /usr/bin/grep /usr/bin/timeout /usr/bin/ln /usr/bin/cat"
for b in $bins; do copy "$b"; done
for m in nft legacy; do
  for c in "iptables-$m" "iptables-$m-save" "iptables-$m-restore" "ip6tables-$m" "ip6tables-$m-save" "ip6tables-$m-restore"; do
    ln -sf "xtables-$m-multi" "$out/usr/sbin/$c"
  done
done
# iptables, iptables-save, ... go through the wrapper, which picks the node's backend on first use
install -m 0755 "$wrapper" "$out/usr/sbin/iptables-wrapper"
for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -sf iptables-wrapper "$out/usr/sbin/$c"
done
cp -a --parents /usr/lib/x86_64-linux-gnu/xtables "$out/"
for f in /etc/ethertypes /etc/protocols /etc/services /etc/nsswitch.conf /etc/iproute2; do
  [ -e "$f" ] && cp -a --parents "$f" "$out/"
done
# shared libraries (and the dynamic loader) of the binaries and of every xtables extension
{ for b in $bins; do ldd "$b" 2>/dev/null || true; done
  for so in /usr/lib/x86_64-linux-gnu/xtables/*.so; do ldd "$so" 2>/dev/null || true; done
} | awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u | while read -r lib; do
  copy "$lib"
done
