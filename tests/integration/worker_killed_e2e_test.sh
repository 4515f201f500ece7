#!/bin/sh
# End to end with the real binary: a server and three workers as separate
# processes. While they run, the server's /metrics must show staleness and
# push-delay histograms with samples and each worker's its sync-wait
# histogram. Then one worker is killed with SIGKILL: the others finish the
# run and the server reports the lost worker.
set -eu
anchorage=$1
dir=$(mktemp -d)
pids=""
cleanup() {
  for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$dir"/*.log; do echo "== $f"; tail -n 20 "$f"; done
  exit 1
}

wait_for_file() {  # wait_for_file PATH SECONDS
  i=0
  while [ ! -s "$1" ]; do
    i=$((i + 1))
    [ "$i" -le $(($2 * 20)) ] || fail "timed out waiting for $1"
    sleep 0.05
  done
}

port_of() { sed -n 's/.*"metrics_port": \([0-9]*\).*/\1/p' "$1"; }

# 400 epochs (a few seconds) so the survivors train well past the 0.5 s of
# silence after which the server declares the killed worker lost.
common="--workers 3 --dataset synthetic-gaussian --model mlp:64 --epochs 400
  --local-steps 4 --heartbeat-interval-ms 50 --heartbeat-liveness 10
  --metrics-address 127.0.0.1 --metrics-port 0"

# shellcheck disable=SC2086
"$anchorage" server $common --bind 'tcp://127.0.0.1:*' \
  --ready-file "$dir/server.ready" --summary-json "$dir/summary.json" \
  > "$dir/server.log" 2>&1 &
server_pid=$!
pids="$server_pid"
wait_for_file "$dir/server.ready" 30
endpoint=$(sed -n 's/.*"endpoint": "\([^"]*\)".*/\1/p' "$dir/server.ready")

for id in 0 1 2; do
  # shellcheck disable=SC2086
  "$anchorage" worker $common --server "$endpoint" --worker-id "$id" \
    --ready-file "$dir/worker-$id.ready" > "$dir/worker-$id.log" 2>&1 &
  pids="$pids $!"
  eval "worker_$id=$!"
done
for id in 0 1 2; do wait_for_file "$dir/worker-$id.ready" 30; done

server_port=$(port_of "$dir/server.ready")
count_of() {  # count_of PORT HISTOGRAM
  curl -fsS "http://127.0.0.1:$1/metrics" |
    sed -n "s/^$2_count \([0-9.e+]*\)$/\1/p"
}
i=0
while :; do
  staleness=$(count_of "$server_port" anchorage_server_staleness_versions)
  delay=$(count_of "$server_port" anchorage_server_push_delay_seconds)
  if [ "${staleness:-0}" != 0 ] && [ "${delay:-0}" != 0 ]; then break; fi
  i=$((i + 1))
  [ "$i" -le 400 ] || fail "server histograms stayed empty"
  sleep 0.05
done
for id in 0 1 2; do
  i=0
  while :; do
    waits=$(count_of "$(port_of "$dir/worker-$id.ready")" \
      anchorage_worker_sync_wait_seconds)
    [ "${waits:-0}" = 0 ] || break
    i=$((i + 1))
    [ "$i" -le 400 ] || fail "worker $id sync-wait histogram stayed empty"
    sleep 0.05
  done
done

# shellcheck disable=SC2154
kill -9 "$worker_1"
for id in 0 2; do
  eval "pid=\$worker_$id"
  wait "$pid" || fail "worker $id exited with an error"
done
wait "$server_pid" || fail "server exited with an error"
# The summary is indented JSON, one array element a line: compare it without
# white space.
tr -d ' \n' < "$dir/summary.json" | grep -q '"lost_workers":\[1\]' ||
  fail "summary does not report worker 1 lost: $(cat "$dir/summary.json")"
grep -q "worker 1 lost" "$dir/server.log" || fail "server log does not report the loss"
echo "worker killed end to end: ok"
