// A minimal HTTP/1.0 client for scraping /metrics on loopback, and a reader
// for single samples of the Prometheus text format. Used by the demo's
// progress line and by tests; not a general HTTP client.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace anchorage::metrics {

// GETs http://host:port/path and returns the body of a 200 response.
// Returns Unavailable when the connection fails or the deadline passes.
StatusOr<std::string> HttpGet(const std::string& host, int port,
                              const std::string& path,
                              std::chrono::milliseconds timeout);

// Returns the value of the first sample in `text` whose series (name plus
// optional label set, exactly as printed, e.g.
// `anchorage_server_pushes_total{outcome="applied"}`) equals `series`.
std::optional<double> FindSample(std::string_view text,
                                 std::string_view series);

}  // namespace anchorage::metrics
