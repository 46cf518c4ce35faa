#!/usr/bin/env bash
# Renders the install with both optional components (the overlay
# tests/fixtures/kustomize/with-components: manifests/ plus
# manifests/components/{prometheus-operator,grafana-dashboards}) and validates its
# Kubernetes objects with `kubernetes-validate --strict` against one Kubernetes version
# (K8S_VERSION). kubernetes-validate has no schemas for the Prometheus Operator's
# custom resources (monitoring.coreos.com): tests/components.rs checks their shape.
# Called by .ci/run; on its own: pip install kubernetes-validate && scripts/check-components.sh
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=${K8S_VERSION:-1.34.0}

for tool in kubectl kubernetes-validate python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "check-components: $tool is missing (kubectl: https://kubernetes.io/docs/tasks/tools/;" \
      "kubernetes-validate: pip install kubernetes-validate)" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

overlay=tests/fixtures/kustomize/with-components
if [ ! -f manifests/kustomization.yaml ]; then
  # Before the base exists: the components alone, in an overlay of their own (kustomize
  # takes relative paths only).
  echo "check-components: no manifests/kustomization.yaml; rendering the components alone"
  overlay="$work/components-only"
  mkdir -p "$overlay"
  rel=$(realpath --relative-to="$overlay" manifests/components)
  printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncomponents:\n  - %s/prometheus-operator\n  - %s/grafana-dashboards\n' \
    "$rel" "$rel" >"$overlay/kustomization.yaml"
fi

kubectl kustomize "$overlay" >"$work/all.yaml"
# Everything but the operator's objects (PyYAML comes with kubernetes-validate).
python3 - "$work/all.yaml" "$work/core.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
core = [d for d in docs if not d["apiVersion"].startswith("monitoring.coreos.com/")]
operator = sorted(d["kind"] for d in docs if d not in core)
assert operator == ["PodMonitor", "PrometheusRule", "ServiceMonitor"], operator
yaml.safe_dump_all(core, open(sys.argv[2], "w"))
print(f"== with-components: {len(docs)} objects; {len(core)} validated,"
      f" {len(operator)} operator objects left to tests/components.rs")
PY
kubernetes-validate --strict --quiet -k "$K8S_VERSION" "$work/core.yaml"
echo "check-components: all valid (Kubernetes $K8S_VERSION)"
