#!/usr/bin/env bash
# Renders manifests/ with `kubectl kustomize`, alone and with each optional component,
# and validates every object with `kubernetes-validate --strict` against one Kubernetes
# version (K8S_VERSION, default below). Called by .ci/run; run it on its own as
#   pip install kubernetes-validate && scripts/check-manifests.sh
# To check another component, add a `render_with` line at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

# A recent release whose schemas kubernetes-validate ships.
K8S_VERSION=${K8S_VERSION:-1.34.0}

if ! command -v kubectl >/dev/null 2>&1; then
  echo "check-manifests: kubectl is missing; install it (https://kubernetes.io/docs/tasks/tools/)" >&2
  exit 1
fi
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "check-manifests: kubernetes-validate is missing; pip install kubernetes-validate" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# validate NAME FILE: every object of the multi-document FILE, unknown fields refused.
validate() {
  echo "== $1: $(grep -c '^kind:' "$2") objects, Kubernetes $K8S_VERSION"
  kubernetes-validate --strict --quiet -k "$K8S_VERSION" "$2"
}

# render NAME DIR: kustomize DIR and validate what it renders.
render() {
  kubectl kustomize "$2" >"$work/$1.yaml"
  validate "$1" "$work/$1.yaml"
}

# render_with NAME COMPONENT...: manifests/ with the components (paths under
# manifests/) in an overlay of its own. The overlay lives outside manifests/ (kustomize
# refuses a base that contains its overlay) and names it by a relative path (it refuses
# absolute ones).
render_with() {
  local name=$1 dir="$work/overlay-$1" base
  shift
  mkdir -p "$dir"
  base=$(realpath --relative-to="$dir" manifests)
  {
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources: [$base]"
    echo "components:"
    for c in "$@"; do echo "  - $base/$c"; done
  } >"$dir/kustomization.yaml"
  render "$name" "$dir"
}

# render_core NAME DIR: kustomize DIR and validate what it renders but the Prometheus
# Operator's objects (monitoring.coreos.com: kubernetes-validate has no schemas for
# them without the operator's CRDs; tests/components.rs checks their shape).
render_core() {
  kubectl kustomize "$2" >"$work/$1-all.yaml"
  # PyYAML comes with kubernetes-validate.
  python3 - "$work/$1-all.yaml" "$work/$1.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
core = [d for d in docs if not d["apiVersion"].startswith("monitoring.coreos.com/")]
print(f"   (left to tests/components.rs: {sorted(d['kind'] for d in docs if d not in core)})")
yaml.safe_dump_all(core, open(sys.argv[2], "w"))
PY
  validate "$1" "$work/$1.yaml"
}

render base manifests
render_with auth auth
# Both optional components of manifests/components/, as an operator's overlay lists them.
render_core with-components tests/fixtures/kustomize/with-components
echo "check-manifests: all valid"
