#!/usr/bin/env bash
# Renders every file generated from charts/npl (the chart is the one source of truth):
#   packages/chart/golden/<name>.yaml         helm template of charts/npl/ci/<name>-values.yaml
#   packages/agent/manifests/rbac.yaml        the agent's ServiceAccount and RBAC (the local cluster applies it)
#   packages/controller/manifests/rbac.yaml   the controller's ServiceAccount and RBAC
# Usage: bash packages/chart/scripts/render.sh [OUT_ROOT]   (default: the repository; tests render
# into a temporary OUT_ROOT and compare). Needs helm: NPL_HELM, else `helm` on PATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
out="${1:-$root}"
helm="${NPL_HELM:-helm}"
chart="$root/charts/npl"
# Release "npl" in kube-system: the names and namespace the plain manifests have always had.
template() { "$helm" template npl "$chart" --namespace kube-system "$@"; }

mkdir -p "$out/packages/chart/golden" "$out/packages/agent/manifests" "$out/packages/controller/manifests"
for values in "$chart"/ci/*-values.yaml; do
  name="$(basename "$values" -values.yaml)"
  template -f "$values" >"$out/packages/chart/golden/$name.yaml"
done

header() {
  printf '# GENERATED from charts/npl (%s) by packages/chart/scripts/render.sh: do not edit;\n' "$1"
  printf '# change the chart and run the script (a test compares this file with a fresh render).\n'
}
{ header templates/agent-rbac.yaml; template --show-only templates/agent-rbac.yaml; } >"$out/packages/agent/manifests/rbac.yaml"
{
  header templates/controller-rbac.yaml
  template --show-only templates/controller-rbac.yaml --set controller.enabled=true \
    --set controller.bigip.url=https://192.0.2.1 --set controller.bigip.credentials.existingSecret=bigip-login
} >"$out/packages/controller/manifests/rbac.yaml"
