#!/bin/sh
# `anchorage compare` end to end: a small custom comparison writes its CSV,
# summary and plots; an unknown study exits 2 naming --study.
set -u
anchorage=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
status=0

fail() {
  echo "FAIL: $*"
  status=1
}

"$anchorage" compare --study custom --algorithms local-sgd,overlap-local-sgd \
  --dataset synthetic-gaussian --model mlp:16 --workers 2 --epochs 1 \
  --out-dir "$dir/out" > "$dir/stdout" 2> "$dir/stderr"
code=$?
if [ "$code" -ne 0 ]; then
  fail "compare exited $code"
  cat "$dir/stderr"
fi
for file in results.csv summary.md accuracy_vs_time.svg loss_vs_time.svg \
    accuracy_vs_bytes.svg train_loss_vs_examples.svg; do
  [ -s "$dir/out/$file" ] || fail "missing $file"
done
head -n 1 "$dir/out/results.csv" | grep -q '^study,setting,algorithm,lr,' ||
  fail "results.csv header"
grep -q ',overlap-local-sgd,' "$dir/out/results.csv" ||
  fail "no overlap-local-sgd rows"
grep -q 'overlap-local-sgd' "$dir/out/summary.md" || fail "summary.md rows"
head -c 5 "$dir/out/accuracy_vs_time.svg" | grep -q '<' || fail "svg"
[ "$(grep -c 'finished' "$dir/stderr")" -eq 2 ] ||
  fail "want one 'finished' progress line per run"

"$anchorage" compare --study bogus --out-dir "$dir/bogus" > "$dir/bad" 2>&1
code=$?
[ "$code" -eq 2 ] || fail "--study bogus exited $code, want 2"
grep -q -- '--study' "$dir/bad" || fail "--study bogus message: $(cat "$dir/bad")"
[ "$(wc -l < "$dir/bad")" -eq 1 ] || fail "want one line for a bad flag"

[ "$status" -eq 0 ] && echo "compare end to end: ok"
exit $status
