#include "server/server_summary.h"

#include <cstdio>

#include "common/io/json.h"
#include "common/service/startup.h"

namespace anchorage::server {

Status WriteSummaryJson(const std::string& path,
                        const config::RunConfig& config,
                        const ServerSummary& summary) {
  std::string lost = "[";
  for (size_t i = 0; i < summary.lost_workers.size(); ++i) {
    if (i > 0) lost += ", ";
    lost += std::to_string(summary.lost_workers[i]);
  }
  lost += "]";
  std::string evaluations = "[";
  for (size_t i = 0; i < summary.evaluations.size(); ++i) {
    const ServerSummary::Point& p = summary.evaluations[i];
    if (i > 0) evaluations += ", ";
    char text[160];
    std::snprintf(text, sizeof(text),
                  "{\"seconds\": %.3f, \"version\": %llu, \"accuracy\": %.6f, "
                  "\"loss\": %.6f}",
                  p.seconds, static_cast<unsigned long long>(p.version),
                  p.accuracy, p.loss);
    evaluations += text;
  }
  evaluations += "]";
  io::JsonObject json;
  json.Add("algorithm", config.train.algorithm)
      .Add("aggregation", config.server.aggregation_kind(config.train) ==
                                  config::Aggregation::kSync
                              ? "sync"
                              : "async");
  service::AddRunSettings(config, &json);
  json.Add("anchor_version", summary.anchor_version)
      .Add("test_accuracy", summary.test_accuracy)
      .Add("test_loss", summary.test_loss)
      .Add("train_loss", summary.train_loss)
      .Add("wall_seconds", summary.wall_seconds)
      .Add("epochs", summary.epochs)
      .Add("samples", summary.samples);
  service::AddTraffic(summary.bytes_up, summary.bytes_down,
                      summary.raw_bytes_up, &json);
  json.Add("pushes_applied", summary.pushes_applied)
      .Add("pushes_rejected", summary.pushes_rejected)
      .Add("pushes_stale", summary.pushes_stale)
      .Add("rejected_messages", summary.rejected_messages)
      .Add("staleness_mean", summary.staleness_mean)
      .Add("sync_wait_seconds_mean", summary.sync_wait_seconds_mean)
      .Add("compute_seconds_mean", summary.compute_seconds_mean)
      .Add("encode_seconds_mean", summary.encode_seconds_mean)
      .AddRaw("lost_workers", lost)
      .Add("stop_reason", summary.stop_reason)
      .AddRaw("evaluations", evaluations);
  return io::WriteFileAtomically(path, json.ToString());
}

}  // namespace anchorage::server
