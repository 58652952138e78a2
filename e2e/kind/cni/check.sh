#!/usr/bin/env bash
# check.sh — prove a kind cluster's pod network works: one echo pod per node (a DaemonSet in the
# namespace npl-cni-check, image = the CNI's own image, which has bash and perl), then from every
# pod a TCP connection to a pod on each other node, which must answer with that pod's name.
# With --full also, from every pod: the echo Service by ClusterIP and by DNS name (the answer must
# name one of the echo pods) and the API server through the `kubernetes` Service (ClusterIP and
# DNS name; a plain-HTTP request to its TLS port must get Go's "HTTP request to an HTTPS server"
# answer, which only the API server gives).
# Every check is polled until it passes or the deadline ends; nothing waits a fixed time.
#
# Usage: check.sh --kubeconfig FILE --image IMAGE [--timeout SECONDS] [--full] [--keep]
#   --keep   leave the namespace (default: delete it when every check passed)
# Environment: NPL_KUBECTL (default: kubectl on PATH).
# Progress on stderr ("ok - ..." per check); exit 0 when all pass, else "error: ..." and non-zero.
set -euo pipefail

log() { printf 'npl-cni-check: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

kubeconfig="" image="" timeout=180 full=0 keep=0
while (($#)); do
  case "$1" in
    --kubeconfig) kubeconfig="${2:?--kubeconfig needs a file}"; shift 2 ;;
    --image) image="${2:?--image needs an image reference}"; shift 2 ;;
    --timeout) timeout="${2:?--timeout needs seconds}"; shift 2 ;;
    --full) full=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ -f "$kubeconfig" ]] || die "--kubeconfig: '$kubeconfig' is not a file"
[[ -n "$image" ]] || die "--image is required (the CNI image loaded into the cluster)"
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout must be a whole number of seconds, got '$timeout'"

kubectl_bin="${NPL_KUBECTL:-kubectl}"
k() { "$kubectl_bin" --kubeconfig "$kubeconfig" "$@"; }
ns=npl-cni-check
deadline=$((SECONDS + timeout))
left() { local l=$((deadline - SECONDS)); ((l > 0)) && echo "$l" || echo 1; }

# A namespace left by an earlier run (--keep, or still terminating) would make apply fail.
k delete namespace "$ns" --ignore-not-found --wait=true --timeout="$(left)s" >/dev/null \
  || die "namespace $ns from an earlier run is still being deleted"
k apply -f - >/dev/null <<EOF || die "cannot create the check workload in namespace $ns"
apiVersion: v1
kind: Namespace
metadata:
  name: $ns
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: echo
  namespace: $ns
spec:
  selector:
    matchLabels: {app: npl-cni-echo}
  template:
    metadata:
      labels: {app: npl-cni-echo}
    spec:
      terminationGracePeriodSeconds: 1
      automountServiceAccountToken: false
      tolerations:
        - {operator: Exists, effect: NoSchedule}
      containers:
        - name: echo
          image: $image
          imagePullPolicy: Never
          # Answers every TCP connection on 8080 with the pod's name.
          command:
            - perl
            - -MIO::Socket::INET
            - -e
            - |
              \$SIG{TERM} = sub { exit 0 };
              my \$s = IO::Socket::INET->new(LocalPort => 8080, Listen => 64, ReuseAddr => 1) or die "listen: \$!";
              while (my \$c = \$s->accept) { print \$c "\$ENV{POD_NAME}\n"; close \$c }
          env:
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
          readinessProbe:
            tcpSocket: {port: 8080}
            periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: echo
  namespace: $ns
spec:
  selector: {app: npl-cni-echo}
  ports:
    - {port: 80, targetPort: 8080, protocol: TCP}
EOF

log "waiting for an echo pod on every node"
until k -n "$ns" rollout status daemonset/echo --timeout="$(left)s" >/dev/null 2>&1; do
  ((SECONDS < deadline)) || { k -n "$ns" get pods -o wide >&2 || true; die "the echo DaemonSet in $ns did not become ready within ${timeout}s (pod networking or image?)"; }
  sleep 1
done

# name node ip, one line per pod
mapfile -t pods < <(k -n "$ns" get pods -l app=npl-cni-echo \
  -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{"\n"}{end}')
nodes="$(printf '%s\n' "${pods[@]}" | awk '{print $2}' | sort -u | wc -l)"
((${#pods[@]} >= 1)) || die "no echo pods found in $ns"
log "echo pods: ${#pods[@]} on $nodes node(s)"

# probe POD HOST PORT: what a TCP connection from POD to HOST:PORT reads first (one line).
probe() {
  timeout 20 "$kubectl_bin" --kubeconfig "$kubeconfig" -n "$ns" exec "$1" -- \
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "%s" "$2" >&3 && IFS= read -r line <&3 && printf "%s\n" "${line%$'"'"'\r'"'"'}"' \
    "$2" "$3" "${4:-}" 2>/dev/null
}

# expect DESCRIPTION POD HOST PORT PATTERN [PAYLOAD]: poll until the answer matches PATTERN (an
# extended regex over the whole line).
expect() {
  local what="$1" pod="$2" host="$3" port="$4" pattern="$5" payload="${6:-}" got=""
  while :; do
    got="$(probe "$pod" "$host" "$port" "$payload" || true)"
    [[ "$got" =~ ^($pattern)$ ]] && { log "ok - $what"; return 0; }
    ((SECONDS < deadline)) || die "$what: no answer matching '$pattern' within ${timeout}s (last answer: '${got:-none}')"
    sleep 1
  done
}

names_re="$(printf '%s\n' "${pods[@]}" | awk '{print $1}' | paste -sd'|')"
for a in "${pods[@]}"; do
  read -r an anode _ <<<"$a"
  for b in "${pods[@]}"; do
    read -r bn bnode bip <<<"$b"
    [[ "$anode" != "$bnode" ]] || continue
    expect "pod $an ($anode) -> pod $bn ($bnode) at $bip:8080" "$an" "$bip" 8080 "$bn"
  done
done
if ((nodes < 2)); then log "only one node: no cross-node check possible"; fi

if ((full)); then
  svc_ip="$(k -n "$ns" get service echo -o jsonpath='{.spec.clusterIP}')"
  api_ip="$(k -n default get service kubernetes -o jsonpath='{.spec.clusterIP}')"
  api_port="$(k -n default get service kubernetes -o jsonpath='{.spec.ports[0].port}')"
  https_answer='HTTP/1\.[01] 400 Bad Request'
  for a in "${pods[@]}"; do
    read -r an anode _ <<<"$a"
    expect "pod $an ($anode) -> Service echo at ClusterIP $svc_ip:80" "$an" "$svc_ip" 80 "$names_re"
    expect "pod $an ($anode) -> Service echo.$ns.svc.cluster.local:80 (DNS)" "$an" "echo.$ns.svc.cluster.local" 80 "$names_re"
    expect "pod $an ($anode) -> API server at ClusterIP $api_ip:$api_port" "$an" "$api_ip" "$api_port" "$https_answer" $'GET /healthz HTTP/1.0\r\n\r\n'
    expect "pod $an ($anode) -> API server at kubernetes.default.svc.cluster.local:$api_port (DNS)" "$an" kubernetes.default.svc.cluster.local "$api_port" "$https_answer" $'GET /healthz HTTP/1.0\r\n\r\n'
  done
fi

if ((keep == 0)); then
  k delete namespace "$ns" --wait=false >/dev/null || log "warning: could not delete namespace $ns"
fi
log "all checks passed"
