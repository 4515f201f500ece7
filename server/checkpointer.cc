#include "server/checkpointer.h"

#include <chrono>
#include <random>
#include <utility>

#include "common/base/log.h"

namespace anchorage::server {

std::vector<double> EvaluationNumbers(
    const std::vector<summary::Evaluation>& evaluations) {
  std::vector<double> numbers;
  numbers.reserve(evaluations.size() * 4);
  for (const summary::Evaluation& evaluation : evaluations) {
    numbers.insert(numbers.end(),
                   {evaluation.seconds, static_cast<double>(evaluation.version),
                    evaluation.accuracy, evaluation.loss});
  }
  return numbers;
}

StatusOr<Resumed> Resume(const std::string& dir,
                         const io::Fingerprint& fingerprint,
                         const MakeRound& make_round,
                         std::unique_ptr<algo::AnchorRound>* round) {
  Resumed fresh;
  std::random_device entropy;
  fresh.run_id = (static_cast<uint64_t>(entropy()) << 32) | entropy();
  if (dir.empty()) return fresh;
  std::vector<std::string> refused;
  StatusOr<std::optional<io::LoadedCheckpoint>> loaded =
      io::LoadNewestCheckpoint(
          dir,
          [&](const io::Checkpoint& checkpoint,
              const std::string& path) -> Status {
            const std::string difference =
                io::FingerprintDifference(checkpoint.fingerprint, fingerprint);
            if (!difference.empty()) {
              return Status::FailedPrecondition(
                  path + " is a checkpoint of another run: " + difference +
                  " (give the same flags, or another --checkpoint-dir)");
            }
            StatusOr<std::unique_ptr<algo::AnchorRound>> restored =
                make_round();
            if (!restored.ok()) return restored.status();
            Status status = (*restored)->Load(checkpoint.state);
            if (!status.ok()) {
              return Status::DataLoss(path + ": " + status.message());
            }
            *round = std::move(restored).value();
            return Status::Ok();
          },
          &refused);
  for (const std::string& problem : refused) {
    LOG_WARNING("refusing checkpoint %s", problem.c_str());
  }
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    if (refused.empty()) return fresh;
    return Status::DataLoss(
        "no checkpoint in " + dir +
        " can be loaded (see the warnings above); move them away to start "
        "the run afresh");
  }
  const io::Checkpoint& checkpoint = (*loaded)->checkpoint;
  std::vector<summary::Evaluation> evaluations;
  const std::vector<double>& numbers = checkpoint.evaluations;
  for (size_t i = 0; i + 3 < numbers.size(); i += 4) {
    evaluations.push_back({numbers[i], static_cast<uint64_t>(numbers[i + 1]),
                           numbers[i + 2], numbers[i + 3]});
  }
  const Resumed resumed{.run_id = checkpoint.run_id,
                        .restarts = checkpoint.restarts + 1,
                        .version = checkpoint.version,
                        .clock_seconds = checkpoint.clock_seconds,
                        .bytes_up = checkpoint.bytes_up,
                        .bytes_down = checkpoint.bytes_down,
                        .rejected_messages = checkpoint.rejected_messages,
                        .evaluations = std::move(evaluations)};
  LOG_INFO("resuming from %s: anchor v%llu, %.2f epochs, restart %lld",
           (*loaded)->path.c_str(),
           static_cast<unsigned long long>(checkpoint.version),
           (*round)->stats().epochs, static_cast<long long>(resumed.restarts));
  return resumed;
}

Checkpointer::~Checkpointer() {
  Wait();
}

bool Checkpointer::Start(io::Checkpoint checkpoint) {
  if (running_.valid()) return false;
  running_ = std::async(
      std::launch::async, [dir = dir_, checkpoint = std::move(checkpoint)] {
        const auto start = std::chrono::steady_clock::now();
        CheckpointWrite write{.path = io::WriteCheckpoint(dir, checkpoint),
                              .version = checkpoint.version,
                              .bytes = checkpoint.state.size()};
        write.seconds = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        return write;
      });
  return true;
}

std::optional<CheckpointWrite> Checkpointer::Poll() {
  if (!running_.valid() ||
      running_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return std::nullopt;
  }
  return running_.get();
}

std::optional<CheckpointWrite> Checkpointer::Wait() {
  if (!running_.valid()) return std::nullopt;
  return running_.get();
}

}  // namespace anchorage::server
