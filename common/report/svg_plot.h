// Self-contained SVG charts for `anchorage compare` and the README: line
// plots of training traces (accuracy or loss against time or bytes sent) and
// grouped bar charts of summary results (time to a target accuracy per
// algorithm and setting).
//
// The output is a standalone SVG 1.1 document: an XML declaration, then one
// <svg> element with a white background, no scripts, no external fonts or
// CSS, and all text in font-family="sans-serif". Colours come from the
// Okabe-Ito colour-blind-safe palette without its yellow: series i gets
// colour i mod 7; in line plots series 7 and later repeat the colours with
// dashed lines and hollow markers so every series stays distinguishable.
// Legends sit outside the plot area: on the right when the labels are short,
// otherwise below the plot, where they make the canvas taller. Text elements
// carry class attributes ("title", "x-tick", "y-tick", "legend", "no-data",
// ...) that have no styling effect but let tools and tests find them.
//
// Thread-safety: free functions over their arguments; safe to call
// concurrently.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace anchorage::report {

// One line of a line plot.
struct Series {
  std::string label;      // legend text
  std::vector<double> x;  // same length as y; non-finite points are skipped
  std::vector<double> y;
};

enum class Scale { kLinear, kLog10 };

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  Scale x_scale = Scale::kLinear;
  Scale y_scale = Scale::kLinear;
  // Optional horizontal reference line (e.g. a target accuracy), drawn dashed
  // with its label.
  std::optional<double> reference_y;
  std::string reference_label;
  // Canvas size in pixels; values below 240 x 160 are raised to that. A
  // legend placed below the plot adds its rows to the height.
  int width = 720;
  int height = 420;
};

// Returns an SVG line plot of `series`: one <polyline> per series that has at
// least one drawable point, a small circle marker at each point, and a legend
// entry for every series (in order, even if it has no drawable points).
//
// A point is drawable when both coordinates are finite and, on a kLog10 axis,
// positive; other points are skipped and the line joins their neighbours.
// When x and y differ in length the extra values are ignored.
//
// Each axis range covers the drawable points (and `reference_y` for y),
// padded by about 5% on each side and, where that labels the axis better,
// widened to the next ticks (0.06..0.94 becomes 0..1); padding never takes a
// linear axis below zero when the data is non-negative. Linear axes have 4
// to 8 ticks at multiples of 1, 2 or 5 x 10^k; log axes have ticks at powers
// of ten (at least two, every n-th decade for wide ranges) plus unlabelled
// minor ticks. Tick labels use SI suffixes (k, M, G, T) when the axis reaches
// 10^4
// ("250k", "1.5G") and exponents below 10^-4 ("2e-05").
//
// With no series or no drawable points, returns a valid SVG with the title
// and a "no data" note. All text is XML-escaped; control characters become
// spaces.
std::string RenderSvgLinePlot(const PlotOptions& options,
                              const std::vector<Series>& series);

// One cluster of a grouped bar chart: `values[i]` belongs to series i.
struct BarGroup {
  std::string label;
  std::vector<double> values;  // one value per series; NaN = missing
};

// Returns an SVG grouped bar chart: one cluster per group along the x axis,
// one bar per series inside each cluster (coloured as in the line plot), the
// value written past the end of each bar (3 significant digits), and a
// legend of `series_labels`. Group labels wrap at spaces, or are rotated when
// they cannot wrap into three lines.
//
// Bars start at zero on a linear y axis (which always includes zero) and at
// the bottom of the axis on a kLog10 one. A value that is non-finite,
// missing (the group has fewer values than there are series) or, on a log
// axis, not positive draws no bar; "n/a" is written above its slot instead.
// Values beyond the number of series are ignored, as is `x_scale`;
// `reference_y` draws a dashed line with its label as in the line plot.
//
// With no groups or no series labels, returns a valid SVG with the title and
// a "no data" note. All text is XML-escaped.
std::string RenderSvgBarChart(const PlotOptions& options,
                              const std::vector<std::string>& series_labels,
                              const std::vector<BarGroup>& groups);

}  // namespace anchorage::report
