#!/usr/bin/env bash
# delete-cluster.sh --name NAME --slot S   (either may be left out, not both)
#
# Deletes the kind cluster NAME (its node containers and kubeconfig) and then the docker network
# npl-kind-S, unless a container of another cluster still uses it. Idempotent: a cluster or network
# that does not exist is not an error. Prints nothing on stdout.
set -euo pipefail
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

name="" slot=""
while (($#)); do
  case "$1" in
    --name) name="${2:-}"; shift 2 ;;
    --slot) slot="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2; exit 0 ;;
    *) kind_die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n "$name$slot" ]] || kind_die "give --name NAME and/or --slot S"
[[ -z "$name" ]] || kind_name_check "$name"
[[ -z "$slot" ]] || kind_slot_check "$slot"
kind_docker

if [[ -n "$name" ]]; then
  # kind's own delete when kind is at hand; in any case, no container labelled for the cluster stays.
  state="$(kind_state_dir)"
  if kind="$(kind_tool 2>/dev/null)"; then
    "$kind" delete cluster --name "$name" --kubeconfig "$state/$name.kubeconfig" >&2 2>&1 || true
  fi
  mapfile -t left < <(docker ps -aq --filter "label=io.x-k8s.kind.cluster=$name")
  if ((${#left[@]})); then docker rm -f -v "${left[@]}" >/dev/null; fi
  rm -f "$state/$name.kubeconfig" "$state/$name.kind.yaml"
  kind_log "cluster $name deleted"
fi

if [[ -n "$slot" ]]; then
  net="$(kind_network "$slot")"
  if docker network inspect "$net" >/dev/null 2>&1; then
    users="$(docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' "$net")"
    if [[ -n "${users// /}" ]]; then
      kind_log "keeping docker network $net: still used by $users"
    else
      docker network rm "$net" >/dev/null
      kind_log "docker network $net deleted"
    fi
  fi
fi
