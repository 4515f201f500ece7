// Evaluates anchors on the held-out set on a thread of its own, so the
// server's event loop never stalls on a forward pass. The event loop hands
// over a copy of the anchor through an inproc PAIR socket; the result comes
// back the same way. At most one evaluation runs at a time: Submit() refuses
// while one is in flight, so a slow evaluation never builds a queue.
//
// Submit/TryReceive/socket are called from the owning (event-loop) thread
// only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/base/status.h"
#include "common/config/run_config.h"
#include "common/data/dataset.h"
#include "common/model/model.h"

namespace anchorage::server {

struct EvalResult {
  uint64_t version = 0;
  model::Evaluation evaluation;
};

class Evaluator {
 public:
  // Evaluates with `model` on the first `examples` rows of `test` (0 = all).
  // `test` must outlive the evaluator.
  Evaluator(zmq::context_t& context, std::unique_ptr<model::Model> model,
            const data::Dataset* test, int64_t examples);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  Evaluator(Evaluator&&) = delete;
  Evaluator& operator=(Evaluator&&) = delete;

  // Starts evaluating `anchor` as `version`. Returns false (and does
  // nothing) while an earlier evaluation is still running.
  bool Submit(uint64_t version, std::span<const float> anchor);
  // Returns the finished evaluation, if one is waiting.
  std::optional<EvalResult> TryReceive();
  // The socket to poll for results.
  zmq::socket_t& socket() { return socket_; }
  bool busy() const { return busy_; }

 private:
  void Loop(zmq::socket_t peer);

  zmq::socket_t socket_;
  std::unique_ptr<model::Model> model_;
  const data::Dataset* test_;
  RowMatrix features_;  // the rows evaluated, when a subset
  std::vector<int32_t> labels_;
  bool busy_ = false;
  std::thread thread_;
};

// Evaluates `params` with `model` on the whole of `test`.
model::Evaluation EvaluateOn(model::Model& model, const data::Dataset& test,
                             std::span<const float> params);

// Evaluates a whole anchor of `config`'s model on its test split (loaded
// for the call): a sharded service's slices, assembled. InvalidArgument
// when `anchor` is not of the model's dimension.
StatusOr<model::Evaluation> EvaluateAnchor(const config::RunConfig& config,
                                           std::span<const float> anchor);

}  // namespace anchorage::server
