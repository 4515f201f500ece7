#include "common/report/table.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace anchorage::report {
namespace {

// Returns the number of code points in UTF-8 `text`: the width a monospace
// viewer gives it, near enough for padding columns.
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

// Returns true if `cell` reads as a number, including the words FormatNumber
// writes for non-finite values.
bool IsNumber(std::string_view cell) {
  cell = Trim(cell);
  if (cell == "n/a" || cell == "inf" || cell == "-inf" || cell == "nan") {
    return true;
  }
  if (!cell.empty() && (cell.front() == '+' || cell.front() == '-')) {
    cell.remove_prefix(1);
  }
  // from_chars would also accept "inf", "nan" and "infinity" spellings; only
  // digits, a point and an exponent are numbers here.
  if (cell.empty() ||
      !(std::isdigit(static_cast<unsigned char>(cell[0])) || cell[0] == '.')) {
    return false;
  }
  double value = 0.0;
  const auto [end, error] =
      std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return error == std::errc() && end == cell.data() + cell.size();
}

std::string EscapeMarkdownCell(std::string_view cell) {
  std::string out;
  out.reserve(cell.size());
  for (size_t i = 0; i < cell.size(); ++i) {
    const char c = cell[i];
    if (c == '|') {
      out += "\\|";
    } else if (c == '\r') {
      out += ' ';
      if (i + 1 < cell.size() && cell[i + 1] == '\n') ++i;
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

void AppendMarkdownRow(const std::vector<std::string>& cells,
                       const std::vector<size_t>& widths,
                       const std::vector<bool>& numeric, std::string* out) {
  *out += '|';
  for (size_t column = 0; column < widths.size(); ++column) {
    const std::string& cell = cells[column];
    const std::string padding(widths[column] - DisplayWidth(cell), ' ');
    *out += ' ';
    *out += numeric[column] ? padding + cell : cell + padding;
    *out += " |";
  }
  *out += '\n';
}

bool NeedsCsvQuotes(std::string_view field) {
  return field.find_first_of(",\"\r\n") != std::string_view::npos;
}

void AppendCsvLine(const std::vector<std::string>& fields, std::string* out) {
  if (fields.size() == 1 && fields[0].empty()) {
    *out += "\"\"\n";
    return;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) *out += ',';
    const std::string& field = fields[i];
    if (!NeedsCsvQuotes(field)) {
      *out += field;
      continue;
    }
    *out += '"';
    for (const char c : field) {
      if (c == '"') *out += '"';
      *out += c;
    }
    *out += '"';
  }
  *out += '\n';
}

std::string ToChars(double value, std::chars_format format, int precision) {
  std::array<char, 400> buffer{};
  const auto result = std::to_chars(
      buffer.data(), buffer.data() + buffer.size(), value, format, precision);
  return {buffer.data(), result.ptr};
}

// Drops trailing zeros after a decimal point, and the point itself if
// nothing follows it: "1.2500" -> "1.25", "3.000" -> "3".
std::string TrimFraction(std::string text) {
  if (text.find('.') == std::string::npos) return text;
  while (text.back() == '0') {
    text.pop_back();
  }
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

StatusOr<std::string> RenderMarkdownTable(
    const std::vector<std::string>& header,
    const std::vector<std::vector<std::string>>& rows) {
  if (header.empty()) {
    return Status::InvalidArgument(
        "a Markdown table needs at least one column");
  }
  const size_t num_columns = header.size();
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  cells.emplace_back();
  for (const std::string& cell : header) {
    cells.back().push_back(EscapeMarkdownCell(cell));
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() > num_columns) {
      return Status::InvalidArgument("Markdown table row " + std::to_string(r) +
                                     " has " + std::to_string(rows[r].size()) +
                                     " cells but the header has " +
                                     std::to_string(num_columns));
    }
    cells.emplace_back();
    for (const std::string& cell : rows[r]) {
      cells.back().push_back(EscapeMarkdownCell(cell));
    }
    cells.back().resize(num_columns);
  }

  std::vector<bool> numeric(num_columns, false);
  // Three dashes is the GFM minimum; a right-aligned column needs "---:".
  std::vector<size_t> widths(num_columns, 3);
  for (size_t column = 0; column < num_columns; ++column) {
    bool any_value = false;
    bool all_numbers = true;
    for (size_t r = 1; r < cells.size(); ++r) {
      const std::string& cell = cells[r][column];
      if (Trim(cell).empty()) continue;
      any_value = true;
      all_numbers = all_numbers && IsNumber(cell);
    }
    numeric[column] = any_value && all_numbers;
    if (numeric[column]) widths[column] = 4;
    for (const std::vector<std::string>& row : cells) {
      widths[column] = std::max(widths[column], DisplayWidth(row[column]));
    }
  }

  std::string out;
  AppendMarkdownRow(cells[0], widths, numeric, &out);
  out += '|';
  for (size_t column = 0; column < num_columns; ++column) {
    out += ' ';
    out += numeric[column] ? std::string(widths[column] - 1, '-') + ":"
                           : std::string(widths[column], '-');
    out += " |";
  }
  out += '\n';
  for (size_t r = 1; r < cells.size(); ++r) {
    AppendMarkdownRow(cells[r], widths, numeric, &out);
  }
  return out;
}

std::string RenderCsv(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  if (!header.empty()) AppendCsvLine(header, &out);
  for (const std::vector<std::string>& row : rows) {
    AppendCsvLine(row, &out);
  }
  return out;
}

std::string FormatNumber(double value, int significant) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0.0) return "0";
  significant = std::clamp(significant, 1, 17);
  // Round once, in scientific form, so the exponent seen below is the one
  // after rounding (999.96 -> "1.000e+03").
  const std::string scientific =
      ToChars(value, std::chars_format::scientific, significant - 1);
  const size_t e = scientific.find('e');
  const int exponent = std::stoi(scientific.substr(e + 1));
  if (exponent < -4 || exponent >= 9) {
    return TrimFraction(scientific.substr(0, e)) + scientific.substr(e);
  }
  double rounded = 0.0;
  static_cast<void>(std::from_chars(
      scientific.data(), scientific.data() + scientific.size(), rounded));
  const int decimals = std::max(0, significant - 1 - exponent);
  return TrimFraction(ToChars(rounded, std::chars_format::fixed, decimals));
}

}  // namespace anchorage::report
