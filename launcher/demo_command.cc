#include "launcher/demo_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/algo/algorithm.h"
#include "common/config/flags.h"
#include "common/data/dataset.h"
#include "common/io/npy.h"
#include "common/service/startup.h"
#include "common/summary/run_summary.h"
#include "common/transport/curve.h"
#include "launcher/chaos.h"
#include "launcher/demo_report.h"
#include "launcher/process.h"
#include "launcher/prometheus.h"
#include "server/evaluator.h"

namespace anchorage::launcher {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// Signal handlers reach the program only through a global.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<int> g_interrupts{0};

void HandleInterrupt(int /*signal*/) {
  g_interrupts.fetch_add(1);
}

// Waits until `path` exists or `child` ends or the deadline passes.
Status WaitForFile(const std::string& path, ChildProcess& child,
                   std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!std::filesystem::exists(path)) {
    if (std::optional<int> code = child.Poll()) {
      return Status::Unavailable("exited with code " + std::to_string(*code) +
                                 " before it was ready; its log:\n" +
                                 TailOfFile(child.log_path(), 15));
    }
    if (g_interrupts.load() > 0) return Status::Unavailable("interrupted");
    if (Clock::now() > deadline) {
      return Status::DeadlineExceeded("not ready after " +
                                      std::to_string(timeout.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::Ok();
}

// The value of the environment variable `name` when it is an absolute
// path, else "" (read from environ: the launcher is single-threaded here,
// but getenv is flagged as not thread-safe).
std::string AbsolutePathVariable(std::string_view name) {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    if (variable.size() > name.size() && variable.starts_with(name) &&
        variable[name.size()] == '=') {
      const std::string_view value = variable.substr(name.size() + 1);
      return value.starts_with('/') ? std::string(value) : std::string();
    }
  }
  return "";
}

// The demo's dataset cache: the user's cache folder
// ($XDG_CACHE_HOME/anchorage, else ~/.cache/anchorage), or the run's
// folder when there is no home. The XDG base directory spec ignores a
// relative path, and so does this.
std::string DefaultDataCache(const std::string& run_dir) {
  if (const std::string xdg = AbsolutePathVariable("XDG_CACHE_HOME");
      !xdg.empty()) {
    return (std::filesystem::path(xdg) / "anchorage").string();
  }
  if (const std::string home = AbsolutePathVariable("HOME"); !home.empty()) {
    return (std::filesystem::path(home) / ".cache" / "anchorage").string();
  }
  return run_dir + "/data-cache";
}

double UnixSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StatusOr<std::string> MakeRunDirectory() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "anchorage-demo-XXXXXX")
          .string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::Unavailable("cannot create a run directory under " +
                               std::filesystem::temp_directory_path().string());
  }
  return pattern;
}

class Demo {
 public:
  // A `quiet` demo prints neither its header nor its summary table (the
  // calm run before a chaotic one). Its start-up counts from
  // `launch_unix_seconds`.
  Demo(const config::RunConfig& config, std::string run_dir, bool quiet,
       double launch_unix_seconds)
      : config_(config),
        run_dir_(std::move(run_dir)),
        quiet_(quiet),
        launch_unix_seconds_(launch_unix_seconds) {
    if (config_.demo.chaos) {
      chaos_.emplace(config_.demo.chaos_seed,
                     config_.demo.chaos_interval_seconds,
                     config_.train.workers);
      next_kill_ = chaos_->Next();
      chaos_report_.seed = config_.demo.chaos_seed;
      chaos_report_.interval_seconds = config_.demo.chaos_interval_seconds;
    }
  }

  int Run();
  // After a Run() that returned 0: the server's summary.
  const summary::RunSummary& result() const { return *result_; }
  // The same run without chaos, to report what the chaos cost.
  void set_calm(const summary::RunSummary* calm) { calm_ = calm; }

 private:
  void PrintHeader();
  // After a completed run: the summary table (and what chaos cost), the
  // summary JSON, --linger. Returns the exit code.
  int Report(bool interrupted);
  // The server, or every shard of a sharded one (--shards).
  Status StartServers();
  Status StartWorkers();
  // --chaos: kills and restarts the next victim once its moment came.
  void MaybeKill(ProgressPrinter& progress);
  Status RestartServer(size_t shard, ProgressPrinter& progress);
  // Starts server shard `shard` with its argv and waits for its ready file.
  Status LaunchServer(size_t shard);
  // A file of server shard `shard` in the run directory: "server.log"
  // unsharded, "server-1.log" for shard 1 of a sharded service.
  std::string ServerFile(size_t shard, const std::string& suffix) const;
  // Signals every server shard still running.
  void SignalServers(int signal);
  // Once every server shard has exited: the first non-zero exit code, or 0.
  std::optional<int> ServersExited();
  // Stops every server shard; returns the first non-zero exit code, or 0.
  int StopServers();
  // Prints the log of each server shard that exited with an error.
  void PrintServerFailures();
  // A sharded run's summary: shard 0's, with every shard's traffic and
  // refusals, and the test accuracy of the slices assembled.
  StatusOr<summary::RunSummary> ReadShardedSummary();
  // Follows the run until every server shard exits; returns the first
  // non-zero exit code, or 0.
  int Follow();
  // Reports workers that exited with an error; once none is left, stops
  // the server and sets *workers_failed.
  void CheckWorkers(ProgressPrinter& progress, std::vector<bool>* reported,
                    bool* workers_failed);
  // Ctrl-C once stops the server cleanly, twice kills it.
  void CheckInterrupts(ProgressPrinter& progress, int* interrupts_seen);
  void StopWorkers();
  // The server shards' scrape targets, labelled with their shard when
  // there are several.
  std::vector<ScrapeTarget> ServerTargets() const;
  // --prometheus: points the local Prometheus at the server and workers.
  Status ScrapeEveryProcess();
  // Under chaos a process started again has new metrics ports: once every
  // worker's ready file is back, points Prometheus at them.
  void MaybeRefreshScrapeTargets();
  // --linger: waits for Ctrl-C (or Prometheus ending).
  void Linger();

  config::RunConfig config_;
  std::string run_dir_;
  bool quiet_;
  std::string self_ = SelfExecutable();
  // The command lines, to start a killed process again with the same flags.
  std::vector<std::vector<std::string>> server_argv_;
  std::vector<std::vector<std::string>> worker_argv_;
  std::optional<ChaosSchedule> chaos_;
  ChaosEvent next_kill_;
  ChaosReport chaos_report_;
  const summary::RunSummary* calm_ = nullptr;
  bool targets_stale_ = false;
  std::optional<summary::RunSummary> result_;
  std::optional<LocalPrometheus> prometheus_;
  std::vector<ChildProcess> servers_;
  std::vector<ChildProcess> workers_;
  std::vector<service::ReadyFile> server_ready_;
  std::vector<int> worker_metrics_ports_;
  Clock::time_point start_ = Clock::now();
  // The launch on the wall clock, which the workers' first steps are on.
  double launch_unix_seconds_;
};

int Demo::Run() {
  PrintHeader();
  if (config_.demo.prometheus) {
    StatusOr<LocalPrometheus> prometheus =
        LocalPrometheus::Start(run_dir_, 1.0);
    if (!prometheus.ok()) {
      std::fprintf(stderr, "anchorage demo: %s\n",
                   prometheus.status().message().c_str());
      return 1;
    }
    prometheus_.emplace(std::move(prometheus).value());
  }
  Status status = StartServers();
  if (status.ok()) status = StartWorkers();
  if (status.ok() && prometheus_) status = ScrapeEveryProcess();
  if (!status.ok()) {
    std::fprintf(stderr, "anchorage demo: %s\n", status.message().c_str());
    StopWorkers();
    StopServers();
    if (prometheus_) prometheus_->Stop();
    return g_interrupts.load() > 0 ? 130 : 1;
  }
  const int server_code = Follow();
  StopWorkers();
  // Prometheus outlives the run only with --linger (stopped in Linger()).
  if (prometheus_ &&
      !(config_.demo.linger && server_code == 0 && g_interrupts.load() == 0)) {
    prometheus_->Stop();
  }
  const bool interrupted = g_interrupts.load() > 0;
  if (server_code != 0) {
    // Stopped by Ctrl-C, the server exits 128 + its signal: not news.
    if (!interrupted) PrintServerFailures();
    return interrupted ? 130 : 1;
  }
  return Report(interrupted);
}

void Demo::PrintHeader() {
  if (!quiet_) {
    std::printf(
        "Anchorage demo: %s, %d workers, %s on %s, τ=%d; logs in %s\n",
        std::string(algo::AlgorithmName(config_.train.algorithm)).c_str(),
        config_.train.workers, config_.train.model.c_str(),
        std::string(data::DatasetName(config_.train.dataset)).c_str(),
        config_.train.local_steps, run_dir_.c_str());
  }
  if (config_.demo.secure && !quiet_) {
    std::printf(
        "secure: every connection authenticated and encrypted with CURVE; "
        "keys in %s/keys\n",
        run_dir_.c_str());
  }
  if (chaos_) {
    std::printf(
        "chaos: SIGKILL to the server or a worker about every %g s (seed "
        "%llu), each started again with the same flags\n",
        config_.demo.chaos_interval_seconds,
        static_cast<unsigned long long>(config_.demo.chaos_seed));
  }
  std::fflush(stdout);
}

int Demo::Report(bool interrupted) {
  const double wall = Seconds(Clock::now() - start_).count();
  StatusOr<summary::RunSummary> result =
      servers_.size() > 1
          ? ReadShardedSummary()
          : summary::ReadRunSummary(ServerFile(0, "-summary.json"));
  if (!result.ok()) {
    std::fprintf(stderr, "anchorage demo: %s\n",
                 result.status().message().c_str());
    return 1;
  }
  result->demo_wall_seconds = wall;
  // Start-up as the user sees it: from the demo's launch, not the server's.
  result->startup_seconds.reset();
  if (result->first_steps_unix_seconds) {
    result->startup_seconds =
        *result->first_steps_unix_seconds - launch_unix_seconds_;
  }
  result_ = *result;
  if (quiet_) return interrupted ? 130 : 0;
  PrintSummaryTable(*result, run_dir_);
  if (chaos_ && calm_ != nullptr) {
    PrintChaosReport(chaos_report_, *result, *calm_);
  }
  if (!config_.output.summary_json.empty()) {
    const Status status =
        summary::WriteRunSummary(config_.output.summary_json, *result);
    if (!status.ok()) {
      std::fprintf(stderr, "anchorage demo: %s\n", status.message().c_str());
      return 1;
    }
    std::printf("summary written to %s\n", config_.output.summary_json.c_str());
  }
  if (config_.demo.linger && !interrupted) Linger();
  return interrupted ? 130 : 0;
}

StatusOr<summary::RunSummary> Demo::ReadShardedSummary() {
  StatusOr<summary::RunSummary> whole =
      summary::ReadRunSummary(ServerFile(0, "-summary.json"));
  if (!whole.ok()) return whole.status();
  std::vector<float> anchor;
  for (size_t s = 0; s < servers_.size(); ++s) {
    if (s > 0) {
      StatusOr<summary::RunSummary> shard =
          summary::ReadRunSummary(ServerFile(s, "-summary.json"));
      if (!shard.ok()) return shard.status();
      whole->bytes_up += shard->bytes_up;
      whole->bytes_down += shard->bytes_down;
      whole->raw_bytes_up += shard->raw_bytes_up;
      whole->rejected_messages += shard->rejected_messages;
      for (const auto& [reason, count] : shard->rejected_by_reason) {
        whole->rejected_by_reason[reason] += count;
      }
      whole->restarts += shard->restarts;
    }
    StatusOr<std::vector<float>> slice = io::ReadNpy(ServerFile(s, ".npy"));
    if (!slice.ok()) return slice.status();
    anchor.insert(anchor.end(), slice->begin(), slice->end());
  }
  StatusOr<model::Evaluation> evaluation =
      server::EvaluateAnchor(config_, anchor);
  if (!evaluation.ok()) return evaluation.status();
  whole->test_accuracy = evaluation->accuracy;
  whole->test_loss = evaluation->loss;
  whole->evaluations.push_back({whole->wall_seconds, whole->anchor_version,
                                evaluation->accuracy, evaluation->loss});
  if (!config_.output.save_model.empty()) {
    Status status = io::WriteNpy(config_.output.save_model, anchor);
    if (!status.ok()) return status;
  }
  return whole;
}

std::vector<ScrapeTarget> Demo::ServerTargets() const {
  std::vector<ScrapeTarget> targets;
  for (size_t s = 0; s < server_ready_.size(); ++s) {
    targets.push_back(
        {"127.0.0.1:" + std::to_string(server_ready_[s].metrics_port),
         "server",
         {},
         server_ready_.size() > 1 ? std::optional<int>(static_cast<int>(s))
                                  : std::nullopt});
  }
  return targets;
}

Status Demo::ScrapeEveryProcess() {
  std::vector<ScrapeTarget> targets = ServerTargets();
  for (size_t i = 0; i < workers_.size(); ++i) {
    const std::string ready =
        run_dir_ + "/worker-" + std::to_string(i) + ".ready";
    Status status = WaitForFile(ready, workers_[i], std::chrono::seconds(120));
    if (!status.ok()) {
      return Status::Unavailable("worker " + std::to_string(i) + " " +
                                 status.message());
    }
    StatusOr<service::ReadyFile> worker = service::ReadReadyFile(ready);
    if (!worker.ok()) return worker.status();
    targets.push_back({"127.0.0.1:" + std::to_string(worker->metrics_port),
                       "worker", static_cast<int>(i)});
  }
  Status status = prometheus_->WriteTargets(targets);
  if (!status.ok()) return status;
  std::printf(
      "Prometheus: %s (scraping the server and %zu workers every "
      "1 s; first samples after ~5 s)\n",
      prometheus_->url().c_str(), workers_.size());
  std::fflush(stdout);
  return Status::Ok();
}

void Demo::MaybeRefreshScrapeTargets() {
  if (!prometheus_ || !targets_stale_) return;
  std::vector<ScrapeTarget> targets = ServerTargets();
  for (size_t i = 0; i < workers_.size(); ++i) {
    StatusOr<service::ReadyFile> worker = service::ReadReadyFile(
        run_dir_ + "/worker-" + std::to_string(i) + ".ready");
    if (!worker.ok()) return;  // not up yet: next time
    targets.push_back({"127.0.0.1:" + std::to_string(worker->metrics_port),
                       "worker", static_cast<int>(i)});
  }
  targets_stale_ = !prometheus_->WriteTargets(targets).ok();
}

void Demo::Linger() {
  const int seen = g_interrupts.load();
  if (prometheus_) {
    std::printf(
        "--linger: Prometheus keeps serving the run at %s; Ctrl-C to "
        "stop\n",
        prometheus_->url().c_str());
  } else {
    std::printf("--linger: training is over; Ctrl-C to exit\n");
  }
  std::fflush(stdout);
  while (g_interrupts.load() == seen) {
    if (prometheus_ && prometheus_->process().Poll()) {
      std::fprintf(stderr, "anchorage demo: prometheus ended; its log:\n%s",
                   TailOfFile(prometheus_->process().log_path(), 10).c_str());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (prometheus_) prometheus_->Stop();
}

std::string Demo::ServerFile(size_t shard, const std::string& suffix) const {
  const std::string name = config_.server.shards > 1
                               ? "server-" + std::to_string(shard)
                               : std::string("server");
  return run_dir_ + "/" + name + suffix;
}

Status Demo::StartServers() {
  if (config_.demo.secure) {
    // One server key pair for every shard, one per worker.
    Status status =
        transport::WriteCurveKeys(run_dir_ + "/keys", config_.train.workers);
    if (!status.ok()) return status;
  }
  const auto shards = static_cast<size_t>(config_.server.shards);
  for (size_t s = 0; s < shards; ++s) {
    std::vector<std::string> argv = {self_, "server"};
    for (std::string& flag :
         config::SharedFlags(config_, config::Role::kServer)) {
      argv.push_back(std::move(flag));
    }
    argv.insert(argv.end(),
                {"--bind=tcp://127.0.0.1:*", "--metrics-address=127.0.0.1",
                 "--metrics-port=0", "--ready-file=" + ServerFile(s, ".ready"),
                 "--summary-json=" + ServerFile(s, "-summary.json")});
    if (shards > 1) {
      // Each shard writes its slice; the demo assembles and evaluates them.
      argv.insert(argv.end(), {"--shards=" + std::to_string(shards),
                               "--shard=" + std::to_string(s),
                               "--save-model=" + ServerFile(s, ".npy")});
    } else if (!config_.output.save_model.empty()) {
      argv.push_back("--save-model=" + config_.output.save_model);
    }
    if (config_.demo.secure) {
      const std::string keys = run_dir_ + "/keys";
      argv.insert(argv.end(), {"--curve-secret-key=" + keys + "/server.secret",
                               "--curve-allowed-keys=" + keys});
    }
    if (chaos_) {
      // A killed server resumes from here; the checkpoints are frequent
      // because the kills are.
      argv.insert(argv.end(),
                  {"--checkpoint-dir=" + ServerFile(s, "-checkpoints"),
                   "--checkpoint-interval=1"});
    }
    server_argv_.push_back(argv);
    server_ready_.emplace_back();
    Status status = LaunchServer(s);
    if (!status.ok()) return status;
  }
  return Status::Ok();
}

Status Demo::LaunchServer(size_t shard) {
  const std::string ready = ServerFile(shard, ".ready");
  std::filesystem::remove(ready);
  StatusOr<ChildProcess> child =
      ChildProcess::Spawn(server_argv_[shard], ServerFile(shard, ".log"));
  if (!child.ok()) return child.status();
  if (shard < servers_.size()) {
    servers_[shard] = std::move(child).value();
  } else {
    servers_.push_back(std::move(child).value());
  }
  Status status =
      WaitForFile(ready, servers_[shard], std::chrono::seconds(120));
  if (!status.ok()) {
    return Status::Unavailable("server " + status.message());
  }
  StatusOr<service::ReadyFile> read = service::ReadReadyFile(ready);
  if (!read.ok()) return read.status();
  if (read->endpoint.empty()) return Status::DataLoss(ready + ": no endpoint");
  server_ready_[shard] = std::move(read).value();
  return Status::Ok();
}

void Demo::SignalServers(int signal) {
  for (ChildProcess& server : servers_) {
    if (!server.Poll()) server.Signal(signal);
  }
}

std::optional<int> Demo::ServersExited() {
  int code = 0;
  for (ChildProcess& server : servers_) {
    const std::optional<int> exit = server.Poll();
    if (!exit) return std::nullopt;
    if (code == 0) code = *exit;
  }
  return code;
}

int Demo::StopServers() {
  int code = 0;
  for (ChildProcess& server : servers_) {
    const int exit = server.Stop(std::chrono::milliseconds(5000));
    if (code == 0) code = exit;
  }
  return code;
}

void Demo::PrintServerFailures() {
  for (ChildProcess& server : servers_) {
    const std::optional<int> code = server.Poll();
    if (code.value_or(0) == 0) continue;
    std::fprintf(stderr, "anchorage demo: %s exited with code %d; its log:\n%s",
                 servers_.size() > 1 ? "a server shard" : "the server", *code,
                 TailOfFile(server.log_path(), 20).c_str());
  }
}

Status Demo::StartWorkers() {
  for (int i = 0; i < config_.train.workers; ++i) {
    std::vector<std::string> argv = {self_, "worker"};
    for (std::string& flag :
         config::SharedFlags(config_, config::Role::kWorker)) {
      argv.push_back(std::move(flag));
    }
    std::string servers;
    for (const service::ReadyFile& ready : server_ready_) {
      servers += (servers.empty() ? "" : ",") + ready.endpoint;
    }
    argv.insert(
        argv.end(),
        {(server_ready_.size() > 1 ? "--servers=" : "--server=") + servers,
         "--worker-id=" + std::to_string(i), "--metrics-address=127.0.0.1",
         "--metrics-port=0",
         "--ready-file=" + run_dir_ + "/worker-" + std::to_string(i) +
             ".ready"});
    if (config_.demo.secure) {
      const std::string keys = run_dir_ + "/keys";
      argv.insert(argv.end(), {"--curve-secret-key=" + keys + "/worker-" +
                                   std::to_string(i) + ".secret",
                               "--curve-server-key=" + keys + "/server.pub"});
    }
    worker_argv_.push_back(argv);
    StatusOr<ChildProcess> child = ChildProcess::Spawn(
        argv, run_dir_ + "/worker-" + std::to_string(i) + ".log");
    if (!child.ok()) return child.status();
    workers_.push_back(std::move(child).value());
  }
  return Status::Ok();
}

void Demo::MaybeKill(ProgressPrinter& progress) {
  if (!chaos_ ||
      Seconds(Clock::now() - start_).count() < next_kill_.at_seconds) {
    return;
  }
  const ChaosEvent event = next_kill_;
  next_kill_ = chaos_->Next();
  const bool server = event.victim == ChaosEvent::kServer;
  // A sharded service's shards are killed in turn.
  const size_t shard =
      static_cast<size_t>(chaos_report_.server_kills) % servers_.size();
  ChildProcess& victim =
      server ? servers_[shard] : workers_[static_cast<size_t>(event.victim)];
  // A process that ended by itself (the run is over) is left alone.
  if (victim.Poll()) return;
  victim.Signal(SIGKILL);
  victim.WaitFor(std::chrono::seconds(2));
  ++(server ? chaos_report_.server_kills : chaos_report_.worker_kills);
  const std::string name = !server ? "worker " + std::to_string(event.victim)
                           : servers_.size() > 1
                               ? "server shard " + std::to_string(shard)
                               : std::string("the server");
  char text[160];
  std::snprintf(text, sizeof(text),
                "chaos: kill %d: SIGKILL to %s; starting it again in %.1f s",
                chaos_report_.server_kills + chaos_report_.worker_kills,
                name.c_str(), event.downtime_seconds);
  progress.Note(text);
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        Seconds(event.downtime_seconds));
  while (Clock::now() < until && g_interrupts.load() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Status status;
  if (server) {
    status = RestartServer(shard, progress);
  } else {
    const auto i = static_cast<size_t>(event.victim);
    std::filesystem::remove(run_dir_ + "/worker-" + std::to_string(i) +
                            ".ready");
    StatusOr<ChildProcess> child =
        ChildProcess::Spawn(worker_argv_[i], workers_[i].log_path());
    if (child.ok()) {
      workers_[i] = std::move(child).value();
      targets_stale_ = true;
    } else {
      status = child.status();
    }
  }
  if (!status.ok()) {
    progress.Note("chaos: could not start " + name +
                  " again: " + status.message());
  }
}

Status Demo::RestartServer(size_t shard, ProgressPrinter& progress) {
  // The same flags, on the port the workers know.
  for (std::string& arg : server_argv_[shard]) {
    if (arg.rfind("--bind=", 0) == 0) {
      arg = "--bind=" + server_ready_[shard].endpoint;
    }
  }
  Status status = LaunchServer(shard);
  if (!status.ok()) return status;
  if (shard == 0) progress.set_port(server_ready_[0].metrics_port);
  targets_stale_ = true;
  return Status::Ok();
}

int Demo::Follow() {
  const auto timeout = std::chrono::duration_cast<Clock::duration>(
      Seconds(config_.demo.timeout_seconds));
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      Seconds(config_.demo.progress_interval_seconds));
  Clock::time_point next_progress = Clock::now();
  ProgressPrinter progress(config_, server_ready_.front().metrics_port);
  std::vector<bool> reported(workers_.size(), false);
  int interrupts_seen = 0;
  bool workers_failed = false;
  while (true) {
    if (std::optional<int> code = ServersExited()) {
      progress.Finish();
      return workers_failed && *code == 0 ? 1 : *code;
    }
    CheckWorkers(progress, &reported, &workers_failed);
    CheckInterrupts(progress, &interrupts_seen);
    if (interrupts_seen == 0 && !workers_failed) MaybeKill(progress);
    MaybeRefreshScrapeTargets();
    const Clock::time_point now = Clock::now();
    if (now - start_ > timeout) {
      progress.Note(
          "timed out after " +
          std::to_string(static_cast<int>(config_.demo.timeout_seconds)) +
          " s; stopping");
      SignalServers(SIGTERM);
      const int code = StopServers();
      return code == 0 ? 1 : code;
    }
    if (interval.count() > 0 && now >= next_progress) {
      progress.Print(Seconds(now - start_).count());
      next_progress = now + interval;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Demo::CheckWorkers(ProgressPrinter& progress, std::vector<bool>* reported,
                        bool* workers_failed) {
  // Count every failed worker before reporting any, so the last one to
  // fail is seen as the last, whichever index it has.
  size_t failed = 0;
  for (ChildProcess& worker : workers_) {
    const std::optional<int> code = worker.Poll();
    if (code && *code != 0) ++failed;
  }
  for (size_t i = 0; i < workers_.size(); ++i) {
    std::optional<int> code = workers_[i].Poll();
    if (code && *code != 0 && !(*reported)[i]) {
      (*reported)[i] = true;
      progress.Note("worker " + std::to_string(i) + " exited with code " +
                    std::to_string(*code) +
                    (failed < workers_.size() ? "; the others go on" : ""));
    }
  }
  if (failed == workers_.size() && !*workers_failed) {
    *workers_failed = true;
    progress.Note("no worker is left; stopping (see the workers' logs)");
    SignalServers(SIGTERM);
  }
}

void Demo::CheckInterrupts(ProgressPrinter& progress, int* interrupts_seen) {
  const int interrupts = g_interrupts.load();
  if (interrupts <= *interrupts_seen) return;
  *interrupts_seen = interrupts;
  progress.Note(interrupts == 1
                    ? "interrupted: stopping the server cleanly (Ctrl-C "
                      "again to kill)"
                    : "killing every process");
  SignalServers(interrupts == 1 ? SIGTERM : SIGKILL);
}

void Demo::StopWorkers() {
  // Workers end by themselves on the server's Done; give them a moment.
  // Under chaos a worker started again near the end may have missed the
  // Done and wait for a server that is gone: a shorter moment.
  const auto deadline = Clock::now() + (chaos_ ? std::chrono::seconds(2)
                                               : std::chrono::seconds(10));
  for (ChildProcess& worker : workers_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (!worker.WaitFor(std::max(left, std::chrono::milliseconds(0)))) {
      worker.Stop(std::chrono::milliseconds(2000));
    }
  }
}

// Runs the demo, or under --chaos a calm demo and then the chaotic one,
// in `run_dir`; returns the exit code. The first demo was launched at
// `launch_unix_seconds`.
int RunDemos(config::RunConfig config, const config::ParsedCommandLine& parsed,
             const std::string& run_dir, double launch_unix_seconds) {
  if (config.demo.chaos) {
    // Killed workers are found out within a second (200 ms heartbeats,
    // liveness 5) unless the flags say otherwise: an async anchor keeps a
    // dead worker's last contribution until then, and the default 10 s
    // window is a whole demo run.
    const std::set<std::string>& given = parsed.given;
    if (given.count("--heartbeat-interval-ms") == 0) {
      config.server.heartbeat_interval_ms = 200;
    }
    if (given.count("--heartbeat-liveness") == 0) {
      config.server.heartbeat_liveness = 5;
    }
  }
  if (!config.demo.chaos) {
    Demo demo(config, run_dir, /*quiet=*/false, launch_unix_seconds);
    return demo.Run();
  }
  // What the chaos costs is measured against the same run without it.
  config::RunConfig calm = config;
  calm.demo.chaos = false;
  calm.demo.progress_interval_seconds = 0;
  calm.demo.prometheus = false;
  calm.demo.linger = false;
  calm.output.summary_json.clear();
  calm.output.save_model.clear();
  const std::string calm_dir = run_dir + "/calm";
  std::filesystem::create_directory(calm_dir);
  std::printf(
      "Anchorage demo --chaos: first the same run without chaos "
      "(logs in %s)\n",
      calm_dir.c_str());
  std::fflush(stdout);
  Demo calm_demo(calm, calm_dir, /*quiet=*/true, launch_unix_seconds);
  const int calm_code = calm_demo.Run();
  if (calm_code != 0) return calm_code;
  std::printf("without chaos: test accuracy %.4f in %.1f s\n\n",
              calm_demo.result().test_accuracy,
              calm_demo.result().demo_wall_seconds.value_or(0));
  Demo demo(config, run_dir, /*quiet=*/false, UnixSeconds());
  demo.set_calm(&calm_demo.result());
  return demo.Run();
}

}  // namespace

int RunDemoCommand(int argc, const char* const* argv) {
  const double launch_unix_seconds = UnixSeconds();
  StatusOr<std::optional<config::ParsedCommandLine>> parsed =
      config::ParseCommandLine(config::Role::kDemo, argc, argv);
  if (!parsed.ok()) {
    std::fprintf(stderr, "anchorage demo: %s\n",
                 parsed.status().message().c_str());
    return 2;
  }
  if (!parsed->has_value()) return 0;
  StatusOr<std::string> run_dir = MakeRunDirectory();
  if (!run_dir.ok()) {
    std::fprintf(stderr, "anchorage demo: %s\n",
                 run_dir.status().message().c_str());
    return 1;
  }
  struct sigaction action {};
  action.sa_handler = HandleInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  config::RunConfig config = (*parsed)->config;
  // The server decodes the dataset once into the cache before the workers
  // start; they map it and copy only their shards, and later demos map it
  // from the start.
  if (config.train.data_cache.empty()) {
    config.train.data_cache = DefaultDataCache(*run_dir);
  }
  return RunDemos(std::move(config), **parsed, *run_dir, launch_unix_seconds);
}

}  // namespace anchorage::launcher
