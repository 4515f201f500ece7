#!/bin/sh
# The layering rules, checked on the includes of the tree:
#   - common/ never includes a role folder (server/, worker/, launcher/,
#     simulator/, compare/); the roles build on common/, not the reverse;
#   - server/ and worker/ never include each other;
#   - common/algo, the pure core, includes no ZeroMQ, no sockets and no
#     clocks or threads: time is an argument there.
# Usage: layering_test.sh SOURCE_DIR        checks the tree
#        layering_test.sh --self-test       checks that each rule catches a
#                                           planted violation
set -eu

# check ROOT: prints every violation, exits 1 if there is one.
check() {
  root="$1"
  found=0
  report() { echo "layering: $1: $2" >&2; found=1; }
  for file in $(cd "$root" && find common server worker -name '*.h' -o -name '*.cc' 2>/dev/null); do
    includes="$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p' "$root/$file")"
    for include in $includes; do
      case "$file" in
        common/*)
          case "$include" in
            server/*|worker/*|launcher/*|simulator/*|compare/*)
              report "$file" "common/ includes the role header $include" ;;
          esac ;;
      esac
      case "$file:$include" in
        server/*:worker/*|worker/*:server/*)
          report "$file" "includes $include across roles" ;;
      esac
      case "$file" in
        common/algo/*)
          case "$include" in
            zmq.h|zmq.hpp|zmq_addon.hpp|common/transport/*)
              report "$file" "the pure core includes ZeroMQ ($include)" ;;
            sys/socket.h|netinet/*|arpa/*|netdb.h|poll.h|sys/epoll.h)
              report "$file" "the pure core includes sockets ($include)" ;;
            chrono|ctime|time.h|sys/time.h|thread|mutex|condition_variable|future)
              report "$file" "the pure core includes clocks or threads ($include)" ;;
          esac ;;
      esac
    done
    case "$file" in
      common/algo/*)
        if grep -nE 'std::chrono|steady_clock|system_clock|std::this_thread' "$root/$file" >/dev/null; then
          report "$file" "the pure core reads a clock"
        fi ;;
    esac
  done
  return $found
}

if [ "${1:-}" = "--self-test" ]; then
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
  plant() {
    rm -rf "$dir/tree"
    mkdir -p "$dir/tree/$(dirname "$1")"
    printf '%s\n' "$2" > "$dir/tree/$1"
    if check "$dir/tree" 2>/dev/null; then
      echo "layering self-test: $1 with '$2' passed the check" >&2
      exit 1
    fi
  }
  plant common/base/a.h '#include "server/server.h"'
  plant common/algo/b.cc '#include <zmq.hpp>'
  plant common/algo/c.cc '#include "common/transport/socket.h"'
  plant common/algo/d.h '#include <chrono>'
  plant common/algo/e.cc '  auto t = std::chrono::steady_clock::now();'
  plant common/algo/f.cc '#include <thread>'
  plant server/g.cc '#include "worker/worker.h"'
  rm -rf "$dir/tree"
  mkdir -p "$dir/tree/common/algo"
  printf '#include <vector>\n#include "common/base/status.h"\n' > "$dir/tree/common/algo/ok.h"
  check "$dir/tree" || { echo "layering self-test: a clean file failed" >&2; exit 1; }
  echo "ok: every layering rule catches its violation"
  exit 0
fi

check "$1"
echo "ok: common/ includes no role, roles do not include each other, common/algo has no sockets or clocks"
