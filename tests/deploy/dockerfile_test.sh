#!/bin/sh
# Static checks of deploy/Dockerfile (no container engine runs here): the
# stages and user, and that the runtime stage installs the Debian package of
# every shared library the built `anchorage` binary needs (NEEDED entries),
# each of which must exist in the apt cache.
# Usage: dockerfile_test.sh SOURCE_DIR ANCHORAGE_BINARY
set -eu

dockerfile="$1/deploy/Dockerfile"
binary="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }

grep -q '^FROM debian:bookworm AS build' "$dockerfile" || fail "no debian:bookworm build stage"
grep -q '^FROM debian:bookworm-slim AS runtime' "$dockerfile" || fail "no bookworm-slim runtime stage"
grep -q 'scripts/install-deps' "$dockerfile" || fail "the build stage does not run scripts/install-deps"
grep -q -- '-DANCHORAGE_NATIVE=OFF' "$dockerfile" || fail "the build is not portable (ANCHORAGE_NATIVE)"
grep -q '^USER 10001' "$dockerfile" || fail "the runtime user is not the non-root 10001"
grep -q '^ENTRYPOINT \["anchorage"\]' "$dockerfile" || fail "ENTRYPOINT is not [\"anchorage\"]"
grep -q '^EXPOSE 5555 9100' "$dockerfile" || fail "EXPOSE 5555 9100 missing"

# The runtime packages: the words of the apt-get install line(s) of the
# runtime stage.
runtime="$(sed -n '/^FROM debian:bookworm-slim/,$p' "$dockerfile" |
  sed -n '/apt-get install/,/rm -rf/p' | sed 's/[\\]//g' | tr -s ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -vE '^(apt-get|install|rm|noninteractive)$')"
for package in $runtime; do
  apt-cache show "$package" >/dev/null 2>&1 || fail "runtime package $package is not in the apt cache"
done
for library in $(objdump -p "$binary" | awk '/NEEDED/ {print $2}'); do
  path="$(ldconfig -p | awk -v l="$library" '$1 == l && /x86-64/ {print $NF; exit}')"
  [ -n "$path" ] || fail "cannot resolve $library"
  owner="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true)"
  owner="${owner%%:*}"
  case "$owner" in
    libc6|libgcc-s1) continue ;;  # in every Debian image
  esac
  echo "$runtime" | grep -qx "$owner" ||
    fail "$library (package ${owner:-unknown}) is not installed in the runtime stage"
done
echo "ok: Dockerfile stages, user and runtime libraries"
