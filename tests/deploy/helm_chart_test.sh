#!/bin/sh
# The Helm chart helm/anchorage: `helm lint --strict` and `helm template` of
# every ci/*-values.yaml, checks of the rendered manifests
# (check_manifests.py, told by each values file's "# features:" line which
# opt-in features, curve and network-policy, must be there), the opt-in
# CURVE keys and NetworkPolicies, values.schema.json rejecting bad values, the
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
  # The opt-in features the variant turns on (the others must not render).
  features="$(sed -n 's/^# features: *//p' "$values")"
  "$kubectl" label --local -f "$work/$variant.yaml" check=1 -o json \
    >"$work/$variant.json" || fail "kubectl cannot parse the $variant manifests"
  # shellcheck disable=SC2086 # $features is a list of words.
  python3 "$src/tests/deploy/check_manifests.py" "${workers:-4}" \
    "$src/deploy/grafana/dashboards/anchorage.json" $features <"$work/$variant.json" ||
    fail "manifest checks of $variant"
  # The checks notice a run that Kubernetes would restart or number wrongly,
  # and (in the variants with them) CURVE keys a role must not see or that
  # others can read, and NetworkPolicies that admit more than the run.
  cat >"$work/mutations" <<'EOF'
s/"completionMode": *"Indexed"/"completionMode": "NonIndexed"/
s/"restartPolicy": *"OnFailure"/"restartPolicy": "Always"/
s/"kind": *"Job"/"kind": "StatefulSet"/
s/job-completion-index/pod-index/g
EOF
  case " $features " in *" curve "*) cat >>"$work/mutations" <<'EOF'
s/"worker-0\.pub"/"worker-0.secret"/g
s/"server\.pub"/"server.secret"/g
s/--curve-allowed-keys=/--curve-allowed-keys-off=/
s/"defaultMode": 288/"defaultMode": 292/
s/worker-[$](WORKER_ID)[.]secret/worker-0.secret/
EOF
  esac
  # A sharded service whose shards do not take their index, whose workers
  # name them out of order, or whose Service hides the shards' pods.
  case "$variant" in sharded) cat >>"$work/mutations" <<'EOF'
s/--shard=[$](SHARD)/--shard=0/
s/-0[.]rel-sharded/-2.rel-sharded/
s/"clusterIP": "None"/"clusterIP": "10.0.0.1"/
EOF
  esac
  case " $features " in *" network-policy "*) cat >>"$work/mutations" <<'EOF'
s/"Ingress"/"Egress"/
s/"from": \[/"to": [/
s/"namespaceSelector": {/"ipBlock": {"cidr": "0.0.0.0\/0"}, "namespaceSelector": {/
EOF
  esac
  while IFS= read -r mutation; do
    # shellcheck disable=SC2086
    if sed "$mutation" "$work/$variant.json" | python3 "$src/tests/deploy/check_manifests.py" \
         "${workers:-4}" "$src/deploy/grafana/dashboards/anchorage.json" $features >/dev/null; then
      fail "check_manifests.py accepts the $variant manifests after $mutation"
    fi
  done <"$work/mutations"
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
           checkpoint.persistence.size=lots security.curve.enabled=maybe \
           security.curve.secretName=Not_A_Name networkPolicy.enabled=maybe \
           networkPolicy.prometheus.podSelector.app=prometheus; do
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

# CURVE and NetworkPolicies are opt-in: the default values render neither.
! grep -q -- '--curve-' "$work/default.yaml" || fail "the default values pass --curve-* flags"
! grep -q 'name: curve$' "$work/default.yaml" || fail "the default values mount CURVE keys"
! grep -q 'kind: NetworkPolicy' "$work/default.yaml" || fail "the default values render a NetworkPolicy"
# CURVE: the Secret is <fullname>-curve unless named, on both roles; the
# keys are unreadable without an fsGroup, so the chart refuses to render.
[ "$(grep -c '^            secretName: rel-curve-anchorage-curve$' "$work/curve.yaml")" = 2 ] ||
  fail "the curve variant does not mount <fullname>-curve on both Jobs"
"$helm" template rel "$chart" --set security.curve.enabled=true \
  --set security.curve.secretName=run-keys >"$work/keys.yaml" || fail "helm template with a CURVE Secret name"
[ "$(grep -c '^            secretName: run-keys$' "$work/keys.yaml")" = 2 ] ||
  fail "security.curve.secretName is not the Secret of both Jobs"
if "$helm" template rel "$chart" --set security.curve.enabled=true \
     --set podSecurityContext.fsGroup=null >/dev/null 2>"$work/err.log"; then
  fail "security.curve.enabled renders without podSecurityContext.fsGroup (unreadable keys)"
fi
grep -q 'needs podSecurityContext.fsGroup' "$work/err.log" ||
  { cat "$work/err.log"; fail "CURVE without an fsGroup fails, but not on the fsGroup check"; }
# CURVE and NetworkPolicies together, on other ports, with the default
# Prometheus selectors (pods app.kubernetes.io/name=prometheus in every
# namespace) rendered as they are.
"$helm" template rel "$chart" --set networkPolicy.enabled=true --set security.curve.enabled=true \
  --set workers=2 --set server.port=6000 --set server.metricsPort=9200 >"$work/both.yaml" ||
  fail "helm template with CURVE and NetworkPolicies"
"$kubectl" label --local -f "$work/both.yaml" check=1 -o json >"$work/both.json" ||
  fail "kubectl cannot parse the CURVE + NetworkPolicy manifests"
python3 "$src/tests/deploy/check_manifests.py" 2 "$src/deploy/grafana/dashboards/anchorage.json" \
  curve network-policy <"$work/both.json" || fail "manifest checks of CURVE + NetworkPolicies"
python3 -c '
import json, sys
text, d, i, peers = open(sys.argv[1]).read(), json.JSONDecoder(), 0, []
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    o, i = d.raw_decode(text, i)
    for o in o.get("items", [o]):
        if o["kind"] == "NetworkPolicy":
            peers += [p for r in o["spec"]["ingress"] for p in r["from"] if "namespaceSelector" in p]
want = {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
sys.exit(0 if len(peers) == 2 and all(p == want for p in peers) else "Prometheus peers %s != %s" % (peers, want))
' "$work/both.json" || fail "the default networkPolicy.prometheus selectors are not rendered as they are"
grep -q 'kubernetes.io/metadata.name: monitoring' "$work/networkpolicy.yaml" ||
  fail "networkPolicy.prometheus.namespaceSelector of the networkpolicy variant is not rendered"

echo "ok: chart lints, renders and checks for every ci/*-values.yaml; schema rejects bad values"
