// FormatValue: a number as error messages show it (printf's %g: six
// significant digits, "nan", "inf").
#pragma once

#include <cstdio>
#include <string>

namespace anchorage {

inline std::string FormatValue(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

}  // namespace anchorage
