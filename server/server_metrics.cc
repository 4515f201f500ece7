#include "server/server_metrics.h"

namespace anchorage::server {
namespace {

prometheus::Histogram::BucketBoundaries StalenessBuckets() {
  return {0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128};
}

prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  return {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,   0.5,   1,      2.5,   5,    10};
}

}  // namespace

ServerMetrics::ServerMetrics(prometheus::Registry& registry,
                             const std::string& algorithm,
                             const std::string& codec)
    : anchor_version(prometheus::BuildGauge()
                         .Name("anchorage_server_anchor_version")
                         .Help("Current anchor version")
                         .Register(registry)
                         .Add({{"algorithm", algorithm}})),
      workers_connected(prometheus::BuildGauge()
                            .Name("anchorage_server_workers_connected")
                            .Help("Live workers")
                            .Register(registry)
                            .Add({})),
      workers_lost(prometheus::BuildCounter()
                       .Name("anchorage_server_workers_lost_total")
                       .Help("Workers declared lost after missing heartbeats")
                       .Register(registry)
                       .Add({})),
      pushes_applied(prometheus::BuildCounter()
                         .Name("anchorage_server_pushes_total")
                         .Help("Worker contributions by outcome")
                         .Register(registry)
                         .Add({{"outcome", "applied"}})),
      pushes_rejected(prometheus::BuildCounter()
                          .Name("anchorage_server_pushes_total")
                          .Help("Worker contributions by outcome")
                          .Register(registry)
                          .Add({{"outcome", "rejected"}})),
      pushes_stale(prometheus::BuildCounter()
                       .Name("anchorage_server_pushes_total")
                       .Help("Worker contributions by outcome")
                       .Register(registry)
                       .Add({{"outcome", "stale_dropped"}})),
      pushes_waiting(prometheus::BuildGauge()
                         .Name("anchorage_server_pushes_waiting")
                         .Help("Workers waiting for a push credit "
                               "(--push-credits)")
                         .Register(registry)
                         .Add({})),
      staleness(prometheus::BuildHistogram()
                    .Name("anchorage_server_staleness_versions")
                    .Help("Anchor versions between a contribution's base and "
                          "the anchor it is applied to")
                    .Register(registry)
                    .Add({}, StalenessBuckets())),
      push_delay(prometheus::BuildHistogram()
                     .Name("anchorage_server_push_delay_seconds")
                     .Help("Worker send to server apply of a contribution")
                     .Register(registry)
                     .Add({}, SecondsBuckets())),
      round_duration(prometheus::BuildHistogram()
                         .Name("anchorage_server_round_duration_seconds")
                         .Help("Time between anchor versions (sync: rounds)")
                         .Register(registry)
                         .Add({}, SecondsBuckets())),
      straggler_wait(prometheus::BuildHistogram()
                         .Name("anchorage_server_straggler_wait_seconds")
                         .Help("Sync mode: first to last contribution of a "
                               "round")
                         .Register(registry)
                         .Add({}, SecondsBuckets())),
      bytes_rx(prometheus::BuildCounter()
                   .Name("anchorage_server_bytes_total")
                   .Help("Bytes on the wire")
                   .Register(registry)
                   .Add({{"direction", "rx"}, {"codec", codec}})),
      bytes_tx(prometheus::BuildCounter()
                   .Name("anchorage_server_bytes_total")
                   .Help("Bytes on the wire")
                   .Register(registry)
                   .Add({{"direction", "tx"}, {"codec", codec}})),
      sends_dropped(prometheus::BuildCounter()
                        .Name("anchorage_server_sends_dropped_total")
                        .Help("Messages dropped because the peer's queue was "
                              "full")
                        .Register(registry)
                        .Add({})),
      replies_suppressed(prometheus::BuildCounter()
                             .Name("anchorage_server_replies_suppressed_total")
                             .Help("Error replies not sent: the peer used up "
                                   "its share")
                             .Register(registry)
                             .Add({})),
      samples(prometheus::BuildCounter()
                  .Name("anchorage_server_samples_total")
                  .Help("Training examples processed by all workers")
                  .Register(registry)
                  .Add({})),
      eval_accuracy(prometheus::BuildGauge()
                        .Name("anchorage_server_eval_accuracy_ratio")
                        .Help("Accuracy of the anchor on held-out data")
                        .Register(registry)
                        .Add({})),
      eval_loss(prometheus::BuildGauge()
                    .Name("anchorage_server_eval_loss")
                    .Help("Loss of the anchor on held-out data")
                    .Register(registry)
                    .Add({})),
      epoch(prometheus::BuildGauge()
                .Name("anchorage_server_epoch")
                .Help("Passes over the training set by all workers together")
                .Register(registry)
                .Add({})),
      checkpoint_snapshot(
          prometheus::BuildHistogram()
              .Name("anchorage_server_checkpoint_snapshot_seconds")
              .Help("Serving-loop stall to snapshot the round state")
              .Register(registry)
              .Add({}, SecondsBuckets())),
      checkpoint_write(prometheus::BuildHistogram()
                           .Name("anchorage_server_checkpoint_write_seconds")
                           .Help("Writing a checkpoint, off the serving loop")
                           .Register(registry)
                           .Add({}, SecondsBuckets())),
      checkpoints_written(prometheus::BuildCounter()
                              .Name("anchorage_server_checkpoints_total")
                              .Help("Checkpoint writes by outcome")
                              .Register(registry)
                              .Add({{"outcome", "written"}})),
      checkpoints_failed(prometheus::BuildCounter()
                             .Name("anchorage_server_checkpoints_total")
                             .Help("Checkpoint writes by outcome")
                             .Register(registry)
                             .Add({{"outcome", "failed"}})),
      restarts(prometheus::BuildGauge()
                   .Name("anchorage_server_restarts")
                   .Help("Times this run resumed from a checkpoint")
                   .Register(registry)
                   .Add({})),
      rejected_(prometheus::BuildCounter()
                    .Name("anchorage_server_rejected_messages_total")
                    .Help("Messages rejected, by reason")
                    .Register(registry)) {}

void ServerMetrics::Reject(const std::string& reason) {
  rejected_.Add({{"reason", reason}}).Increment();
}

}  // namespace anchorage::server
