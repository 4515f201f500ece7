#!/bin/sh
# Validates the manifests `helm template` renders for every
# helm/anchorage/ci/*-values.yaml against the Kubernetes JSON schemas bundled
# in the npm packages kubernetes-models and
# @kubernetes-models/prometheus-operator (offline once installed; versions
# pinned by tests/deploy/k8s-validate/package-lock.json, installed with
# `npm ci` into .cache/k8s-validate).
# Usage: k8s_schema_test.sh SOURCE_DIR
set -eu

src="$(cd "$1" && pwd)"
here="$src/tests/deploy/k8s-validate"
cache="$src/.cache/k8s-validate"
helm="$("$src/scripts/fetch-helm")"
command -v npm >/dev/null 2>&1 || { echo "FAIL: npm is missing" >&2; exit 1; }

mkdir -p "$cache"
(
  flock 9
  if ! cmp -s "$here/package-lock.json" "$cache/package-lock.json" ||
     [ ! -d "$cache/node_modules/kubernetes-models" ]; then
    cp "$here/package.json" "$here/package-lock.json" "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --silent)
  fi
  cp "$here/validate.mjs" "$cache/validate.mjs"
) 9>"$cache/.lock"

work="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-k8s-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT INT TERM
export HELM_CACHE_HOME="$work/helm" HELM_CONFIG_HOME="$work/helm" HELM_DATA_HOME="$work/helm"
for values in "$src"/helm/anchorage/ci/*-values.yaml; do
  variant="$(basename "$values" -values.yaml)"
  "$helm" template "rel-$variant" "$src/helm/anchorage" -f "$values" >"$work/$variant.yaml"
  echo "== $variant"
  node "$cache/validate.mjs" "$work/$variant.yaml"
done
