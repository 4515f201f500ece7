# Shared by the end-to-end scripts (sourced): a scratch directory whose
# processes are killed on exit, failing with the logs, and waiting with a
# deadline. Sets $dir; a script appends the pids it starts to $pids and may
# set $logs to the glob of the logs to show on failure.
dir=$(mktemp -d)
pids=""
logs="$dir/*.log"
cleanup() {
  for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
# The demo keeps its logs in a fresh directory under TMPDIR: keep them here.
export TMPDIR="$dir"
fail() {
  echo "FAIL: $*"
  # shellcheck disable=SC2086
  for f in $logs; do [ -f "$f" ] && { echo "== $f"; tail -n 20 "$f"; }; done
  exit 1
}
# The server's summary and log, for the recovery tests.
json_number() {  # json_number FILE KEY
  sed -n "s/^  \"$2\": \([-0-9.e+]*\),*$/\1/p" "$1" | head -n 1
}
checkpoints_written() {  # checkpoints_written LOG: at least 3 of them
  [ "$(grep -c 'checkpoint of anchor v[0-9]* written' "$1")" -ge 3 ]
}
last_checkpoint_version() {
  sed -n 's/.*checkpoint of anchor v\([0-9]*\) written.*/\1/p' "$1" | tail -n 1
}
wait_for() {  # wait_for SECONDS COMMAND...: polls COMMAND until it succeeds
  limit=$(($1 * 20)); shift
  i=0
  until "$@"; do
    i=$((i + 1))
    [ "$i" -le "$limit" ] || fail "timed out waiting for: $*"
    sleep 0.05
  done
}
