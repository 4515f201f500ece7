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
# in_apt_cache STAGE PACKAGE...: one apt-cache call for all of them (each
# call reads the whole cache; it succeeds if any package is known, so the
# names it shows are compared with the ones asked for).
in_apt_cache() {
  stage="$1"; shift
  known="$(apt-cache show --no-all-versions "$@" 2>/dev/null | sed -n 's/^Package: //p')"
  for package in "$@"; do
    echo "$known" | grep -qx "$package" ||
      fail "$stage package $package is not in the apt cache"
  done
}

grep -q '^FROM debian:bookworm AS build' "$dockerfile" || fail "no debian:bookworm build stage"
grep -q '^FROM debian:bookworm-slim AS runtime' "$dockerfile" || fail "no bookworm-slim runtime stage"

# The build stage installs exactly what the build needs: packages from
# scripts/install-deps' list (so the two stay in sync), none of its
# test/demo-only ones, and the package of every find_package() of the
# top-level CMakeLists.txt (resolved through this build's CMakeCache.txt)
# and of flatc.
build_packages="$(sed -n '/^FROM debian:bookworm AS build/,/^FROM /p' "$dockerfile" |
  sed -n '/apt-get install/,/rm -rf/p' | sed 's/[\\]//g' | tr -s ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -vE '^(apt-get|install|rm|noninteractive)$')"
[ -n "$build_packages" ] || fail "the build stage installs no packages with apt-get install"
deps_list="$(sed -n '/^packages="/,/^"/p' "$1/scripts/install-deps" | tr -s ' ' '\n' |
  grep -E '^[a-z0-9][a-z0-9.+-]+$')"
for package in $build_packages; do
  echo "$deps_list" | grep -qx "$package" ||
    fail "build-stage package $package is not in scripts/install-deps"
  case "$package" in
    prometheus|nodejs|npm|python3|curl|libgtest-dev|libgmock-dev|libbenchmark-dev|dataset-fashion-mnist)
      fail "the build stage installs the test/demo-only package $package" ;;
  esac
done
in_apt_cache "build-stage" $build_packages
cache="$(dirname "$binary")/CMakeCache.txt"
if [ -f "$cache" ]; then
  for name in $(sed -n 's/^find_package(\([A-Za-z0-9_-]*\).*/\1/p' "$1/CMakeLists.txt"); do
    case "$name" in Threads) continue ;; esac
    path="$(sed -n "s/^${name}_DIR:PATH=//p; s/^${name}_LIBRARY_RELEASE:FILEPATH=//p" "$cache" | head -n 1)"
    [ -n "$path" ] || fail "find_package($name): no ${name}_DIR in $cache"
    # A folder may belong to several packages ("a:amd64, b:amd64: path"):
    # one of them in the build stage is enough.
    owners="$(dpkg -S "$path" 2>/dev/null | head -n 1)"
    [ -n "$owners" ] || owners="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1)"
    owners="$(echo "${owners%: *}" | tr -d ' ' | tr ',' '\n' | cut -d: -f1)"
    found=""
    for owner in $owners; do
      echo "$build_packages" | grep -qx "$owner" && found="$owner"
    done
    [ -n "$found" ] ||
      fail "find_package($name) ($path, package(s) $(echo ${owners:-unknown})) is not installed in the build stage"
  done
  flatc="$(command -v flatc || true)"
  owner="$(dpkg -S "$(readlink -f "${flatc:-/nonexistent}")" 2>/dev/null | cut -d: -f1)"
  echo "$build_packages" | grep -qx "${owner:-flatbuffers-compiler}" ||
    fail "flatc (package $owner) is not installed in the build stage"
fi
grep -q -- '-DANCHORAGE_NATIVE=OFF' "$dockerfile" || fail "the build is not portable (ANCHORAGE_NATIVE)"
grep -q '^USER 10001' "$dockerfile" || fail "the runtime user is not the non-root 10001"
grep -q '^ENTRYPOINT \["anchorage"\]' "$dockerfile" || fail "ENTRYPOINT is not [\"anchorage\"]"
grep -q '^EXPOSE 5555 9100' "$dockerfile" || fail "EXPOSE 5555 9100 missing"

# The runtime packages: the words of the apt-get install line(s) of the
# runtime stage.
runtime="$(sed -n '/^FROM debian:bookworm-slim/,$p' "$dockerfile" |
  sed -n '/apt-get install/,/rm -rf/p' | sed 's/[\\]//g' | tr -s ' ' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -vE '^(apt-get|install|rm|noninteractive)$')"
in_apt_cache "runtime" $runtime
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
