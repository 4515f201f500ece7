// How error messages show values: FormatValue, a number as printf's %g
// (six significant digits, "nan", "inf"); ErrnoText, what an errno means
// (thread-safe, unlike strerror); Printable, a string from a peer as it may
// appear in a log line or an error message.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
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

// `text` with every byte outside printable ASCII, and the backslash, as
// \xNN, cut to its first `max_bytes` bytes (then "..." and the full length
// follow), so a hostile peer cannot forge log lines or flood them.
inline std::string Printable(std::string_view text, size_t max_bytes = 200) {
  std::string out;
  const size_t shown = text.size() <= max_bytes ? text.size() : max_bytes;
  for (size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", byte);
      out += escaped;
    }
  }
  if (shown < text.size()) {
    out += "... (" + std::to_string(text.size()) + " bytes)";
  }
  return out;
}

}  // namespace anchorage
