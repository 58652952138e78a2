#!/usr/bin/env bash
# smoke-test.sh — start etcd + kube-apiserver (+ kube-controller-manager and
# kube-scheduler) from build-binaries.sh on 127.0.0.1, check that they become
# ready, print the apiserver's /version, then stop everything and clean up.
#
# Usage: smoke-test.sh            (builds the binaries first if needed)
# Needs: bash, curl, openssl. Exit status 0 when every component was healthy.
# Ports: picked at random among free ports in 20000-59999 on 127.0.0.1.
# Env: NPL_SMOKE_KEEP_LOGS=1 keeps the temp dir (with all logs) for debugging.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log() { printf 'smoke: %s\n' "$*" >&2; }
die() { printf 'smoke: FAIL: %s\n' "$*" >&2; exit 1; }
for t in curl openssl; do command -v "$t" >/dev/null || die "'$t' is required (apt-get install $t)"; done

declare -A bin=()
while IFS='=' read -r k v; do bin[$k]="$v"; done < <("$here/build-binaries.sh")
[[ -n "${bin[NPL_BIN_DIR]:-}" ]] || die "build-binaries.sh did not report NPL_BIN_DIR"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/npl-smoke.XXXXXX")"
pids=()
cleanup() {
  local rc=$? i p st
  # Stop in reverse start order (etcd last); SIGKILL after 10 s.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    p="${pids[i]}"
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 50); do
      st="$(ps -o stat= -p "$p" 2>/dev/null || true)"
      [[ -z "$st" || "$st" == Z* ]] && break
      sleep 0.2
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if (( rc != 0 )); then
    for f in "$tmp"/*.log; do [[ -f "$f" ]] && { echo "---- last lines of $(basename "$f")" >&2; tail -n 25 "$f" >&2; }; done
  fi
  if [[ "${NPL_SMOKE_KEEP_LOGS:-}" == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

used_ports=" "
free_port() {
  local p
  for _ in $(seq 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    [[ "$used_ports" == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then used_ports+="$p "; echo "$p"; return 0; fi
  done
  die "no free port found"
}

wait_for() { # description seconds pid command...
  local what="$1" secs="$2" pid="$3"; shift 3
  local deadline=$(( SECONDS + secs ))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || die "$what exited early"
    (( SECONDS < deadline )) || die "$what not ready after ${secs}s"
    sleep 0.3
  done
}

etcd_port=$(free_port) peer_port=$(free_port) api_port=$(free_port) kcm_port=$(free_port) sched_port=$(free_port)
token="$(openssl rand -hex 16)"

log "etcd: $("${bin[NPL_ETCD]}" --version | head -n1)"
"${bin[NPL_ETCD]}" --name=smoke --data-dir="$tmp/etcd-data" --unsafe-no-fsync \
  --listen-client-urls="http://127.0.0.1:$etcd_port" --advertise-client-urls="http://127.0.0.1:$etcd_port" \
  --listen-peer-urls="http://127.0.0.1:$peer_port" --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
  --initial-cluster="smoke=http://127.0.0.1:$peer_port" --log-level=warn >"$tmp/etcd.log" 2>&1 &
pids+=($!); etcd_pid=$!
t0=$SECONDS
wait_for etcd 30 "$etcd_pid" curl -fsS "http://127.0.0.1:$etcd_port/health"
log "etcd healthy on 127.0.0.1:$etcd_port after $((SECONDS - t0))s"

openssl genrsa -out "$tmp/sa.key" 2048 2>/dev/null
openssl rsa -in "$tmp/sa.key" -pubout -out "$tmp/sa.pub" 2>/dev/null
printf '%s,smoke-admin,smoke-admin-uid,system:masters\n' "$token" > "$tmp/tokens.csv"

"${bin[NPL_KUBE_APISERVER]}" \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --cert-dir="$tmp/apiserver-certs" \
  --secure-port="$api_port" --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
  --service-cluster-ip-range=198.18.128.0/20 \
  --allow-privileged=true \
  --authorization-mode=Node,RBAC \
  --service-account-issuer="https://127.0.0.1:$api_port" \
  --service-account-key-file="$tmp/sa.pub" \
  --service-account-signing-key-file="$tmp/sa.key" \
  --token-auth-file="$tmp/tokens.csv" \
  >"$tmp/kube-apiserver.log" 2>&1 &
pids+=($!); api_pid=$!
api="https://127.0.0.1:$api_port"
t0=$SECONDS
wait_for kube-apiserver 120 "$api_pid" curl -fsSk -H "Authorization: Bearer $token" "$api/readyz"
log "kube-apiserver ready on 127.0.0.1:$api_port after $((SECONDS - t0))s"
echo "GET /readyz: $(curl -fsSk -H "Authorization: Bearer $token" "$api/readyz")"
echo "GET /version:"
curl -fsSk -H "Authorization: Bearer $token" "$api/version"
echo

cat > "$tmp/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: smoke
  cluster: {server: "$api", insecure-skip-tls-verify: true}
users:
- name: smoke-admin
  user: {token: "$token"}
contexts:
- name: smoke
  context: {cluster: smoke, user: smoke-admin}
current-context: smoke
EOF

"${bin[NPL_KUBE_CONTROLLER_MANAGER]}" --kubeconfig="$tmp/kubeconfig" \
  --authentication-kubeconfig="$tmp/kubeconfig" --authorization-kubeconfig="$tmp/kubeconfig" \
  --secure-port="$kcm_port" --bind-address=127.0.0.1 --cert-dir="$tmp/kcm-certs" \
  --service-account-private-key-file="$tmp/sa.key" --use-service-account-credentials=true \
  --leader-elect=false >"$tmp/kube-controller-manager.log" 2>&1 &
pids+=($!); kcm_pid=$!
"${bin[NPL_KUBE_SCHEDULER]}" --kubeconfig="$tmp/kubeconfig" \
  --authentication-kubeconfig="$tmp/kubeconfig" --authorization-kubeconfig="$tmp/kubeconfig" \
  --secure-port="$sched_port" --bind-address=127.0.0.1 --cert-dir="$tmp/sched-certs" \
  --leader-elect=false >"$tmp/kube-scheduler.log" 2>&1 &
pids+=($!); sched_pid=$!
t0=$SECONDS
wait_for kube-controller-manager 60 "$kcm_pid" curl -fsSk "https://127.0.0.1:$kcm_port/healthz"
log "kube-controller-manager healthy on 127.0.0.1:$kcm_port after $((SECONDS - t0))s"
wait_for kube-scheduler 60 "$sched_pid" curl -fsSk "https://127.0.0.1:$sched_port/healthz"
log "kube-scheduler healthy on 127.0.0.1:$sched_port after $((SECONDS - t0))s"

# The controller manager should create the default service account in "default".
wait_for "default ServiceAccount" 60 "$kcm_pid" \
  curl -fsSk -H "Authorization: Bearer $token" "$api/api/v1/namespaces/default/serviceaccounts/default"
log "controller-manager created serviceaccount default/default"
log "OK"
