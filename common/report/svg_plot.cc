#include "common/report/svg_plot.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/report/table.h"

namespace anchorage::report {
namespace {

// Okabe & Ito (2008), "Color Universal Design", without yellow, which is too
// faint on white for thin lines. Series past the seventh reuse a colour with
// a dash pattern.
constexpr std::array<const char*, 7> kPalette = {
    "#0072B2", "#D55E00", "#009E73", "#CC79A7",
    "#E69F00", "#56B4E9", "#000000"};
constexpr std::array<const char*, 3> kDashes = {"", "7 4", "2 3"};

constexpr const char* kTextColour = "#222222";
constexpr const char* kMutedColour = "#555555";
constexpr const char* kAxisColour = "#444444";
constexpr const char* kGridColour = "#e6e6e6";
constexpr const char* kMinorGridColour = "#f3f3f3";

constexpr double kTitleSize = 16.0;
constexpr double kLabelSize = 13.0;
constexpr double kTickSize = 11.0;
constexpr double kLegendSize = 12.0;
constexpr double kNoteSize = 10.0;
constexpr double kLegendRow = 20.0;
constexpr double kTickLength = 5.0;
constexpr double kPadding = 0.05;  // of the data range, on each side
// Values are clamped to this magnitude so range arithmetic stays finite.
constexpr double kMaxMagnitude = 1e300;

const char* Colour(size_t index) {
  return kPalette[index % kPalette.size()];
}
const char* Dash(size_t index) {
  return kDashes[(index / kPalette.size()) % kDashes.size()];
}

// Returns an estimate of the rendered width of `text`: an average advance of
// 0.6 em per code point fits DejaVu Sans and Helvetica-like fonts.
double TextWidth(std::string_view text, double font_size) {
  size_t code_points = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++code_points;
  }
  return 0.6 * font_size * static_cast<double>(code_points);
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 documents.
        out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
    }
  }
  return out;
}

// Formats a coordinate with two decimals at most, locale-independently.
std::string Num(double value) {
  std::array<char, 64> buffer{};
  const auto result =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                    std::chars_format::fixed, 2);
  std::string text(buffer.data(), result.ptr);
  while (text.back() == '0') {
    text.pop_back();
  }
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

struct TextStyle {
  double size = kTickSize;
  const char* anchor = "start";
  const char* fill = kTextColour;
  const char* cls = "";
  bool bold = false;
  double rotate = 0.0;  // degrees, about the anchor point
};

void AppendText(double x, double y, std::string_view text,
                const TextStyle& style, std::string* out) {
  *out += "<text class=\"" + std::string(style.cls) + "\" x=\"" + Num(x) +
          "\" y=\"" + Num(y) + "\" font-size=\"" + Num(style.size) +
          "\" text-anchor=\"" + style.anchor + "\" fill=\"" + style.fill + "\"";
  if (style.bold) *out += " font-weight=\"bold\"";
  if (style.rotate != 0.0) {
    *out += " transform=\"rotate(" + Num(style.rotate) + " " + Num(x) + " " +
            Num(y) + ")\"";
  }
  *out += ">" + Escape(text) + "</text>\n";
}

void AppendLine(double x1, double y1, double x2, double y2, const char* colour,
                double stroke_width, std::string_view dash, std::string* out) {
  *out += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" +
          Num(x2) + "\" y2=\"" + Num(y2) + "\" stroke=\"" + colour +
          "\" stroke-width=\"" + Num(stroke_width) + "\"";
  if (!dash.empty()) *out += " stroke-dasharray=\"" + std::string(dash) + "\"";
  *out += "/>\n";
}

// Appends a filled axis-aligned box. Paths rather than <rect>, so that every
// <rect> in a bar chart is a bar.
void AppendBox(double x, double y, double width, double height,
               const char* fill, const char* stroke, std::string* out) {
  *out += "<path d=\"M" + Num(x) + " " + Num(y) + "H" + Num(x + width) + "V" +
          Num(y + height) + "H" + Num(x) + "Z\" fill=\"" + fill + "\"";
  if (stroke != nullptr) *out += " stroke=\"" + std::string(stroke) + "\"";
  *out += "/>\n";
}

// ---------------------------------------------------------------------------
// Axes.

struct Axis {
  Scale scale = Scale::kLinear;
  double lo = 0.0;  // bounds in axis space: the value, or its log10
  double hi = 1.0;
  std::vector<double> ticks;  // labelled, in data space
  std::vector<std::string> labels;
  std::vector<double> minor_ticks;  // unlabelled, in data space

  // Returns where `value` falls between the bounds: 0 at lo, 1 at hi.
  double Fraction(double value) const {
    const double v = scale == Scale::kLog10 ? std::log10(value) : value;
    return (v - lo) / (hi - lo);
  }
};

bool Drawable(double value, Scale scale) {
  return std::isfinite(value) && (scale == Scale::kLinear || value > 0.0);
}

// The smallest and largest of the values added so far.
struct Extent {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  void Add(double value) {
    value = std::clamp(value, -kMaxMagnitude, kMaxMagnitude);
    min = std::min(min, value);
    max = std::max(max, value);
  }
  bool empty() const { return min > max; }
};

// Returns "12", "250k" or "1.5G": SI suffixes once the axis reaches 10^4,
// so byte counts stay short, but only where the step between ticks needs at
// most two decimals after the suffix (a narrow range far from zero keeps
// "35301.1586" rather than "35.3011586k"). FormatNumber's exponents are used
// for tiny values.
std::string FormatTick(double value, double axis_max_abs, double step) {
  const double magnitude = std::abs(value);
  if (axis_max_abs >= 1e4 && magnitude >= 1e3 && magnitude < 1e15) {
    static constexpr std::array<std::pair<double, const char*>, 4> kSuffixes = {
        {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}};
    for (const auto& [scale, suffix] : kSuffixes) {
      if (magnitude >= scale && step >= 0.01 * scale) {
        return FormatNumber(value / scale, 12) + suffix;
      }
    }
  }
  return FormatNumber(value, 12);
}

// Labels the ticks of `axis`; `step` is the distance between linear ticks,
// or 0 for a log axis, where each tick is its own step.
void LabelTicks(double step, Axis* axis) {
  double max_abs = 0.0;
  for (const double tick : axis->ticks) {
    max_abs = std::max(max_abs, std::abs(tick));
  }
  axis->labels.clear();
  for (const double tick : axis->ticks) {
    axis->labels.push_back(FormatTick(tick, max_abs, step > 0.0 ? step : tick));
  }
}

// Tick positions as multiples first..first+count-1 of step.
struct TickPlan {
  double step = 0.0;
  double first = 0.0;
  int count = 0;
};

// Picks a step of 1, 2 or 5 x 10^k and 4 to 8 ticks for [lo, hi]. A plan
// either keeps the range and ticks the multiples inside it, or widens the
// range outwards to the nearest multiples; it is scored by how much of the
// axis lies between labelled ticks (inside) or how little of the widened
// axis is new (widened), with about 6 ticks breaking ties. So 0.06..0.94
// becomes 0..1 in steps of 0.2 rather than 0.2..0.8 with unlabelled ends.
TickPlan PlanLinearTicks(double* lo, double* hi) {
  constexpr double kSlack = 1e-6;  // in steps; absorbs rounding at the ends
  const double span = *hi - *lo;
  const int top = static_cast<int>(std::floor(std::log10(span)));
  TickPlan best;
  double best_score = -1.0;
  const auto consider = [&](double step, double first, double last,
                            double score) {
    const double count = last - first + 1.0;
    if (count < 4.0 || count > 8.0) return;
    const bool better = score > best_score + 1e-9 ||
                        (score > best_score - 1e-9 &&
                         std::abs(count - 6.0) < std::abs(best.count - 6.0));
    if (!better) return;
    best_score = score;
    best = TickPlan{step, first, static_cast<int>(count)};
  };
  for (int k = top - 2; k <= top + 1; ++k) {
    for (const double mantissa : {1.0, 2.0, 5.0}) {
      const double step = mantissa * std::pow(10.0, k);
      const double first = std::ceil(*lo / step - kSlack);
      const double last = std::floor(*hi / step + kSlack);
      consider(step, first, last, (last - first) * step / span);
      const double outer_first = std::floor(*lo / step + kSlack);
      const double outer_last = std::ceil(*hi / step - kSlack);
      consider(step, outer_first, outer_last,
               span / ((outer_last - outer_first) * step));
    }
  }
  if (best.count > 0) {
    *lo = std::min(*lo, best.first * best.step);
    *hi = std::max(*hi, (best.first + best.count - 1) * best.step);
  }
  return best;
}

// Returns a linear axis over [min, max] padded by the given fractions of the
// range. Padding does not cross zero when the data does not.
Axis MakeLinearAxis(double min, double max, double pad_below,
                    double pad_above) {
  const bool non_negative = min >= 0.0;
  const bool non_positive = max <= 0.0 && !(min == 0.0 && max == 0.0);
  // A single value, or one too narrow for doubles to tick, gets a range
  // around it.
  const double magnitude = std::max(std::abs(min), std::abs(max));
  if (max - min <= 1e-9 * magnitude || max == min) {
    const double center = 0.5 * (min + max);
    const double half = center == 0.0 ? 1.0 : 0.1 * std::abs(center);
    min = center == 0.0 ? 0.0 : center - half;
    max = center + half;
  }
  const double span = max - min;
  Axis axis;
  axis.lo = min - pad_below * span;
  axis.hi = max + pad_above * span;
  if (non_negative) axis.lo = std::max(axis.lo, 0.0);
  if (non_positive) axis.hi = std::min(axis.hi, 0.0);
  const TickPlan plan = PlanLinearTicks(&axis.lo, &axis.hi);
  for (int i = 0; i < plan.count; ++i) {
    // An index times the step, not a running sum, so errors do not add up.
    axis.ticks.push_back((plan.first + i) * plan.step);
  }
  LabelTicks(plan.step, &axis);
  return axis;
}

// Returns a log10 axis over [min, max] (both positive) padded by the given
// fractions of its extent in decades. Ticks are powers of ten; a range that
// holds fewer than two is widened to the enclosing decades.
Axis MakeLogAxis(double min, double max, double pad_below, double pad_above) {
  double lo = std::log10(min);
  double hi = std::log10(max);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double span = hi - lo;
  lo -= pad_below * span;
  hi += pad_above * span;
  constexpr double kSlack = 1e-6;
  if (std::floor(hi + kSlack) - std::ceil(lo - kSlack) < 1.0) {
    lo = std::floor(lo);
    hi = std::ceil(hi);
  }
  Axis axis;
  axis.scale = Scale::kLog10;
  axis.lo = lo;
  axis.hi = hi;
  const int first = static_cast<int>(std::ceil(lo - kSlack));
  const int last = static_cast<int>(std::floor(hi + kSlack));
  const int stride = std::max(1, (last - first + 8) / 8);
  for (int k = first; k <= last; k += stride) {
    axis.ticks.push_back(std::pow(10.0, k));
  }
  if (stride == 1) {
    for (int k = first - 1; k <= last; ++k) {
      for (int m = 2; m <= 9; ++m) {
        const double v = k + std::log10(m);
        if (v > lo && v < hi) axis.minor_ticks.push_back(m * std::pow(10.0, k));
      }
    }
  }
  LabelTicks(0.0, &axis);
  return axis;
}

Axis MakeAxis(Scale scale, const Extent& extent, double pad_below,
              double pad_above) {
  return scale == Scale::kLog10
             ? MakeLogAxis(extent.min, extent.max, pad_below, pad_above)
             : MakeLinearAxis(extent.min, extent.max, pad_below, pad_above);
}

// ---------------------------------------------------------------------------
// Layout and the parts every chart shares.

// Pixel geometry of a chart. The plot area is [left, right] x [top, bottom].
struct Layout {
  double width = 0.0;
  double height = 0.0;
  double left = 0.0;
  double top = 0.0;
  double right = 0.0;
  double bottom = 0.0;
  // Legend: `columns` entries per row, the first entry's swatch starting at
  // (legend_x, legend_y) with y at the middle of the row.
  bool legend_right = true;
  int legend_columns = 1;
  double legend_column_width = 0.0;
  double legend_x = 0.0;
  double legend_y = 0.0;

  double X(const Axis& axis, double value) const {
    return left + axis.Fraction(value) * (right - left);
  }
  double Y(const Axis& axis, double value) const {
    return bottom - axis.Fraction(value) * (bottom - top);
  }
};

constexpr double kSwatchWidth = 22.0;
constexpr double kSwatchGap = 8.0;

// Places the title band and the legend, and the plot area's top, right and
// bottom edges; `below_axis` is the height needed under the plot area for
// tick and axis labels. A legend too wide for the right-hand side goes below
// the plot and makes the canvas taller. The left edge is set by
// FinishLayout().
Layout StartLayout(const PlotOptions& options,
                   const std::vector<std::string>& legend_labels,
                   double below_axis) {
  Layout layout;
  layout.width = std::max(options.width, 240);
  layout.height = std::max(options.height, 160);
  layout.top = options.title.empty() ? 20.0 : 46.0;
  // Keep a usable plot area even in tiny charts.
  layout.bottom = std::max(layout.height - 8.0 - below_axis, layout.top + 40.0);
  double entry_width = 0.0;
  for (const std::string& label : legend_labels) {
    entry_width = std::max(
        entry_width, kSwatchWidth + kSwatchGap + TextWidth(label, kLegendSize));
  }
  const auto count = static_cast<double>(legend_labels.size());
  layout.legend_right = entry_width <= 0.3 * layout.width &&
                        count * kLegendRow <= layout.bottom - layout.top;
  if (layout.legend_right) {
    layout.right = layout.width - entry_width - 44.0;
    layout.legend_x = layout.right + 28.0;
    layout.legend_y = layout.top + 8.0;
    return layout;
  }
  constexpr double kColumnGap = 20.0;
  layout.right = layout.width - 24.0;
  layout.legend_column_width = entry_width + kColumnGap;
  layout.legend_columns =
      std::max(1, static_cast<int>((layout.width - 16.0 + kColumnGap) /
                                   layout.legend_column_width));
  const double columns =
      std::min(count, static_cast<double>(layout.legend_columns));
  const double rows = std::ceil(count / layout.legend_columns);
  const double block = columns * layout.legend_column_width - kColumnGap;
  layout.legend_x = std::max(8.0, 0.5 * (layout.width - block));
  layout.legend_y = layout.height - 4.0 + 0.5 * kLegendRow;
  layout.height += rows * kLegendRow + 4.0;
  return layout;
}

// Sets the left edge from the widest y tick label and the y axis label.
void FinishLayout(const PlotOptions& options, const Axis& y_axis,
                  Layout* layout) {
  double widest = 0.0;
  for (const std::string& label : y_axis.labels) {
    widest = std::max(widest, TextWidth(label, kTickSize));
  }
  layout->left = 12.0 + (options.y_label.empty() ? 0.0 : 22.0) + widest +
                 kTickLength + 5.0;
  layout->right = std::max(layout->right, layout->left + 40.0);
}

std::string StartSvg(const PlotOptions& options, const Layout& layout) {
  const std::string width = Num(layout.width);
  const std::string height = Num(layout.height);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
         width + "\" height=\"" + height + "\" viewBox=\"0 0 " + width + " " +
         height + "\" font-family=\"sans-serif\">\n";
  out += "<title>" + Escape(options.title) + "</title>\n";
  AppendBox(0.0, 0.0, layout.width, layout.height, "#ffffff", nullptr, &out);
  if (!options.title.empty()) {
    // Shrink a long title rather than let it run off the canvas.
    const double size =
        std::min(kTitleSize, kTitleSize * (layout.width - 24.0) /
                                 TextWidth(options.title, kTitleSize));
    AppendText(0.5 * layout.width, 28.0, options.title,
               {.size = size, .anchor = "middle", .cls = "title", .bold = true},
               &out);
  }
  return out;
}

std::string RenderNoData(const PlotOptions& options) {
  const Layout layout = StartLayout(options, {}, 20.0);
  std::string out = StartSvg(options, layout);
  AppendBox(20.0, layout.top, layout.width - 40.0, layout.bottom - layout.top,
            "#fafafa", kGridColour, &out);
  AppendText(0.5 * layout.width, 0.5 * (layout.top + layout.bottom) + 5.0,
             "no data",
             {.size = kLabelSize,
              .anchor = "middle",
              .fill = kMutedColour,
              .cls = "no-data"},
             &out);
  out += "</svg>\n";
  return out;
}

void AppendHorizontalGrid(const Layout& layout, const Axis& y_axis,
                          std::string* out) {
  for (const double tick : y_axis.minor_ticks) {
    const double y = layout.Y(y_axis, tick);
    AppendLine(layout.left, y, layout.right, y, kMinorGridColour, 1.0, "", out);
  }
  for (const double tick : y_axis.ticks) {
    const double y = layout.Y(y_axis, tick);
    AppendLine(layout.left, y, layout.right, y, kGridColour, 1.0, "", out);
  }
}

void AppendVerticalGrid(const Layout& layout, const Axis& x_axis,
                        std::string* out) {
  for (const double tick : x_axis.minor_ticks) {
    const double x = layout.X(x_axis, tick);
    AppendLine(x, layout.top, x, layout.bottom, kMinorGridColour, 1.0, "", out);
  }
  for (const double tick : x_axis.ticks) {
    const double x = layout.X(x_axis, tick);
    AppendLine(x, layout.top, x, layout.bottom, kGridColour, 1.0, "", out);
  }
}

// Draws the y axis line, its ticks and labels, and the rotated y label.
void AppendYAxis(const PlotOptions& options, const Layout& layout,
                 const Axis& y_axis, std::string* out) {
  AppendLine(layout.left, layout.top, layout.left, layout.bottom, kAxisColour,
             1.0, "", out);
  for (size_t i = 0; i < y_axis.ticks.size(); ++i) {
    const double y = layout.Y(y_axis, y_axis.ticks[i]);
    AppendLine(layout.left - kTickLength, y, layout.left, y, kAxisColour, 1.0,
               "", out);
    AppendText(layout.left - kTickLength - 3.0, y + 0.35 * kTickSize,
               y_axis.labels[i],
               {.anchor = "end", .fill = kMutedColour, .cls = "y-tick"}, out);
  }
  if (!options.y_label.empty()) {
    const double x = 12.0 + kLabelSize;
    const double y = 0.5 * (layout.top + layout.bottom);
    AppendText(x, y, options.y_label,
               {.size = kLabelSize,
                .anchor = "middle",
                .cls = "y-label",
                .rotate = -90.0},
               out);
  }
}

// Draws the x axis line at the bottom of the plot area and, for a line plot,
// its ticks and labels; labels that would collide are thinned to every
// second (or third...) tick.
void AppendXAxis(const Layout& layout, const Axis* x_axis, std::string* out) {
  AppendLine(layout.left, layout.bottom, layout.right, layout.bottom,
             kAxisColour, 1.0, "", out);
  if (x_axis == nullptr || x_axis->ticks.empty()) return;
  double widest = 0.0;
  for (const std::string& label : x_axis->labels) {
    widest = std::max(widest, TextWidth(label, kTickSize));
  }
  size_t every = 1;
  if (x_axis->ticks.size() > 1) {
    const double spacing = std::abs(layout.X(*x_axis, x_axis->ticks[1]) -
                                    layout.X(*x_axis, x_axis->ticks[0]));
    while (every < x_axis->ticks.size() &&
           spacing * static_cast<double>(every) < widest + 10.0) {
      ++every;
    }
  }
  for (size_t i = 0; i < x_axis->ticks.size(); ++i) {
    const double x = layout.X(*x_axis, x_axis->ticks[i]);
    AppendLine(x, layout.bottom, x, layout.bottom + kTickLength, kAxisColour,
               1.0, "", out);
    if (i % every != 0) continue;
    AppendText(
        x, layout.bottom + kTickLength + kTickSize + 2.0, x_axis->labels[i],
        {.anchor = "middle", .fill = kMutedColour, .cls = "x-tick"}, out);
  }
}

void AppendXLabel(const PlotOptions& options, const Layout& layout,
                  double baseline, std::string* out) {
  if (options.x_label.empty()) return;
  AppendText(0.5 * (layout.left + layout.right), baseline, options.x_label,
             {.size = kLabelSize, .anchor = "middle", .cls = "x-label"}, out);
}

// Draws the dashed reference line across the plot area and its label at the
// left end, above the line unless that would leave the plot area.
void AppendReference(const PlotOptions& options, const Layout& layout,
                     const Axis& y_axis, std::string* out) {
  if (!options.reference_y || !Drawable(*options.reference_y, y_axis.scale)) {
    return;
  }
  const double y = layout.Y(y_axis, *options.reference_y);
  AppendLine(layout.left, y, layout.right, y, kMutedColour, 1.5, "6 4", out);
  if (options.reference_label.empty()) return;
  const double baseline = y - layout.top < 18.0 ? y + 14.0 : y - 6.0;
  AppendText(layout.left + 6.0, baseline, options.reference_label,
             {.fill = kMutedColour, .cls = "reference"}, out);
}

// Returns the swatch position of legend entry `index`, y at its middle.
std::pair<double, double> LegendSlot(const Layout& layout, size_t index) {
  if (layout.legend_right) {
    return {layout.legend_x,
            layout.legend_y + static_cast<double>(index) * kLegendRow};
  }
  const auto columns = static_cast<size_t>(layout.legend_columns);
  const size_t row = index / columns;
  return {layout.legend_x +
              static_cast<double>(index % columns) * layout.legend_column_width,
          layout.legend_y + static_cast<double>(row) * kLegendRow};
}

void AppendLegendLabel(double x, double y, std::string_view label,
                       std::string* out) {
  AppendText(x + kSwatchWidth + kSwatchGap, y + 0.35 * kLegendSize, label,
             {.size = kLegendSize, .cls = "legend"}, out);
}

// ---------------------------------------------------------------------------
// Line plot.

using Points = std::vector<std::pair<double, double>>;

// Markers shrink as points crowd; dense ones lose their white outline,
// which would otherwise chop the line into dots.
double MarkerRadius(size_t points) {
  if (points <= 40) return 3.5;
  if (points <= 100) return 2.5;
  return 1.6;
}

// Series past the first round of colours get hollow markers as well as
// dashes, which tells them apart where dense markers hide the dashes.
void AppendMarker(double x, double y, double radius, size_t index,
                  std::string* out) {
  const bool hollow = index >= kPalette.size();
  *out += "<circle cx=\"" + Num(x) + "\" cy=\"" + Num(y) + "\" r=\"" +
          Num(radius) + "\" fill=\"" + (hollow ? "#ffffff" : Colour(index)) +
          "\"";
  if (hollow) {
    *out +=
        " stroke=\"" + std::string(Colour(index)) + "\" stroke-width=\"1.25\"";
  } else if (radius > 2.0) {
    *out += " stroke=\"#ffffff\" stroke-width=\"1\"";
  }
  *out += "/>\n";
}

void AppendSeries(const Layout& layout, const Axis& x_axis, const Axis& y_axis,
                  const Points& points, size_t index, std::string* out) {
  if (points.empty()) return;
  const char* colour = Colour(index);
  *out += "<polyline class=\"series\" fill=\"none\" stroke=\"" +
          std::string(colour) +
          "\" stroke-width=\"2\" stroke-linejoin=\"round\" "
          "stroke-linecap=\"round\"";
  if (*Dash(index) != '\0') {
    *out += " stroke-dasharray=\"" + std::string(Dash(index)) + "\"";
  }
  *out += " points=\"";
  for (size_t i = 0; i < points.size(); ++i) {
    if (i > 0) *out += ' ';
    *out += Num(layout.X(x_axis, points[i].first)) + "," +
            Num(layout.Y(y_axis, points[i].second));
  }
  *out += "\"/>\n";
  const double radius = MarkerRadius(points.size());
  for (const auto& [x, y] : points) {
    AppendMarker(layout.X(x_axis, x), layout.Y(y_axis, y), radius, index, out);
  }
}

// Returns the drawable points of each series, in order.
std::vector<Points> DrawablePoints(const PlotOptions& options,
                                   const std::vector<Series>& series) {
  std::vector<Points> all;
  for (const Series& s : series) {
    Points& points = all.emplace_back();
    const size_t n = std::min(s.x.size(), s.y.size());
    for (size_t i = 0; i < n; ++i) {
      if (Drawable(s.x[i], options.x_scale) &&
          Drawable(s.y[i], options.y_scale)) {
        points.emplace_back(std::clamp(s.x[i], -kMaxMagnitude, kMaxMagnitude),
                            std::clamp(s.y[i], -kMaxMagnitude, kMaxMagnitude));
      }
    }
  }
  return all;
}

// ---------------------------------------------------------------------------
// Bar chart.

struct BarGeometry {
  double group_width = 0.0;
  double bar_width = 0.0;
  // Each group's label, wrapped at spaces to fit under its group, or whole
  // and rotated when some label cannot be wrapped into three lines.
  std::vector<std::vector<std::string>> label_lines;
  bool rotate_labels = false;
  double label_height = 0.0;  // below the tick marks
  // The values and "n/a"s written over the bars run upwards, all of them,
  // when one is too wide for its bar.
  bool rotate_notes = false;
  double note_height = 0.0;  // above a bar
};

constexpr double kGroupLabelLine = kTickSize + 3.0;

// Returns `label` split at spaces into lines no wider than `width`, or
// nothing if a word is wider or more than `max_lines` lines are needed.
std::vector<std::string> WrapLabel(const std::string& label, double width,
                                   size_t max_lines) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= label.size()) {
    size_t end = label.find(' ', start);
    if (end == std::string::npos) end = label.size();
    const std::string word = label.substr(start, end - start);
    if (!lines.empty() &&
        TextWidth(lines.back() + " " + word, kTickSize) <= width) {
      lines.back() += " " + word;
    } else if (TextWidth(word, kTickSize) <= width) {
      lines.push_back(word);
    } else {
      return {};
    }
    start = end + 1;
  }
  if (lines.size() > max_lines) return {};
  return lines;
}

BarGeometry PlanBars(double plot_width, size_t num_series,
                     const std::vector<BarGroup>& groups) {
  BarGeometry geometry;
  geometry.group_width = plot_width / static_cast<double>(groups.size());
  geometry.bar_width =
      0.8 * geometry.group_width / static_cast<double>(num_series);
  size_t max_lines = 1;
  double widest = 0.0;
  for (const BarGroup& group : groups) {
    widest = std::max(widest, TextWidth(group.label, kTickSize));
    geometry.label_lines.push_back(
        WrapLabel(group.label, geometry.group_width - 6.0, 3));
    if (geometry.label_lines.back().empty() && !group.label.empty()) {
      geometry.rotate_labels = true;
    }
    max_lines = std::max(max_lines, geometry.label_lines.back().size());
  }
  if (geometry.rotate_labels) {
    // A label rotated by 30 degrees drops by half its length.
    geometry.label_height = 0.5 * widest + kTickSize + 4.0;
    for (size_t g = 0; g < groups.size(); ++g) {
      geometry.label_lines[g] = {groups[g].label};
    }
  } else {
    geometry.label_height =
        static_cast<double>(max_lines) * kGroupLabelLine + 2.0;
  }
  double widest_note = 0.0;
  for (const BarGroup& group : groups) {
    for (size_t s = 0; s < num_series; ++s) {
      const double value = s < group.values.size() ? group.values[s] : 0.0;
      widest_note =
          std::max(widest_note, TextWidth(FormatNumber(value, 3), kNoteSize));
    }
  }
  geometry.rotate_notes = widest_note + 2.0 > geometry.bar_width;
  geometry.note_height =
      geometry.rotate_notes ? widest_note + 6.0 : kNoteSize + 6.0;
  return geometry;
}

// Writes `text` centred over a bar slot at `x`, its foot at `y`, running
// upwards if `rotate`.
void AppendSlotNote(double x, double y, bool rotate, std::string_view text,
                    const char* cls, std::string* out) {
  AppendText(rotate ? x + 0.35 * kNoteSize : x, y, text,
             {.size = kNoteSize,
              .anchor = rotate ? "start" : "middle",
              .fill = kMutedColour,
              .cls = cls,
              .rotate = rotate ? -90.0 : 0.0},
             out);
}

void AppendBars(const Layout& layout, const Axis& y_axis,
                const BarGeometry& geometry, size_t num_series,
                const std::vector<BarGroup>& groups, std::string* out) {
  const bool log_scale = y_axis.scale == Scale::kLog10;
  const double base = log_scale ? layout.bottom : layout.Y(y_axis, 0.0);
  const double gap = geometry.bar_width > 6.0 ? 1.5 : 0.0;
  for (size_t g = 0; g < groups.size(); ++g) {
    const double group_x = layout.left +
                           static_cast<double>(g) * geometry.group_width +
                           0.1 * geometry.group_width;
    for (size_t s = 0; s < num_series; ++s) {
      const double x =
          group_x + static_cast<double>(s) * geometry.bar_width + 0.5 * gap;
      const double width = geometry.bar_width - gap;
      const double center = x + 0.5 * width;
      const double value = s < groups[g].values.size()
                               ? groups[g].values[s]
                               : std::numeric_limits<double>::quiet_NaN();
      if (!Drawable(value, y_axis.scale)) {
        AppendSlotNote(center, base - 4.0, geometry.rotate_notes, "n/a",
                       "missing", out);
        continue;
      }
      const double top = layout.Y(y_axis, value);
      *out += "<rect class=\"bar\" x=\"" + Num(x) + "\" y=\"" +
              Num(std::min(top, base)) + "\" width=\"" + Num(width) +
              "\" height=\"" + Num(std::abs(base - top)) + "\" fill=\"" +
              Colour(s) + "\"/>\n";
      const double foot = top <= base ? top - 4.0 : top + 4.0 + kNoteSize;
      AppendSlotNote(center, foot, geometry.rotate_notes,
                     FormatNumber(value, 3), "value", out);
    }
  }
}

// Returns the y axis of a bar chart: over the drawable values and the
// reference line, from zero on a linear scale, with `note_fraction` of the
// plot height to spare past the longest bars for their value notes.
Axis MakeBarAxis(const PlotOptions& options, size_t num_series,
                 const std::vector<BarGroup>& groups, double note_fraction) {
  Extent extent;
  for (const BarGroup& group : groups) {
    for (size_t s = 0; s < std::min(num_series, group.values.size()); ++s) {
      if (Drawable(group.values[s], options.y_scale)) {
        extent.Add(group.values[s]);
      }
    }
  }
  if (options.reference_y && Drawable(*options.reference_y, options.y_scale)) {
    extent.Add(*options.reference_y);
  }
  if (extent.empty()) extent.Add(1.0);  // all missing: still draw the slots
  if (options.y_scale == Scale::kLog10) {
    return MakeLogAxis(extent.min, extent.max, kPadding,
                       kPadding + note_fraction);
  }
  extent.Add(0.0);
  return MakeLinearAxis(extent.min, extent.max,
                        extent.min < 0.0 ? kPadding + note_fraction : 0.0,
                        extent.max > 0.0 ? kPadding + note_fraction : kPadding);
}

void AppendGroupLabels(const Layout& layout, const BarGeometry& geometry,
                       std::string* out) {
  const TextStyle style = {.anchor = geometry.rotate_labels ? "end" : "middle",
                           .cls = "x-tick",
                           .rotate = geometry.rotate_labels ? -30.0 : 0.0};
  for (size_t g = 0; g < geometry.label_lines.size(); ++g) {
    const double x =
        layout.left + (static_cast<double>(g) + 0.5) * geometry.group_width;
    double y = layout.bottom + kTickLength + kTickSize + 2.0;
    for (const std::string& line : geometry.label_lines[g]) {
      AppendText(x, y, line, style, out);
      y += kGroupLabelLine;
    }
  }
}

}  // namespace

std::string RenderSvgLinePlot(const PlotOptions& options,
                              const std::vector<Series>& series) {
  const std::vector<Points> points = DrawablePoints(options, series);
  Extent x_extent;
  Extent y_extent;
  for (const Points& p : points) {
    for (const auto& [x, y] : p) {
      x_extent.Add(x);
      y_extent.Add(y);
    }
  }
  if (x_extent.empty()) return RenderNoData(options);
  if (options.reference_y && Drawable(*options.reference_y, options.y_scale)) {
    y_extent.Add(*options.reference_y);
  }

  std::vector<std::string> labels;
  labels.reserve(series.size());
  for (const Series& s : series) {
    labels.push_back(s.label);
  }
  const double below_axis =
      kTickLength + kTickSize + 8.0 + (options.x_label.empty() ? 0.0 : 22.0);
  Layout layout = StartLayout(options, labels, below_axis);
  const Axis x_axis = MakeAxis(options.x_scale, x_extent, kPadding, kPadding);
  const Axis y_axis = MakeAxis(options.y_scale, y_extent, kPadding, kPadding);
  FinishLayout(options, y_axis, &layout);

  std::string out = StartSvg(options, layout);
  AppendVerticalGrid(layout, x_axis, &out);
  AppendHorizontalGrid(layout, y_axis, &out);
  AppendReference(options, layout, y_axis, &out);
  // Axes before the series, so markers on the edge of the range (the common
  // x = 0) sit on top of the axis line.
  AppendYAxis(options, layout, y_axis, &out);
  AppendXAxis(layout, &x_axis, &out);
  for (size_t i = 0; i < points.size(); ++i) {
    AppendSeries(layout, x_axis, y_axis, points[i], i, &out);
  }
  AppendXLabel(options, layout, layout.bottom + below_axis - 6.0, &out);
  for (size_t i = 0; i < series.size(); ++i) {
    const auto [x, y] = LegendSlot(layout, i);
    AppendLine(x, y, x + kSwatchWidth, y, Colour(i), 2.0, Dash(i), &out);
    AppendMarker(x + 0.5 * kSwatchWidth, y, 3.5, i, &out);
    AppendLegendLabel(x, y, series[i].label, &out);
  }
  out += "</svg>\n";
  return out;
}

std::string RenderSvgBarChart(const PlotOptions& options,
                              const std::vector<std::string>& series_labels,
                              const std::vector<BarGroup>& groups) {
  if (groups.empty() || series_labels.empty()) return RenderNoData(options);
  const size_t num_series = series_labels.size();

  // Group labels may need rotating, which changes the space below the plot,
  // which changes the y axis and so the left edge: plan the bars on a
  // conservative width estimate first.
  const Layout estimate = StartLayout(options, series_labels, 60.0);
  const BarGeometry provisional =
      PlanBars(estimate.right - 110.0 - (options.y_label.empty() ? 0.0 : 22.0),
               num_series, groups);
  const double below_axis = kTickLength + provisional.label_height + 4.0 +
                            (options.x_label.empty() ? 0.0 : 22.0);
  Layout layout = StartLayout(options, series_labels, below_axis);

  const Axis y_axis = MakeBarAxis(
      options, num_series, groups,
      provisional.note_height / std::max(1.0, layout.bottom - layout.top));
  FinishLayout(options, y_axis, &layout);
  // Bar widths from the final plot area; label and note placement as the
  // space above and below was reserved for.
  BarGeometry geometry = provisional;
  const BarGeometry final_widths =
      PlanBars(layout.right - layout.left, num_series, groups);
  geometry.group_width = final_widths.group_width;
  geometry.bar_width = final_widths.bar_width;

  std::string out = StartSvg(options, layout);
  AppendHorizontalGrid(layout, y_axis, &out);
  AppendBars(layout, y_axis, geometry, num_series, groups, &out);
  if (y_axis.scale == Scale::kLinear && y_axis.lo < 0.0) {
    const double zero = layout.Y(y_axis, 0.0);
    AppendLine(layout.left, zero, layout.right, zero, kAxisColour, 1.0, "",
               &out);
  }
  AppendReference(options, layout, y_axis, &out);
  AppendYAxis(options, layout, y_axis, &out);
  AppendXAxis(layout, nullptr, &out);
  AppendGroupLabels(layout, geometry, &out);
  AppendXLabel(options, layout, layout.bottom + below_axis - 6.0, &out);
  for (size_t i = 0; i < num_series; ++i) {
    const auto [x, y] = LegendSlot(layout, i);
    AppendBox(x + 4.0, y - 7.0, 14.0, 14.0, Colour(i), nullptr, &out);
    AppendLegendLabel(x, y, series_labels[i], &out);
  }
  out += "</svg>\n";
  return out;
}

}  // namespace anchorage::report
