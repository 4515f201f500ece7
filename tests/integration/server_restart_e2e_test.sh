#!/bin/sh
# Recovery end to end with the real binary (DESIGN.md section 10), for one
# algorithm (argument 2: overlap-local-sgd runs async, local-sgd sync):
#   - kill -9 of the server mid-run, down 0.2 s and 3 s, restarted with the
#     same flags: both workers ride through and exit 0, the server resumes
#     from a version >= its last checkpoint's, completes, records the
#     restart, and ends within 1 point of the same run uninterrupted;
#   - SIGTERM mid-run: a checkpoint is written, exit 143, no final model;
#     a corrupt newest checkpoint is then refused by name and the previous
#     one resumed, and the run completes with its model;
#   - a server restarted without its checkpoints begins another run: the
#     workers leave it (exit 1) instead of training from scratch unawares;
#   - another run's flags on the same directory: exit 1 naming the key;
#   - --idle-timeout: a server nobody joins exits 1 saying so.
set -eu
anchorage=$1
algorithm=$2
. "$(dirname "$0")/e2e_lib.sh"
logs="$dir/*/*.log"

# Steps of at least 2 ms make a run last a few seconds on any CPU.
common="--workers 2 --dataset synthetic-gaussian --model mlp:32 --epochs 8
  --algorithm $algorithm --local-steps 4 --heartbeat-interval-ms 100
  --heartbeat-liveness 20"
server_flags="--checkpoint-interval 0.3 --metrics-port 0
  --metrics-address 127.0.0.1"

start_server() {  # start_server RUN BIND [extra flags]: sets $server
  run=$1; bind=$2; shift 2
  # shellcheck disable=SC2086
  "$anchorage" server $common $server_flags --bind "$bind" \
    --checkpoint-dir "$dir/$run/checkpoints" \
    --ready-file "$dir/$run/server.ready" \
    --summary-json "$dir/$run/summary.json" "$@" \
    >> "$dir/$run/server.log" 2>&1 &
  server=$!
  pids="$pids $server"
}
start_workers() {  # start_workers RUN ENDPOINT: sets $workers
  workers=""
  for id in 0 1; do
    # shellcheck disable=SC2086
    "$anchorage" worker $common --min-step-time 0.002 --server "$2" \
      --worker-id "$id" --server-timeout 30 > "$dir/$1/worker-$id.log" 2>&1 &
    workers="$workers $!"
    pids="$pids $!"
  done
}
endpoint_of() {
  sed -n 's/.*"endpoint": "\([^"]*\)".*/\1/p' "$dir/$1/server.ready"
}
# start_run RUN [server flags]: a server and its workers, trained until the
# server has written 3 checkpoints; sets $server, $workers and $endpoint.
start_run() {
  run=$1; shift
  mkdir -p "$dir/$run"
  start_server "$run" 'tcp://127.0.0.1:*' "$@"
  wait_for 30 test -s "$dir/$run/server.ready"
  endpoint=$(endpoint_of "$run")
  start_workers "$run" "$endpoint"
  wait_for 60 checkpoints_written "$dir/$run/server.log"
}
wait_workers() {
  for pid in $workers; do
    wait "$pid" || fail "$1: a worker exited with an error"
  done
}

# The same run uninterrupted.
mkdir -p "$dir/base"
start_server base 'tcp://127.0.0.1:*'
wait_for 30 test -s "$dir/base/server.ready"
start_workers base "$(endpoint_of base)"
wait "$server" || fail "base: the server exited with an error"
wait_workers base
base_accuracy=$(json_number "$dir/base/summary.json" test_accuracy)

for down in 0.2 3; do
  start_run "kill-$down"
  kill -9 "$server"
  wait "$server" 2>/dev/null || true
  last=$(last_checkpoint_version "$dir/$run/server.log")
  sleep "$down"
  rm -f "$dir/$run/server.ready"
  start_server "$run" "$endpoint"
  wait "$server" || fail "$run: the resumed server exited with an error"
  wait_workers "$run"
  summary="$dir/$run/summary.json"
  [ "$(json_number "$summary" restarts)" = 1 ] ||
    fail "$run: the summary does not record one restart"
  resumed=$(json_number "$summary" resumed_from_version)
  [ "$resumed" -ge "$last" ] ||
    fail "$run: resumed from v$resumed, older than the last checkpoint v$last"
  accuracy=$(json_number "$summary" test_accuracy)
  awk -v a="$accuracy" -v b="$base_accuracy" \
    'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.01) }' ||
    fail "$run: accuracy $accuracy, uninterrupted $base_accuracy"
  grep -q "stop_reason\": \"reached" "$summary" || fail "$run: did not complete"
  # The evaluations before the kill survive it: the first is of v0.
  tr -d ' \n' < "$summary" | grep -q '"evaluations":\[{"seconds":[0-9.e+-]*,"version":0,' ||
    fail "$run: the summary lost the evaluations from before the kill"
  echo "$run: resumed from v$resumed (last checkpoint v$last), accuracy $accuracy (uninterrupted $base_accuracy)"
done

# SIGTERM: checkpoint, exit 143, no model; then a corrupt newest checkpoint.
start_run term --save-model "$dir/term/model.npy"
kill -TERM "$server"
code=0
wait "$server" || code=$?
[ "$code" -eq 143 ] || fail "term: the server exited $code on SIGTERM, expected 143"
[ ! -e "$dir/$run/model.npy" ] || fail "term: an interrupted run wrote a final model"
tail -n 5 "$dir/$run/server.log" | grep -q "checkpoint of anchor v[0-9]* written" ||
  fail "term: no checkpoint written at SIGTERM"
newest=$(ls "$dir/$run/checkpoints"/checkpoint-*.anck | tail -n 1)
printf 'garbage' | dd of="$newest" bs=1 seek=40 conv=notrunc 2>/dev/null
rm -f "$dir/$run/server.ready"
start_server "$run" "$endpoint" --save-model "$dir/$run/model.npy"
wait "$server" || fail "term: the resumed server exited with an error"
wait_workers "$run"
grep -q "refusing checkpoint $newest" "$dir/$run/server.log" ||
  fail "term: the corrupt checkpoint was not refused by name"
[ "$(json_number "$dir/$run/summary.json" restarts)" = 1 ] ||
  fail "term: the summary does not record the restart"
[ -s "$dir/$run/model.npy" ] || fail "term: the completed run wrote no model"

# Restarted without its checkpoints: a new run, which the workers leave.
start_run lost
kill -9 "$server"
wait "$server" 2>/dev/null || true
rm -rf "$dir/$run/checkpoints"
start_server "$run" "$endpoint" --idle-timeout 1
for pid in $workers; do
  code=0
  wait "$pid" || code=$?
  [ "$code" -eq 1 ] || fail "lost: a worker exited $code joining another run, expected 1"
done
grep -q "began another run" "$dir/$run"/worker-*.log ||
  fail "lost: the workers do not say the server began another run"
code=0
wait "$server" || code=$?
[ "$code" -eq 1 ] || fail "lost: the new run's server exited $code, expected 1 (idle)"

# Another run's flags on that directory.
code=0
# shellcheck disable=SC2086
"$anchorage" server $common $server_flags --lr 0.5 --bind 'tcp://127.0.0.1:*' \
  --checkpoint-dir "$dir/$run/checkpoints" > "$dir/$run/other.log" 2>&1 ||
  code=$?
[ "$code" -eq 1 ] || fail "other run: exit $code, expected 1"
grep -q "checkpoint of another run: --lr is" "$dir/$run/other.log" ||
  fail "other run: the error does not name --lr: $(cat "$dir/$run/other.log")"

# Nobody joins.
mkdir -p "$dir/idle"
start_server idle 'tcp://127.0.0.1:*' --idle-timeout 0.5
code=0
wait "$server" || code=$?
[ "$code" -eq 1 ] || fail "idle: exit $code, expected 1"
grep -q "no live worker for 0.5 s" "$dir/idle/server.log" ||
  fail "idle: the log does not say why"
echo "server restart end to end ($algorithm): ok"
