#!/bin/sh
# Recovery of a sharded anchor service end to end with the real binary,
# for one algorithm (argument 2: overlap-local-sgd runs async, local-sgd
# sync): two shards and two workers; kill -9 of shard 1 mid-run, restarted
# with the same flags on the same endpoint after 0.5 s. It resumes from a
# version >= its last checkpoint's, the workers ride through (resyncing to
# its round), and both shards complete the run and exit 0, as do the
# workers. Then a shard given another shard's checkpoint directory refuses
# it by name.
set -eu
anchorage=$1
algorithm=$2
. "$(dirname "$0")/e2e_lib.sh"
logs="$dir/*.log"
endpoint_of() {
  sed -n 's/.*"endpoint": "\([^"]*\)".*/\1/p' "$dir/shard-$1.ready"
}

common="--workers 2 --dataset synthetic-gaussian --model mlp:32 --epochs 8
  --algorithm $algorithm --local-steps 4 --heartbeat-interval-ms 100
  --heartbeat-liveness 20"
start_shard() {  # start_shard I BIND [extra flags]: sets $shard_pid
  i=$1; bind=$2; shift 2
  # shellcheck disable=SC2086
  "$anchorage" server $common --shards 2 --shard "$i" --bind "$bind" \
    --checkpoint-interval 0.3 --checkpoint-dir "$dir/checkpoints-$i" \
    --metrics-port 0 --metrics-address 127.0.0.1 \
    --ready-file "$dir/shard-$i.ready" \
    --summary-json "$dir/shard-$i.json" "$@" >> "$dir/shard-$i.log" 2>&1 &
  shard_pid=$!
  pids="$pids $shard_pid"
}

start_shard 0 'tcp://127.0.0.1:*'
shard0=$shard_pid
start_shard 1 'tcp://127.0.0.1:*'
shard1=$shard_pid
wait_for 30 test -s "$dir/shard-0.ready"
wait_for 30 test -s "$dir/shard-1.ready"
servers="$(endpoint_of 0),$(endpoint_of 1)"
workers=""
for id in 0 1; do
  # shellcheck disable=SC2086
  "$anchorage" worker $common --min-step-time 0.002 --servers "$servers" \
    --worker-id "$id" --server-timeout 30 > "$dir/worker-$id.log" 2>&1 &
  workers="$workers $!"
  pids="$pids $!"
done

wait_for 60 checkpoints_written "$dir/shard-1.log"
# Halfway to the next checkpoint: the rounds since the last are lost, and
# shard 1 comes back behind shard 0.
sleep 0.15
kill -9 "$shard1"
wait "$shard1" 2>/dev/null || true
last=$(last_checkpoint_version "$dir/shard-1.log")
sleep 0.5
endpoint1=$(endpoint_of 1)
rm -f "$dir/shard-1.ready"
start_shard 1 "$endpoint1"
shard1=$shard_pid

for pid in $shard0 $shard1; do
  wait "$pid" || fail "a shard exited with an error"
done
for pid in $workers; do
  wait "$pid" || fail "a worker exited with an error"
done
for i in 0 1; do
  grep -q "stop_reason\": \"reached" "$dir/shard-$i.json" ||
    fail "shard $i did not complete"
done
[ "$(json_number "$dir/shard-1.json" restarts)" = 1 ] ||
  fail "shard 1's summary does not record one restart"
resumed=$(json_number "$dir/shard-1.json" resumed_from_version)
[ "$resumed" -ge "$last" ] ||
  fail "shard 1 resumed from v$resumed, older than its last checkpoint v$last"
grep -q "server says done" "$dir/worker-0.log" ||
  fail "worker 0 was not told the run was done"
echo "shard 1 resumed from v$resumed (last checkpoint v$last); both shards" \
  "completed, shard 0 answered $(json_number "$dir/shard-0.json" pushes_stale)" \
  "replayed pushes as stale"

# Shard 0 started on shard 1's checkpoints: another shard's, refused.
code=0
# shellcheck disable=SC2086
"$anchorage" server $common --shards 2 --shard 0 --bind 'tcp://127.0.0.1:*' \
  --checkpoint-dir "$dir/checkpoints-1" > "$dir/swapped.log" 2>&1 || code=$?
[ "$code" -eq 1 ] || fail "swapped: exit $code, expected 1"
grep -q "checkpoint of another run: --shard is" "$dir/swapped.log" ||
  fail "swapped: the error does not name --shard: $(cat "$dir/swapped.log")"
echo "shard restart end to end ($algorithm): ok"
