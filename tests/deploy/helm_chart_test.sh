#!/bin/sh
# The Helm chart helm/anchorage: `helm lint --strict` and `helm template` of
# every ci/*-values.yaml, checks of the rendered manifests
# (check_manifests.py), values.schema.json rejecting bad values, the
# dashboard being one file (deploy/ links into the chart), and the rendered
# run config being accepted by the real binary.
# Usage: helm_chart_test.sh SOURCE_DIR ANCHORAGE_BINARY
set -eu

src="$(cd "$1" && pwd)"
anchorage="$2"
chart="$src/helm/anchorage"
helm="$("$src/scripts/fetch-helm")"
kubectl="$(dirname "$helm")/../kubectl/kubectl"
work="$(mktemp -d "${TMPDIR:-/tmp}/anchorage-helm-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT INT TERM
export HELM_CACHE_HOME="$work/helm" HELM_CONFIG_HOME="$work/helm" HELM_DATA_HOME="$work/helm"
export KUBECONFIG=/dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }

# One dashboard file: deploy/ links to the chart's copy.
link="$src/deploy/grafana/dashboards/anchorage.json"
[ -L "$link" ] || fail "$link is not a symlink"
[ "$(readlink -f "$link")" = "$(readlink -f "$chart/dashboards/anchorage.json")" ] ||
  fail "$link does not point at the chart's dashboards/anchorage.json"

for values in "$chart"/ci/*-values.yaml; do
  variant="$(basename "$values" -values.yaml)"
  echo "== $variant"
  "$helm" lint --strict "$chart" -f "$values" >"$work/lint.log" 2>&1 ||
    { cat "$work/lint.log"; fail "helm lint --strict $variant"; }
  "$helm" template "rel-$variant" "$chart" -f "$values" --namespace anchorage \
    >"$work/$variant.yaml" || fail "helm template $variant"
  workers="$(sed -n 's/^workers: *\([0-9][0-9]*\).*/\1/p' "$values")"
  "$kubectl" label --local -f "$work/$variant.yaml" check=1 -o json \
    >"$work/$variant.json" || fail "kubectl cannot parse the $variant manifests"
  python3 "$src/tests/deploy/check_manifests.py" "${workers:-4}" \
    "$src/deploy/grafana/dashboards/anchorage.json" <"$work/$variant.json" ||
    fail "manifest checks of $variant"
  # The checks notice a run that Kubernetes would restart or number wrongly.
  for mutation in 's/"completionMode": *"Indexed"/"completionMode": "NonIndexed"/' \
                  's/"restartPolicy": *"OnFailure"/"restartPolicy": "Always"/' \
                  's/"kind": *"Job"/"kind": "StatefulSet"/' \
                  's/job-completion-index/pod-index/g'; do
    if sed "$mutation" "$work/$variant.json" | python3 "$src/tests/deploy/check_manifests.py" \
         "${workers:-4}" "$src/deploy/grafana/dashboards/anchorage.json" >/dev/null; then
      fail "check_manifests.py accepts the $variant manifests after $mutation"
    fi
  done
  # The rendered config.yaml is accepted by the real binary (exit 2 = bad
  # config). The worker gives up on the unreachable server after 0.2 s.
  python3 -c '
import json, sys
text, d, i = open(sys.argv[1]).read(), json.JSONDecoder(), 0
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    o, i = d.raw_decode(text, i)
    if "config.yaml" in o.get("data", {}): print(o["data"]["config.yaml"], end="")
' "$work/$variant.json" >"$work/$variant-config.yaml"
  [ -s "$work/$variant-config.yaml" ] || fail "no config.yaml in the $variant ConfigMap"
  set +e
  "$anchorage" worker --config "$work/$variant-config.yaml" \
    --server tcp://127.0.0.1:9 --server-timeout 0.2 --worker-id 0 \
    --metrics-address 127.0.0.1 --metrics-port 0 --dataset synthetic-gaussian \
    >"$work/worker.log" 2>&1
  code=$?
  set -e
  [ "$code" -ne 2 ] || { cat "$work/worker.log"; fail "anchorage rejects the $variant config.yaml"; }
done

# NOTES.txt renders and says how to reach the metrics.
"$helm" install notes "$chart" --dry-run=client >"$work/install.txt" 2>&1 ||
  { cat "$work/install.txt"; fail "helm install --dry-run=client"; }
sed -n '/^NOTES:/,$p' "$work/install.txt" | grep -q 'port-forward svc/notes-anchorage-server' ||
  { cat "$work/install.txt"; fail "NOTES.txt does not say how to reach the server's metrics"; }

# values.schema.json rejects bad values.
for bad in workers=0 training.algorithm=bogus server.port=70000 \
           training.localSteps=0 image.tag=latest job.backoffLimit=-1 \
           job.ttlSecondsAfterFinished=-5 checkpoint.interval=0 \
           checkpoint.persistence.size=lots; do
  if "$helm" template rel "$chart" --set "$bad" >/dev/null 2>"$work/err.log"; then
    fail "helm template --set $bad succeeded; the schema should reject it"
  fi
  grep -q "schema" "$work/err.log" || { cat "$work/err.log"; fail "--set $bad failed, but not on the schema"; }
done
# job.ttlSecondsAfterFinished / activeDeadlineSeconds reach both Jobs.
"$helm" template rel "$chart" --set job.ttlSecondsAfterFinished=0 \
  --set job.activeDeadlineSeconds=86400 >"$work/ttl.yaml" || fail "helm template with job.* values"
[ "$(grep -c '^  ttlSecondsAfterFinished: 0$' "$work/ttl.yaml")" = 2 ] ||
  fail "job.ttlSecondsAfterFinished=0 is not on both Jobs"
[ "$(grep -c '^  activeDeadlineSeconds: 86400$' "$work/ttl.yaml")" = 2 ] ||
  fail "job.activeDeadlineSeconds is not on both Jobs"
! grep -q 'ttlSecondsAfterFinished' "$work/default.yaml" ||
  fail "the default values render a ttlSecondsAfterFinished (finished Jobs are kept by default)"

# Checkpoints are on by default (an emptyDir); off, the server gets no
# --checkpoint-dir; on a claim, the chart makes it unless one is named.
grep -q -- '--checkpoint-dir=/var/lib/anchorage/checkpoints' "$work/default.yaml" ||
  fail "the default values do not checkpoint the server"
"$helm" template rel "$chart" --set checkpoint.enabled=false >"$work/nockpt.yaml" ||
  fail "helm template with checkpoint.enabled=false"
! grep -q -- '--checkpoint-dir' "$work/nockpt.yaml" ||
  fail "checkpoint.enabled=false still passes --checkpoint-dir"
grep -q 'kind: PersistentVolumeClaim' "$work/checkpoint-pvc.yaml" ||
  fail "checkpoint.persistence.enabled makes no PersistentVolumeClaim"
"$helm" template rel "$chart" --set checkpoint.persistence.enabled=true \
  --set checkpoint.persistence.existingClaim=mine >"$work/claim.yaml" ||
  fail "helm template with an existing claim"
! grep -q 'kind: PersistentVolumeClaim' "$work/claim.yaml" &&
  grep -q 'claimName: mine' "$work/claim.yaml" ||
  fail "an existing claim is not used as it is"

echo "ok: chart lints, renders and checks for every ci/*-values.yaml; schema rejects bad values"
