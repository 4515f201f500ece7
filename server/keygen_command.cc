#include "server/keygen_command.h"

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "common/transport/curve.h"

namespace anchorage::server {

int RunKeygenCommand(int argc, const char* const* argv) {
  CLI::App app(
      "Writes the CURVE keys of a run: the server's pair and one per worker "
      "(server.pub, server.secret, worker-<i>.pub, worker-<i>.secret)",
      "keygen");
  std::string out;
  int workers = 0;
  app.add_option("--out", out, "Directory to write the keys into")->required();
  app.add_option("--workers", workers, "Number of workers")
      ->required()
      ->check(CLI::Range(1, 1 << 20));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const Status status = transport::WriteCurveKeys(out, workers);
  if (!status.ok()) {
    std::fprintf(stderr, "anchorage keygen: %s\n", status.message().c_str());
    return 1;
  }
  std::printf(
      "wrote server.pub, server.secret and %d worker key pairs to %s\n"
      "server: --curve-secret-key %s/server.secret --curve-allowed-keys %s\n"
      "worker i: --curve-secret-key %s/worker-<i>.secret "
      "--curve-server-key %s/server.pub\n",
      workers, out.c_str(), out.c_str(), out.c_str(), out.c_str(), out.c_str());
  return 0;
}

}  // namespace anchorage::server
