// How error messages show values: FormatValue, a number as printf's %g
// (six significant digits, "nan", "inf"); ErrnoText, what an errno means
// (thread-safe, unlike strerror).
#pragma once

#include <cstdio>
#include <string>
#include <system_error>

namespace anchorage {

inline std::string ErrnoText(int error) {
  return std::generic_category().message(error);
}

inline std::string FormatValue(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

}  // namespace anchorage
