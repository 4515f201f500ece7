#!/bin/sh
# `anchorage demo --chaos` end to end: while the demo trains, the server and
# the workers are killed with SIGKILL at random moments and started again.
# The demo must finish (exit 0), report kills of both, record the server's
# restarts in its summary, and land within 3 points of the same run without
# chaos, which it runs first.
set -eu
anchorage=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The demo keeps its logs in a fresh directory under TMPDIR: keep them here.
export TMPDIR="$dir"
fail() {
  echo "FAIL: $*"
  cat "$dir/demo.log"
  exit 1
}

# Steps of at least 1 ms: a run of a few seconds on any CPU, long enough
# for several kills one second apart.
code=0
"$anchorage" demo --chaos --chaos-seed 1 --chaos-interval 1 --workers 2 \
  --dataset synthetic-gaussian --model mlp:32 --epochs 10 \
  --min-step-time 0.001 --progress-interval 0.5 --timeout 240 \
  --summary-json "$dir/summary.json" > "$dir/demo.log" 2>&1 || code=$?
[ "$code" -eq 0 ] || fail "demo --chaos exited $code"
line=$(grep '^  chaos ' "$dir/demo.log") || fail "no chaos line in the summary"
server_kills=$(echo "$line" | sed -n 's/.*server \([0-9]*\), workers.*/\1/p')
worker_kills=$(echo "$line" | sed -n 's/.*workers \([0-9]*\) (seed.*/\1/p')
[ "${server_kills:-0}" -ge 1 ] && [ "${worker_kills:-0}" -ge 1 ] ||
  fail "expected kills of the server and of a worker: $line"
[ "$(grep -c '^chaos: kill [0-9]*: SIGKILL to' "$dir/demo.log")" -eq \
  $((server_kills + worker_kills)) ] || fail "the kills printed do not add up: $line"
restarts=$(sed -n 's/^  "restarts": \([0-9]*\),$/\1/p' "$dir/summary.json")
[ "$restarts" = "$server_kills" ] ||
  fail "the summary records $restarts restarts for $server_kills server kills"
grep -q '"stop_reason": "reached' "$dir/summary.json" || fail "the run did not complete"
cost=$(sed -n 's/.*test accuracy [0-9.]* vs [0-9.]* (\([-+0-9.]*\)).*/\1/p' "$dir/demo.log")
awk -v d="$cost" 'BEGIN { exit !(d >= -0.03) }' ||
  fail "the chaos cost $cost of accuracy"
echo "demo --chaos end to end: ok ($line)"
