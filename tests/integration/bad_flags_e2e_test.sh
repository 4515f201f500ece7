#!/bin/sh
# Bad flags and config values exit 2 with one line naming the problem; a
# missing data directory is a runtime error naming the path.
set -u
anchorage=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The demo keeps its logs in a fresh directory under TMPDIR: keep them here.
export TMPDIR="$dir"
status=0

expect() {  # expect CODE PATTERN ARGS...
  code=$1; pattern=$2; shift 2
  "$anchorage" "$@" > "$dir/out" 2>&1
  got=$?
  if [ "$got" -ne "$code" ] || ! grep -q -- "$pattern" "$dir/out"; then
    echo "FAIL: anchorage $* -> exit $got (want $code), output:"
    cat "$dir/out"
    status=1
  fi
}

expect 2 "--local-steps" server --local-steps 0
expect 2 "--alpha" worker --alpha 1.5
expect 2 "--lr" demo --lr -1
expect 2 "--worker-id" worker --workers 2 --worker-id 5
expect 2 "--partition" demo --partition dirichlet:-1
expect 2 "--model" server --model mlp:0
expect 2 "--codec" server --codec zip
expect 2 "bits must be in" worker --codec qsgd --bits 1
expect 2 "needs --aggregation sync" demo --codec sketch --aggregation async
expect 2 "topk_fraction" simulate --codec topk --topk 0
expect 2 "--algorithm" demo --algorithm sgd-but-faster
expect 2 "--bogus" server --bogus 1
expect 2 "unknown subcommand" frobnicate
printf 'local-steps: 0\n' > "$dir/bad.yaml"
expect 2 "--local-steps" server --config "$dir/bad.yaml"
printf 'lcoal-steps: 3\n' > "$dir/typo.yaml"
expect 2 "lcoal-steps" server --config "$dir/typo.yaml"
expect 1 "$dir/nowhere" server --data-dir "$dir/nowhere" --bind 'tcp://127.0.0.1:*'
# A sketch too large for the model is refused when the model is known.
expect 1 "rows x columns must be" server --dataset synthetic-gaussian \
  --codec sketch --algorithm local-sgd --sketch-columns 1000000000 \
  --bind 'tcp://127.0.0.1:*'
expect 1 "rows x columns must be" worker --dataset synthetic-gaussian \
  --codec sketch --algorithm local-sgd --sketch-columns 1000000000
# A run that diverges under a lossy codec ends with an error saying so.
expect 1 "no worker is left" demo --workers 2 --dataset synthetic-gaussian \
  --model mlp:16 --codec qsgd --lr 500 --algorithm local-sgd --epochs 2
expect 1 "training diverged" simulate --workers 2 --dataset synthetic-gaussian \
  --model mlp:16 --codec qsgd --lr 500 --algorithm local-sgd --epochs 2
expect 0 "--local-steps" server --help
expect 0 "subcommands" --help
[ "$status" -eq 0 ] && echo "bad flags end to end: ok"
exit $status
