#include "server/evaluator.h"

#include <cstring>
#include <string>
#include <utility>

#include "common/base/check.h"
#include "common/config/train_data.h"

namespace anchorage::server {
namespace {

// Job frames: [version u64][anchor floats]; result frames:
// [version u64][loss f64][accuracy f64][examples i64]. An empty job frame
// stops the thread.
struct ResultBytes {
  uint64_t version;
  double loss;
  double accuracy;
  int64_t examples;
};

std::string UniqueEndpoint(const void* owner) {
  return "inproc://evaluator-" +
         std::to_string(reinterpret_cast<std::uintptr_t>(owner));
}

}  // namespace

model::Evaluation EvaluateOn(model::Model& model, const data::Dataset& test,
                             std::span<const float> params) {
  return model.Evaluate(params, test.features, test.labels);
}

StatusOr<model::Evaluation> EvaluateAnchor(const config::RunConfig& config,
                                           std::span<const float> anchor) {
  StatusOr<config::EvaluationData> data =
      config::LoadEvaluationData(config.train);
  if (!data.ok()) return data.status();
  StatusOr<std::unique_ptr<model::Model>> model = model::MakeModel(
      config.train.model, data->test.dim(), data->test.num_classes);
  if (!model.ok()) return model.status();
  if (static_cast<int64_t>(anchor.size()) != (*model)->dim()) {
    return Status::InvalidArgument(
        "an anchor of " + std::to_string(anchor.size()) +
        " parameters for a model of " + std::to_string((*model)->dim()));
  }
  return EvaluateOn(**model, data->test, anchor);
}

Evaluator::Evaluator(zmq::context_t& context,
                     std::unique_ptr<model::Model> model,
                     const data::Dataset* test, int64_t examples)
    : socket_(context, zmq::socket_type::pair),
      model_(std::move(model)),
      test_(test) {
  if (examples > 0 && examples < test->size()) {
    features_ = test->features.topRows(examples);
    labels_.assign(test->labels.begin(), test->labels.begin() + examples);
  }
  const std::string endpoint = UniqueEndpoint(this);
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(endpoint);
  zmq::socket_t peer(context, zmq::socket_type::pair);
  peer.set(zmq::sockopt::linger, 0);
  peer.connect(endpoint);
  thread_ = std::thread(&Evaluator::Loop, this, std::move(peer));
}

Evaluator::~Evaluator() {
  // An inproc send to the live evaluation thread cannot fail; if it did,
  // the thread could not be stopped either.
  try {
    socket_.send(zmq::message_t(), zmq::send_flags::none);
    thread_.join();
  } catch (const std::exception& error) {
    ANCHORAGE_CHECK(false, error.what());
  }
}

bool Evaluator::Submit(uint64_t version, std::span<const float> anchor) {
  if (busy_) return false;
  zmq::message_t job(sizeof(version) + anchor.size_bytes());
  auto* bytes = static_cast<uint8_t*>(job.data());
  std::memcpy(bytes, &version, sizeof(version));
  std::memcpy(bytes + sizeof(version), anchor.data(), anchor.size_bytes());
  socket_.send(job, zmq::send_flags::none);
  busy_ = true;
  return true;
}

std::optional<EvalResult> Evaluator::TryReceive() {
  zmq::message_t reply;
  if (!socket_.recv(reply, zmq::recv_flags::dontwait)) return std::nullopt;
  busy_ = false;
  ResultBytes result{};
  std::memcpy(&result, reply.data(), sizeof(result));
  return EvalResult{result.version,
                    {result.loss, result.accuracy, result.examples}};
}

void Evaluator::Loop(zmq::socket_t peer) {
  std::vector<float> params;
  while (true) {
    zmq::message_t job;
    if (!peer.recv(job, zmq::recv_flags::none) || job.empty()) return;
    uint64_t version = 0;
    std::memcpy(&version, job.data(), sizeof(version));
    params.resize((job.size() - sizeof(version)) / sizeof(float));
    std::memcpy(params.data(),
                static_cast<const uint8_t*>(job.data()) + sizeof(version),
                params.size() * sizeof(float));
    const model::Evaluation evaluation =
        labels_.empty()
            ? model_->Evaluate(params, test_->features, test_->labels)
            : model_->Evaluate(params, features_, labels_);
    const ResultBytes result{version, evaluation.loss, evaluation.accuracy,
                             evaluation.examples};
    zmq::message_t reply(&result, sizeof(result));
    peer.send(reply, zmq::send_flags::none);
  }
}

}  // namespace anchorage::server
