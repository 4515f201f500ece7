// Child processes for the local demo: spawned with their output in a log
// file, tied to the launcher's life (PR_SET_PDEATHSIG), reaped without
// blocking, and stopped with SIGTERM then SIGKILL.
//
// Not thread-safe; owned by the launcher's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace anchorage::launcher {

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is the program path) with stdout and stderr
  // appended to `log_path`. Returns Unavailable when fork or exec fails.
  static StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                      const std::string& log_path);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Kills the child if it still runs.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // Returns the exit code once the child has ended (128 + signal when a
  // signal ended it); nullopt while it runs. Never blocks.
  std::optional<int> Poll();
  // Sends `signal` if the child still runs.
  void Signal(int signal);
  // SIGTERM, wait up to `grace`, then SIGKILL; returns the exit code.
  int Stop(std::chrono::milliseconds grace);
  // Waits up to `timeout` for the child to end on its own.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);

 private:
  ChildProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_code_;
};

// Returns the last `lines` lines of the file at `path` ("" if unreadable).
std::string TailOfFile(const std::string& path, int lines);

// The absolute path of the running executable.
std::string SelfExecutable();

}  // namespace anchorage::launcher
