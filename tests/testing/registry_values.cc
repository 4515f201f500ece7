#include "tests/testing/registry_values.h"

namespace anchorage::testing {

double MetricValue(const prometheus::Registry& registry,
                   const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  double total = 0;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      bool match = true;
      for (const auto& [key, value] : labels) {
        bool found = false;
        for (const prometheus::ClientMetric::Label& label : metric.label) {
          if (label.name == key && label.value == value) found = true;
        }
        match = match && found;
      }
      if (!match) continue;
      switch (family.type) {
        case prometheus::MetricType::Counter:
          total += metric.counter.value;
          break;
        case prometheus::MetricType::Gauge:
          total += metric.gauge.value;
          break;
        case prometheus::MetricType::Histogram:
          total += static_cast<double>(metric.histogram.sample_count);
          break;
        default:
          break;
      }
    }
  }
  return total;
}

}  // namespace anchorage::testing
