// `anchorage`: dispatches to the subcommand; each lives in its own folder.
#include <cstdio>
#include <cstring>
#include <string>

#include "common/base/heap.h"
#include "compare/compare_command.h"
#include "launcher/demo_command.h"
#include "server/keygen_command.h"
#include "server/server_command.h"
#include "simulator/simulate_command.h"
#include "worker/worker_command.h"

namespace {

constexpr char kUsage[] =
    "usage: anchorage <subcommand> [flags]\n"
    "\n"
    "Communication-efficient distributed training: CPU workers train\n"
    "locally and synchronise rarely with an anchor-aggregation server.\n"
    "\n"
    "subcommands:\n"
    "  server   the anchor-aggregation service\n"
    "  worker   a training worker\n"
    "  demo     one server and N workers as local processes, with progress\n"
    "           and a summary\n"
    "  simulate the same algorithms on m simulated workers on a virtual\n"
    "           clock with link delays and stragglers; deterministic\n"
    "  compare  several algorithms on the same data, seed and budget\n"
    "  keygen   the CURVE keys of a run (server and workers)\n"
    "\n"
    "`anchorage <subcommand> --help` lists its flags.\n";

}  // namespace

int main(int argc, char** argv) {
  anchorage::RetainFreedHeap();
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  // Subcommands parse argv[1..]: their "program name" is the subcommand.
  const int sub_argc = argc - 1;
  const char* const* sub_argv = argv + 1;
  if (command == "server") {
    return anchorage::server::RunServerCommand(sub_argc, sub_argv);
  }
  if (command == "worker") {
    return anchorage::worker::RunWorkerCommand(sub_argc, sub_argv);
  }
  if (command == "simulate") {
    return anchorage::simulator::RunSimulateCommand(sub_argc, sub_argv);
  }
  if (command == "compare") {
    return anchorage::compare::RunCompareCommand(sub_argc, sub_argv);
  }
  if (command == "keygen") {
    return anchorage::server::RunKeygenCommand(sub_argc, sub_argv);
  }
  if (command == "demo") {
    return anchorage::launcher::RunDemoCommand(sub_argc, sub_argv);
  }
  std::fprintf(stderr, "anchorage: unknown subcommand '%s'\n\n%s",
               command.c_str(), kUsage);
  return 2;
}
