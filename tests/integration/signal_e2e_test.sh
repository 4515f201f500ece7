#!/bin/sh
# SIGTERM stops the server cleanly mid-run: it evaluates the anchor, tells
# the workers Done (not completed), writes its summary and exits 143; the
# workers exit 1 (their run did not complete). Checkpointed runs are
# server_restart_e2e_test.sh's.
# SIGINT stops the demo, which tears every child down and exits 130.
set -eu
anchorage=$1
. "$(dirname "$0")/e2e_lib.sh"
# Both workers in and training: a worker that joined only after the
# server had stopped would wait for it until its --server-timeout.
both_training() {
  port=$(sed -n 's/.*"metrics_port": \([0-9]*\).*/\1/p' "$dir/server.ready")
  metrics=$(curl -fsS "http://127.0.0.1:$port/metrics") || return 1
  echo "$metrics" | grep -q '^anchorage_server_workers_connected 2' &&
    echo "$metrics" | grep -q '^anchorage_server_pushes_total{outcome="applied"} [1-9]'
}

common="--workers 2 --dataset synthetic-gaussian --model mlp:64 --epochs 1000
  --metrics-address 127.0.0.1"
# shellcheck disable=SC2086
"$anchorage" server $common --bind 'tcp://127.0.0.1:*' \
  --ready-file "$dir/server.ready" --summary-json "$dir/summary.json" \
  > "$dir/server.log" 2>&1 &
server=$!
pids=$server
wait_for 30 test -s "$dir/server.ready"
endpoint=$(sed -n 's/.*"endpoint": "\([^"]*\)".*/\1/p' "$dir/server.ready")
workers=""
for id in 0 1; do
  # shellcheck disable=SC2086
  "$anchorage" worker $common --server "$endpoint" --worker-id "$id" \
    > "$dir/worker-$id.log" 2>&1 &
  workers="$workers $!"
  pids="$pids $!"
done
wait_for 30 both_training
kill -TERM "$server"
code=0
wait "$server" || code=$?
[ "$code" -eq 143 ] || fail "server exited $code on SIGTERM, expected 143"
for pid in $workers; do
  code=0
  wait "$pid" || code=$?
  [ "$code" -eq 1 ] || fail "a worker exited $code after an interrupted run's Done"
done
grep -q "stopped the run before it completed" "$dir"/worker-*.log ||
  fail "the workers do not say the run was interrupted"
grep -q '"stop_reason": "stopped by signal"' "$dir/summary.json" ||
  fail "summary lacks the stop reason: $(cat "$dir/summary.json")"

# The demo on SIGINT: exit 130, no child left behind.
"$anchorage" demo --workers 2 --dataset synthetic-gaussian --model mlp:64 \
  --epochs 1000 --progress-interval 0.1 > "$dir/demo.log" 2>&1 &
demo=$!
pids="$pids $demo"
wait_for 30 grep -q "workers 2/2" "$dir/demo.log"
run_dir=$(sed -n 's/.*logs in \(.*\)$/\1/p' "$dir/demo.log" | head -n 1)
children=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$run_dir"/*.ready)
[ -n "$children" ] || fail "no child pids in $run_dir"
kill -INT "$demo"
code=0
wait "$demo" || code=$?
[ "$code" -eq 130 ] || fail "demo exited $code on SIGINT, expected 130"
for pid in $children; do
  if kill -0 "$pid" 2>/dev/null; then fail "child $pid still runs after the demo"; fi
done
rm -rf "$run_dir"
echo "signals end to end: ok"
