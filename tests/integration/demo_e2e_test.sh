#!/bin/sh
# End to end: `anchorage demo` as a user runs it, on a small synthetic run.
# Checks the exit code, the summary JSON keys of DESIGN.md section 6, the
# saved model and the printed table.
set -eu
anchorage=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

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

# Injected delay: a 5 ms one-way latency is hidden under 32 slowed-down
# local steps by Overlap-Local-SGD, and stalls Local SGD every round.
wait_of() {
  sed -n 's/.*"sync_wait_seconds_mean": \([0-9.e+-]*\).*/\1/p' "$1"
}
for algorithm in local-sgd overlap-local-sgd; do
  "$anchorage" demo --algorithm "$algorithm" --workers 2 \
    --dataset synthetic-gaussian --model mlp:128 --epochs 3 --local-steps 32 \
    --link-latency 0.005 --slowdown 10 --progress-interval 0 \
    --summary-json "$dir/delay-$algorithm.json" > "$dir/delay.txt" 2>&1 || {
      cat "$dir/delay.txt"; echo "delayed demo failed"; exit 1; }
done
local_wait=$(wait_of "$dir/delay-local-sgd.json")
overlap_wait=$(wait_of "$dir/delay-overlap-local-sgd.json")
awk -v l="$local_wait" -v o="$overlap_wait" 'BEGIN { exit !(l > 0.1 && o < l / 4) }' || {
  echo "sync wait: local-sgd $local_wait s, overlap-local-sgd $overlap_wait s"; exit 1; }
echo "demo end to end: ok (accuracy $accuracy; sync wait local $local_wait s, overlap $overlap_wait s)"
