#include "worker/worker_metrics.h"

namespace anchorage::worker {
namespace {

prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  return {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,   0.5,   1,      2.5,   5,    10};
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry,
                             const std::string& algorithm,
                             const std::string& codec)
    : local_steps(prometheus::BuildCounter()
                      .Name("anchorage_worker_local_steps_total")
                      .Help("Local SGD steps")
                      .Register(registry)
                      .Add({{"algorithm", algorithm}})),
      samples(prometheus::BuildCounter()
                  .Name("anchorage_worker_samples_total")
                  .Help("Training examples processed")
                  .Register(registry)
                  .Add({})),
      compute_seconds(prometheus::BuildCounter()
                          .Name("anchorage_worker_compute_seconds_total")
                          .Help("Time spent in local steps")
                          .Register(registry)
                          .Add({})),
      encode_seconds(prometheus::BuildCounter()
                         .Name("anchorage_worker_encode_seconds_total")
                         .Help("Time spent encoding pushes (compression)")
                         .Register(registry)
                         .Add({})),
      sync_wait(prometheus::BuildHistogram()
                    .Name("anchorage_worker_sync_wait_seconds")
                    .Help("Time the compute thread was blocked waiting for "
                          "an anchor at a sync point")
                    .Register(registry)
                    .Add({}, SecondsBuckets())),
      push_rtt(prometheus::BuildHistogram()
                   .Name("anchorage_worker_push_rtt_seconds")
                   .Help("Push sent to the answering anchor received")
                   .Register(registry)
                   .Add({}, SecondsBuckets())),
      bytes_tx(prometheus::BuildCounter()
                   .Name("anchorage_worker_bytes_total")
                   .Help("Bytes on the wire")
                   .Register(registry)
                   .Add({{"direction", "tx"}, {"codec", codec}})),
      bytes_rx(prometheus::BuildCounter()
                   .Name("anchorage_worker_bytes_total")
                   .Help("Bytes on the wire")
                   .Register(registry)
                   .Add({{"direction", "rx"}, {"codec", codec}})),
      raw_bytes(prometheus::BuildCounter()
                    .Name("anchorage_worker_raw_bytes_total")
                    .Help("Bytes the pushed tensors would take as dense "
                          "float32")
                    .Register(registry)
                    .Add({{"direction", "tx"}})),
      quantization_bits(prometheus::BuildGauge()
                            .Name("anchorage_worker_quantization_bits")
                            .Help("Bits per coordinate of the last push "
                                  "(qsgd, dqsgd; 0 for other codecs)")
                            .Register(registry)
                            .Add({})),
      train_loss(prometheus::BuildGauge()
                     .Name("anchorage_worker_train_loss")
                     .Help("Mean training loss over the last round")
                     .Register(registry)
                     .Add({})),
      anchor_version(prometheus::BuildGauge()
                         .Name("anchorage_worker_anchor_version")
                         .Help("Version of the newest anchor received")
                         .Register(registry)
                         .Add({})),
      learning_rate(prometheus::BuildGauge()
                        .Name("anchorage_worker_learning_rate")
                        .Help("Current local learning rate")
                        .Register(registry)
                        .Add({})),
      reconnects(prometheus::BuildCounter()
                     .Name("anchorage_worker_reconnects_total")
                     .Help("Times the worker rebuilt its server connection")
                     .Register(registry)
                     .Add({})) {}

}  // namespace anchorage::worker
