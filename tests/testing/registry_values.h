// Reads metric values out of a prometheus::Registry, for assertions.
#pragma once

#include <map>
#include <string>

#include <prometheus/registry.h>

namespace anchorage::testing {

// Returns the value of the series `name` whose labels include every entry
// of `labels` (counter or gauge value; for histograms the sample count);
// 0 when absent.
double MetricValue(const prometheus::Registry& registry,
                   const std::string& name,
                   const std::map<std::string, std::string>& labels = {});

}  // namespace anchorage::testing
