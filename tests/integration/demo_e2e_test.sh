#!/bin/sh
# End to end: `anchorage demo` as a user runs it, on a small synthetic run,
# then twice on Fashion-MNIST through the dataset cache. Checks the exit
# code, the summary JSON keys of DESIGN.md section 6, the saved model, the
# printed table and who wrote the cache; and a sharded demo's assembled
# model.
set -eu
anchorage=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The demo keeps its logs in a fresh directory under TMPDIR: keep them here.
export TMPDIR="$dir"
value_of() {
  sed -n "s/.*\"$2\": \([0-9.e+-]*\).*/\1/p" "$1"
}

"$anchorage" demo --workers 3 --dataset synthetic-gaussian --model mlp:32 \
  --epochs 3 --local-steps 4 --progress-interval 0.2 \
  --summary-json "$dir/summary.json" --save-model "$dir/model.npy" \
  > "$dir/out.txt" 2>&1 || { cat "$dir/out.txt"; echo "demo failed"; exit 1; }

for key in algorithm workers dataset model local_steps anchor_version \
    test_accuracy test_loss wall_seconds bytes_up bytes_down raw_bytes_up \
    compression_ratio staleness_mean sync_wait_seconds_mean \
    compute_seconds_mean encode_seconds_mean; do
  grep -q "\"$key\":" "$dir/summary.json" || {
    cat "$dir/summary.json"; echo "summary lacks $key"; exit 1; }
done
accuracy=$(sed -n 's/.*"test_accuracy": \([0-9.]*\).*/\1/p' "$dir/summary.json")
awk -v a="$accuracy" 'BEGIN { exit !(a > 0.7) }' || {
  echo "test accuracy $accuracy is not above 0.7"; exit 1; }
grep -q '"workers": 3' "$dir/summary.json" || { echo "workers != 3"; exit 1; }
grep -q "test accuracy" "$dir/out.txt" || { cat "$dir/out.txt"; exit 1; }
grep -q "anchor v" "$dir/out.txt" || { echo "no progress line"; exit 1; }

# The same run on three server shards: the demo assembles their slices into
# the saved model and evaluates it.
"$anchorage" demo --workers 3 --shards 3 --dataset synthetic-gaussian \
  --model mlp:32 --epochs 3 --local-steps 4 --progress-interval 0 \
  --summary-json "$dir/sharded.json" --save-model "$dir/sharded.npy" \
  > "$dir/sharded.txt" 2>&1 || {
    cat "$dir/sharded.txt"; echo "sharded demo failed"; exit 1; }
sharded=$(sed -n 's/.*"test_accuracy": \([0-9.]*\).*/\1/p' "$dir/sharded.json")
awk -v s="$sharded" -v a="$accuracy" 'BEGIN { d = s - a; if (d < 0) d = -d; exit !(s > 0.7 && d <= 0.05) }' || {
  echo "sharded test accuracy $sharded, unsharded $accuracy"; exit 1; }
[ "$(wc -c < "$dir/sharded.npy")" -eq "$(wc -c < "$dir/model.npy")" ] || {
  echo "the assembled model is not the size of the unsharded one"; exit 1; }

# Fashion-MNIST: the first demo's server decodes it into the user's cache
# folder before its workers start, and they map it; the next demo maps it
# from the start. Both report their start-up, in the table and the summary:
# sync rounds wait for both workers, so both take a first step however
# short the run (asynchronously one worker could finish it before the
# other joins, and the start-up would be unknown).
for run in first second; do
  XDG_CACHE_HOME="$dir/xdg" "$anchorage" demo --workers 2 --model softmax \
    --aggregation sync --epochs 0.1 --progress-interval 0 \
    --summary-json "$dir/$run.json" > "$dir/$run.txt" 2>&1 || {
      cat "$dir/$run.txt"; echo "$run demo on Fashion-MNIST failed"; exit 1; }
  grep -q "start-up" "$dir/$run.txt" || {
    cat "$dir/$run.txt"; echo "no start-up line"; exit 1; }
  grep -q '"startup_seconds":' "$dir/$run.json" || {
    cat "$dir/$run.json"; echo "summary lacks startup_seconds"; exit 1; }
  # Training runs from the first step, so it is shorter than the server's run.
  training=$(value_of "$dir/$run.json" training_seconds)
  wall=$(value_of "$dir/$run.json" wall_seconds)
  awk -v t="$training" -v w="$wall" 'BEGIN { exit !(t > 0 && t < w) }' || {
    echo "$run: training_seconds $training not in (0, wall_seconds $wall)"; exit 1; }
  run_dir=$(sed -n 's/.*; logs in \(.*\)$/\1/p' "$dir/$run.txt")
  [ -d "$run_dir" ] || { cat "$dir/$run.txt"; echo "no run folder"; exit 1; }
  mv "$run_dir" "$dir/$run"
done
ls "$dir"/xdg/anchorage/fashion-mnist-*.ancdata > /dev/null || {
  echo "no cache in \$XDG_CACHE_HOME/anchorage"; exit 1; }
grep -q "wrote the dataset cache $dir/xdg/anchorage/" "$dir/first/server.log" || {
  cat "$dir/first/server.log"; echo "the first server did not write the cache"; exit 1; }
if grep -q "dataset cache" "$dir"/first/worker-*.log "$dir"/second/*.log; then
  grep "dataset cache" "$dir"/first/worker-*.log "$dir"/second/*.log
  echo "a worker or the second server wrote or refused the cache instead of mapping it"
  exit 1
fi

# The model: a 1-D float32 .npy of mlp:32 on 32 features and 10 classes.
head -c 6 "$dir/model.npy" | od -c | grep -q "N   U   M   P   Y" || {
  echo "model.npy lacks the NumPy magic"; exit 1; }
expected=$(( (32 * 32 + 32 + 10 * 32 + 10) * 4 + 128 ))
size=$(wc -c < "$dir/model.npy")
[ "$size" -eq "$expected" ] || { echo "model.npy has $size bytes, expected $expected"; exit 1; }
# Every algorithm runs end to end through the real processes.
for algorithm in minibatch-sgd local-sgd overlap-local-sgd slowmo diloco; do
  "$anchorage" demo --algorithm "$algorithm" --workers 2 \
    --dataset synthetic-gaussian --model mlp:16 --epochs 2 \
    --progress-interval 0 --summary-json "$dir/$algorithm.json" \
    > "$dir/$algorithm.txt" 2>&1 || {
      cat "$dir/$algorithm.txt"; echo "demo --algorithm $algorithm failed"; exit 1; }
  grep -q "\"algorithm\": \"$algorithm\"" "$dir/$algorithm.json" || {
    echo "$algorithm: summary names another algorithm"; exit 1; }
done

# Injected delays stated in absolute seconds, so the check holds on a CPU
# twice as fast or twice as slow: every local step takes at least 2 ms
# (--min-step-time), so a round of 32 steps takes at least 64 ms, and every
# message waits 5 ms each way (a 10 ms round trip). Local SGD waits for a
# whole round trip every round; Overlap-Local-SGD's round trip fits in the
# next round's steps, so it waits, on average, less than one way per round.
for algorithm in local-sgd overlap-local-sgd; do
  "$anchorage" demo --algorithm "$algorithm" --workers 2 \
    --dataset synthetic-gaussian --model mlp:128 --epochs 3 --local-steps 32 \
    --batch-size 32 \
    --link-latency 0.005 --min-step-time 0.002 --progress-interval 0 \
    --summary-json "$dir/delay-$algorithm.json" > "$dir/delay.txt" 2>&1 || {
      cat "$dir/delay.txt"; echo "delayed demo failed"; exit 1; }
done
local_wait=$(value_of "$dir/delay-local-sgd.json" sync_wait_seconds_mean)
local_rounds=$(value_of "$dir/delay-local-sgd.json" anchor_version)
overlap_wait=$(value_of "$dir/delay-overlap-local-sgd.json" sync_wait_seconds_mean)
overlap_versions=$(value_of "$dir/delay-overlap-local-sgd.json" anchor_version)
# Sync rounds: one anchor version a round; async: one a push, from 2 workers.
awk -v w="$local_wait" -v r="$local_rounds" 'BEGIN { exit !(r > 10 && w >= 0.9 * 0.010 * r) }' || {
  echo "local-sgd waited $local_wait s over $local_rounds rounds: less than a 10 ms round trip each"; exit 1; }
awk -v w="$overlap_wait" -v v="$overlap_versions" 'BEGIN { exit !(v > 20 && w < 0.005 * v / 2) }' || {
  echo "overlap-local-sgd waited $overlap_wait s over $overlap_versions / 2 rounds: not hidden under 64 ms of steps"; exit 1; }
echo "demo end to end: ok (accuracy $accuracy; sync wait local $local_wait s in $local_rounds rounds, overlap $overlap_wait s)"
