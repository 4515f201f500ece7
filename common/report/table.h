// Text renderings of result tables for `anchorage compare`: GitHub-flavoured
// Markdown for people, RFC 4180 CSV for tools, and the number format both
// use.
//
// Thread-safety: free functions over their arguments; safe to call
// concurrently.
#pragma once

#include <string>
#include <vector>

#include "common/base/status.h"

namespace anchorage::report {

// Returns a GitHub-flavoured Markdown table: a header row, an alignment row
// and one line per row, each line ending "\n". Columns are padded to a common
// width so the raw text lines up too.
//
// A column is right-aligned ("---:") when it has at least one non-empty body
// cell and every non-empty body cell parses as a number; other columns are
// left-aligned ("---"). Besides ordinary decimal and exponent numbers, the
// strings FormatNumber() writes for non-finite values ("n/a", "inf", "-inf")
// count as numbers, so a column of results with a missing entry stays
// right-aligned.
//
// Cells are escaped: '|' becomes "\|" and each line break ("\n", "\r\n" or
// "\r") becomes a space. Rows shorter than `header` are padded with empty
// cells. Returns kInvalidArgument if `header` is empty or a row has more
// cells than `header`.
StatusOr<std::string> RenderMarkdownTable(
    const std::vector<std::string>& header,
    const std::vector<std::vector<std::string>>& rows);

// Returns RFC 4180 CSV: `header` (skipped when empty) and then `rows`, one
// line each, every line ending "\n". A field containing a comma, a double
// quote, CR or LF is enclosed in double quotes with its quotes doubled; a row
// consisting of a single empty field is written as "" so it is not read back
// as a blank line. Rows may have different lengths; they are written as
// given.
std::string RenderCsv(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows);

// Returns `value` rounded to `significant` significant digits (clamped to
// 1..17) with trailing zeros dropped: 0.5 -> "0.5", 1234.567 -> "1235",
// 12345678 -> "12350000", 0.000123456 -> "0.0001235". Values with
// 1e-4 <= |value| < 1e9 after rounding are written without an exponent;
// others use one ("1.5e+09", "2e-05"). Zero is "0", NaN is "n/a" and the
// infinities are "inf" and "-inf".
std::string FormatNumber(double value, int significant = 4);

}  // namespace anchorage::report
