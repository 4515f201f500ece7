// `anchorage keygen --out DIR --workers N`: the CURVE key files of a run
// (DESIGN.md section 10): server.pub, server.secret, worker-<i>.pub and
// worker-<i>.secret for i in [0, N), secrets mode 0600.
#pragma once

namespace anchorage::server {

// Exit code: 0 on success, 1 when a file cannot be written, 2 for bad flags.
int RunKeygenCommand(int argc, const char* const* argv);

}  // namespace anchorage::server
