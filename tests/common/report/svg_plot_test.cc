#include "common/report/svg_plot.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace anchorage::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Finds the '>' that ends the tag opening at `begin`, skipping quoted
// attribute values; returns "" and sets *end, or the problem.
std::string FindTagEnd(const std::string& svg, size_t begin, size_t* end) {
  char quote = 0;
  for (size_t at = begin + 1; at < svg.size(); ++at) {
    const char c = svg[at];
    if (quote != 0) {
      if (c == '<') return "'<' inside an attribute value";
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      *end = at;
      return "";
    } else if (c == '<') {
      return "'<' inside a tag at offset " + std::to_string(at);
    }
  }
  return "unterminated tag";
}

// Checks one character outside tags: '&' must start one of the five
// predefined entities and only blanks may stand outside the root.
std::string CheckText(const std::string& svg, size_t at, bool in_root) {
  static const std::regex kEntity("^&(amp|lt|gt|quot|apos);");
  const char c = svg[at];
  if (c == '&' && !std::regex_search(svg.substr(at, 7), kEntity)) {
    return "bare '&' at offset " + std::to_string(at);
  }
  if (c == '>') return "stray '>' at offset " + std::to_string(at);
  if (!in_root && c != '\n' && c != ' ') {
    return "text outside the root at offset " + std::to_string(at);
  }
  return "";
}

// The element stack of a document being checked.
struct Elements {
  std::vector<std::string> open;
  int roots = 0;

  // Applies tag `tag` (the text between '<' and '>'); "" or the problem.
  std::string Take(const std::string& tag) {
    const bool closing = tag.front() == '/';
    const bool self_closing = tag.back() == '/';
    const std::string name = tag.substr(
        closing ? 1 : 0, tag.find_first_of(" \n/", 1) - (closing ? 1 : 0));
    if (closing) {
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes " +
               (open.empty() ? std::string("nothing") : "<" + open.back());
      }
      open.pop_back();
      return "";
    }
    if (open.empty() && ++roots > 1) return "more than one root element";
    if (!self_closing) open.push_back(name);
    return "";
  }
};

// Returns "" if `svg` is a well-formed XML document with a single root
// element, every start tag closed in order or self-closed and every '&'
// starting one of the five predefined entities; otherwise a description of
// the first problem.
std::string CheckWellFormed(const std::string& svg) {
  Elements elements;
  size_t i = 0;
  while (i < svg.size()) {
    if (svg[i] != '<') {
      std::string problem = CheckText(svg, i, !elements.open.empty());
      if (!problem.empty()) return problem;
      ++i;
      continue;
    }
    if (svg.compare(i, 2, "<?") == 0) {
      const size_t end = svg.find("?>", i);
      if (end == std::string::npos || i != 0) return "bad XML declaration";
      i = end + 2;
      continue;
    }
    size_t end = 0;
    std::string problem = FindTagEnd(svg, i, &end);
    if (problem.empty()) {
      problem = elements.Take(svg.substr(i + 1, end - i - 1));
    }
    if (!problem.empty()) return problem;
    i = end + 1;
  }
  if (!elements.open.empty()) {
    return "<" + elements.open.back() + "> never closed";
  }
  if (elements.roots != 1) return "no root element";
  return "";
}

// Runs xmllint over `svg` when it is installed; the check above is the one
// the test relies on.
void ExpectXmllintAccepts(const std::string& svg) {
  if (!std::filesystem::exists("/usr/bin/xmllint")) return;
  const std::filesystem::path path =
      std::filesystem::path(::testing::TempDir()) /
      ("report_" + std::to_string(::getpid()) + ".svg");
  std::ofstream(path) << svg;
  const std::string command =
      "/usr/bin/xmllint --noout '" + path.string() + "' 2>/dev/null";
  // The test's only thread runs it.
  EXPECT_EQ(std::system(command.c_str()), 0)  // NOLINT(concurrency-mt-unsafe)
      << svg;
  std::filesystem::remove(path);
}

void ExpectValidSvg(const std::string& svg) {
  const size_t start = svg.compare(0, 5, "<?xml") == 0 ? svg.find("?>") + 2 : 0;
  EXPECT_EQ(svg.compare(svg.find_first_not_of("\n ", start), 4, "<svg"), 0)
      << svg.substr(0, 120);
  EXPECT_EQ(CheckWellFormed(svg), "") << svg;
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find("font-family=\"sans-serif\""), std::string::npos);
  ExpectXmllintAccepts(svg);
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Returns the points of each <polyline>, in document order.
std::vector<std::vector<std::pair<double, double>>> Polylines(
    const std::string& svg) {
  static const std::regex kPolyline("<polyline[^>]* points=\"([^\"]*)\"");
  std::vector<std::vector<std::pair<double, double>>> lines;
  for (std::sregex_iterator it(svg.begin(), svg.end(), kPolyline), end;
       it != end; ++it) {
    std::vector<std::pair<double, double>>& points = lines.emplace_back();
    std::istringstream in((*it)[1].str());
    std::string pair;
    while (in >> pair) {
      const size_t comma = pair.find(',');
      points.emplace_back(std::stod(pair.substr(0, comma)),
                          std::stod(pair.substr(comma + 1)));
    }
  }
  return lines;
}

// Returns the text of every <text> element with class `cls`.
std::vector<std::string> Texts(const std::string& svg, const std::string& cls) {
  const std::regex text("<text class=\"" + cls + "\"[^>]*>([^<]*)</text>");
  std::vector<std::string> texts;
  for (std::sregex_iterator it(svg.begin(), svg.end(), text), end; it != end;
       ++it) {
    texts.push_back((*it)[1].str());
  }
  return texts;
}

// Reads a tick label such as "0.25", "2e-05", "250k" or "1.5G".
double ParseTick(const std::string& label) {
  size_t used = 0;
  const double value = std::stod(label, &used);
  const std::string suffix = label.substr(used);
  if (suffix.empty()) return value;
  if (suffix == "k") return value * 1e3;
  if (suffix == "M") return value * 1e6;
  if (suffix == "G") return value * 1e9;
  if (suffix == "T") return value * 1e12;
  ADD_FAILURE() << "unexpected tick label " << label;
  return kNaN;
}

std::vector<double> Ticks(const std::string& svg, const std::string& cls) {
  std::vector<double> ticks;
  for (const std::string& label : Texts(svg, cls)) {
    ticks.push_back(ParseTick(label));
  }
  return ticks;
}

// Expects 4 to 8 ticks, evenly spaced by 1, 2 or 5 x 10^k, each a multiple
// of the step, spanning [min, max] to within one step at either end.
void ExpectNiceTicks(const std::vector<double>& ticks, double min, double max) {
  ASSERT_GE(ticks.size(), 4u);
  ASSERT_LE(ticks.size(), 8u);
  // The step as read from the labels, then snapped to the 1, 2 or 5 x 10^k
  // it must be close to.
  const double raw_step = ticks[1] - ticks[0];
  ASSERT_GT(raw_step, 0.0);
  const double power = std::pow(10.0, std::floor(std::log10(raw_step) + 1e-3));
  const double mantissa = raw_step / power;
  EXPECT_TRUE(std::abs(mantissa - 1.0) < 1e-3 ||
              std::abs(mantissa - 2.0) < 1e-3 ||
              std::abs(mantissa - 5.0) < 1e-3)
      << "step " << raw_step;
  const double step = std::round(mantissa) * power;
  for (size_t i = 0; i < ticks.size(); ++i) {
    // Labels carry 12 significant digits, so allow for that much rounding
    // of ticks far from zero.
    const double tolerance = 1e-6 * step + 1e-11 * std::abs(ticks[i]);
    EXPECT_NEAR(ticks[i], ticks[0] + static_cast<double>(i) * step, tolerance);
    EXPECT_NEAR(ticks[i], std::round(ticks[i] / step) * step, tolerance);
  }
  EXPECT_LE(ticks.front(), min + step);
  EXPECT_GE(ticks.back(), max - step);
}

Series MakeSeries(std::string label, std::vector<double> x,
                  std::vector<double> y) {
  return Series{std::move(label), std::move(x), std::move(y)};
}

PlotOptions AccuracyOptions() {
  PlotOptions options;
  options.title = "Test accuracy";
  options.x_label = "wall time (s)";
  options.y_label = "accuracy";
  return options;
}

TEST(SvgLinePlotTest, RendersWellFormedSvg) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(), {MakeSeries("sync", {0, 10, 20}, {0.1, 0.5, 0.8}),
                          MakeSeries("local", {0, 5, 9}, {0.1, 0.6, 0.85})});

  ExpectValidSvg(svg);
  EXPECT_NE(svg.find(">Test accuracy</text>"), std::string::npos);
  EXPECT_NE(svg.find(">wall time (s)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">accuracy</text>"), std::string::npos);
}

TEST(SvgLinePlotTest, DrawsOnePolylinePerSeriesWithEveryPoint) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(), {MakeSeries("a", {0, 1, 2}, {1, 2, 3}),
                          MakeSeries("b", {0, 1, 2, 3, 4}, {3, 2, 1, 2, 3}),
                          MakeSeries("c", {5}, {5})});

  const auto lines = Polylines(svg);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].size(), 3u);
  EXPECT_EQ(lines[1].size(), 5u);
  EXPECT_EQ(lines[2].size(), 1u);
  // A marker per point, plus one per legend entry.
  EXPECT_EQ(Count(svg, "<circle"), 3u + 5u + 1u + 3u);
}

TEST(SvgLinePlotTest, GivesEachSeriesADistinctColour) {
  std::vector<Series> series;
  for (int i = 0; i < 7; ++i) {
    const auto level = static_cast<double>(i);
    series.push_back(
        MakeSeries("s" + std::to_string(i), {0, 1}, {level, level + 1}));
  }
  const std::string svg = RenderSvgLinePlot(AccuracyOptions(), series);

  static const std::regex kStroke("<polyline[^>]* stroke=\"(#[0-9A-Fa-f]+)\"");
  std::vector<std::string> colours;
  for (std::sregex_iterator it(svg.begin(), svg.end(), kStroke), end; it != end;
       ++it) {
    colours.push_back((*it)[1].str());
  }
  ASSERT_EQ(colours.size(), 7u);
  std::sort(colours.begin(), colours.end());
  EXPECT_EQ(std::unique(colours.begin(), colours.end()), colours.end());
}

TEST(SvgLinePlotTest, ListsEveryLabelInTheLegend) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(), {MakeSeries("Sync SGD", {0, 1}, {0, 1}),
                          MakeSeries("Overlap Local SGD", {0, 1}, {1, 0}),
                          MakeSeries("all missing", {0}, {kNaN})});

  EXPECT_EQ(Texts(svg, "legend"),
            (std::vector<std::string>{"Sync SGD", "Overlap Local SGD",
                                      "all missing"}));
  EXPECT_EQ(Polylines(svg).size(), 2u);
}

TEST(SvgLinePlotTest, PlacesALongLegendBelowThePlotAndGrowsTheCanvas) {
  PlotOptions options = AccuracyOptions();
  const std::string long_label(80, 'x');
  const std::string svg = RenderSvgLinePlot(
      options, {MakeSeries(long_label, {0, 1, 2}, {0, 1, 2})});

  ExpectValidSvg(svg);
  static const std::regex kHeight("<svg[^>]* height=\"([0-9.]+)\"");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(svg, match, kHeight));
  EXPECT_GT(std::stod(match[1].str()), options.height);
  static const std::regex kLegendY(
      "<text class=\"legend\" x=\"[0-9.]+\" y=\"([0-9.]+)\"");
  ASSERT_TRUE(std::regex_search(svg, match, kLegendY));
  EXPECT_GT(std::stod(match[1].str()), options.height);
  EXPECT_EQ(Texts(svg, "legend"), std::vector<std::string>{long_label});
}

TEST(SvgLinePlotTest, EscapesSpecialCharactersInAllText) {
  PlotOptions options = AccuracyOptions();
  options.title = "Alice's <b> & \"Bob\"";
  options.x_label = "x < 1";
  options.y_label = "y > 2";
  options.reference_y = 0.5;
  options.reference_label = "target & goal";
  const std::string svg =
      RenderSvgLinePlot(options, {MakeSeries("a<b & \"c\"", {0, 1}, {0, 1})});

  ExpectValidSvg(svg);
  EXPECT_NE(svg.find("a&lt;b &amp; &quot;c&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("a<b & \"c\""), std::string::npos);
  EXPECT_NE(svg.find("Alice&apos;s &lt;b&gt; &amp; &quot;Bob&quot;"),
            std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_NE(svg.find("x &lt; 1"), std::string::npos);
  EXPECT_NE(svg.find("y &gt; 2"), std::string::npos);
  EXPECT_NE(svg.find("target &amp; goal"), std::string::npos);
}

TEST(SvgLinePlotTest, ReplacesControlCharactersSoTheXmlStaysValid) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(),
      {MakeSeries(std::string("bell\a and\nnewline"), {0, 1}, {0, 1})});

  ExpectValidSvg(svg);
  EXPECT_EQ(Texts(svg, "legend"),
            std::vector<std::string>{"bell  and newline"});
}

TEST(SvgLinePlotTest, TickLabelsAreNiceNumbersCoveringTheData) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(),
      {MakeSeries("a", {0, 13, 37, 97}, {0.12, 0.5, 0.81, 0.93})});

  ExpectNiceTicks(Ticks(svg, "x-tick"), 0, 97);
  ExpectNiceTicks(Ticks(svg, "y-tick"), 0.12, 0.93);
  EXPECT_EQ(Texts(svg, "x-tick").front(), "0");
}

TEST(SvgLinePlotTest, TickLabelsStayNiceAcrossManyRanges) {
  std::mt19937 random(20240611);  // fixed: failures must reproduce
  std::uniform_real_distribution<double> unit(-1.0, 1.0);
  std::uniform_real_distribution<double> decade(-6.0, 9.0);
  for (int trial = 0; trial < 200; ++trial) {
    const double low = unit(random) * std::pow(10.0, decade(random));
    const double high =
        low + std::abs(unit(random)) * std::pow(10.0, decade(random)) + 1e-3;
    SCOPED_TRACE("y range " + std::to_string(low) + " .. " +
                 std::to_string(high));
    const std::string svg = RenderSvgLinePlot(
        AccuracyOptions(), {MakeSeries("a", {0, 1}, {low, high})});
    ExpectNiceTicks(Ticks(svg, "y-tick"), low, high);
  }
}

TEST(SvgLinePlotTest, UsesSiSuffixesForLargeValues) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(), {MakeSeries("a", {0, 1.3e9}, {0, 1})});

  const std::vector<std::string> labels = Texts(svg, "x-tick");
  EXPECT_NE(std::find(labels.begin(), labels.end(), "1G"), labels.end())
      << ::testing::PrintToString(labels);
  ExpectNiceTicks(Ticks(svg, "x-tick"), 0, 1.3e9);
}

TEST(SvgLinePlotTest, LogScaleTicksArePowersOfTen) {
  PlotOptions options = AccuracyOptions();
  options.x_scale = Scale::kLog10;
  options.y_scale = Scale::kLog10;
  const std::string svg = RenderSvgLinePlot(
      options, {MakeSeries("a", {1e5, 1e7, 3e9}, {2.3, 0.4, 0.05})});

  ExpectValidSvg(svg);
  for (const std::string cls : {"x-tick", "y-tick"}) {
    const std::vector<double> ticks = Ticks(svg, cls);
    ASSERT_GE(ticks.size(), 2u) << cls;
    for (const double tick : ticks) {
      const double exponent = std::log10(tick);
      EXPECT_NEAR(exponent, std::round(exponent), 1e-9) << cls << " " << tick;
    }
  }
  const std::vector<double> x_ticks = Ticks(svg, "x-tick");
  EXPECT_LE(x_ticks.front(), 1e5 * 10);
  EXPECT_GE(x_ticks.back(), 3e9 / 10);
}

TEST(SvgLinePlotTest, LogScaleSkipsNonPositiveValues) {
  PlotOptions options = AccuracyOptions();
  options.y_scale = Scale::kLog10;
  const std::string svg = RenderSvgLinePlot(
      options, {MakeSeries("a", {0, 1, 2, 3}, {1.0, 0.0, -1.0, 0.1})});

  const auto lines = Polylines(svg);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 2u);
}

TEST(SvgLinePlotTest, SkipsNonFinitePoints) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(),
      {MakeSeries("a", {0, 1, 2, 3, kNaN, 5}, {0, kNaN, 2, kInf, 4, 5})});

  const auto lines = Polylines(svg);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 3u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(SvgLinePlotTest, IgnoresValuesPastTheShorterCoordinateVector) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(), {MakeSeries("a", {0, 1, 2, 3}, {0, 1})});

  const auto lines = Polylines(svg);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), 2u);
}

TEST(SvgLinePlotTest, MapsCoordinatesMonotonically) {
  for (const Scale scale : {Scale::kLinear, Scale::kLog10}) {
    PlotOptions options = AccuracyOptions();
    options.x_scale = scale;
    options.y_scale = scale;
    const std::string svg = RenderSvgLinePlot(
        options, {MakeSeries("a", {1, 2, 5, 10, 100}, {3, 4, 8, 20, 50})});

    const auto lines = Polylines(svg);
    ASSERT_EQ(lines.size(), 1u);
    const auto& points = lines[0];
    ASSERT_EQ(points.size(), 5u);
    for (size_t i = 1; i < points.size(); ++i) {
      EXPECT_GT(points[i].first, points[i - 1].first) << i;
      EXPECT_LT(points[i].second, points[i - 1].second) << i;
    }
  }
}

TEST(SvgLinePlotTest, KeepsEveryPointInsideTheCanvas) {
  PlotOptions options = AccuracyOptions();
  const std::string svg =
      RenderSvgLinePlot(options, {MakeSeries("a", {-50, 0, 1000}, {-3, 7, 2}),
                                  MakeSeries("b", {3, 4}, {100, -100})});

  for (const auto& line : Polylines(svg)) {
    for (const auto& [x, y] : line) {
      EXPECT_GT(x, 0.0);
      EXPECT_LT(x, options.width);
      EXPECT_GT(y, 0.0);
      EXPECT_LT(y, options.height);
    }
  }
}

TEST(SvgLinePlotTest, IncludesTheReferenceLineInTheRange) {
  PlotOptions options = AccuracyOptions();
  options.reference_y = 0.9;
  options.reference_label = "target 0.9";
  const std::string svg =
      RenderSvgLinePlot(options, {MakeSeries("a", {0, 1, 2}, {0.1, 0.3, 0.5})});

  ExpectValidSvg(svg);
  EXPECT_GE(Ticks(svg, "y-tick").back(), 0.9);
  EXPECT_EQ(Texts(svg, "reference"), std::vector<std::string>{"target 0.9"});
  EXPECT_EQ(Count(svg, "stroke-dasharray"), 1u);
}

TEST(SvgLinePlotTest, RendersASingleRepeatedPoint) {
  const std::string svg = RenderSvgLinePlot(
      AccuracyOptions(), {MakeSeries("a", {3, 3}, {0.5, 0.5})});

  ExpectValidSvg(svg);
  ASSERT_EQ(Polylines(svg).size(), 1u);
  EXPECT_GE(Texts(svg, "x-tick").size(), 4u);
  EXPECT_GE(Texts(svg, "y-tick").size(), 4u);
}

TEST(SvgLinePlotTest, RendersNoDataForEmptyInput) {
  PlotOptions options = AccuracyOptions();
  options.title = "Nothing & nobody";
  for (const std::vector<Series>& series :
       {std::vector<Series>{},
        std::vector<Series>{MakeSeries("a", {kNaN, 1}, {1, kInf})},
        std::vector<Series>{MakeSeries("a", {}, {})}}) {
    const std::string svg = RenderSvgLinePlot(options, series);

    ExpectValidSvg(svg);
    EXPECT_EQ(Texts(svg, "no-data"), std::vector<std::string>{"no data"});
    EXPECT_EQ(Texts(svg, "title"),
              std::vector<std::string>{"Nothing &amp; nobody"});
    EXPECT_EQ(Count(svg, "<polyline"), 0u);
  }
}

TEST(SvgLinePlotTest, LogScaleWithOnlyNonPositiveValuesRendersNoData) {
  PlotOptions options = AccuracyOptions();
  options.x_scale = Scale::kLog10;
  const std::string svg =
      RenderSvgLinePlot(options, {MakeSeries("a", {0, -1}, {1, 2})});

  ExpectValidSvg(svg);
  EXPECT_EQ(Texts(svg, "no-data").size(), 1u);
}

PlotOptions TimeToTargetOptions() {
  PlotOptions options;
  options.title = "Time to 85% accuracy";
  options.x_label = "setting";
  options.y_label = "seconds";
  return options;
}

// Returns the y and height of every <rect>, in document order.
std::vector<std::pair<double, double>> Bars(const std::string& svg) {
  static const std::regex kRect(
      "<rect[^>]* y=\"([-0-9.]+)\"[^>]* height=\"([0-9.]+)\"");
  std::vector<std::pair<double, double>> bars;
  for (std::sregex_iterator it(svg.begin(), svg.end(), kRect), end; it != end;
       ++it) {
    bars.emplace_back(std::stod((*it)[1].str()), std::stod((*it)[2].str()));
  }
  return bars;
}

TEST(SvgBarChartTest, DrawsOneRectPerPresentValue) {
  const std::string svg = RenderSvgBarChart(
      TimeToTargetOptions(), {"sync", "local", "overlap"},
      {{"2 workers", {40, 22, 18}}, {"8 workers", {kNaN, 38, 24}}});

  ExpectValidSvg(svg);
  EXPECT_EQ(Count(svg, "<rect"), 5u);
  EXPECT_EQ(Texts(svg, "missing"), std::vector<std::string>{"n/a"});
  EXPECT_EQ(Texts(svg, "legend"),
            (std::vector<std::string>{"sync", "local", "overlap"}));
  EXPECT_EQ(Texts(svg, "x-tick"),
            (std::vector<std::string>{"2 workers", "8 workers"}));
}

TEST(SvgBarChartTest, WritesNotAvailableForNonFiniteAndMissingValues) {
  const std::string svg =
      RenderSvgBarChart(TimeToTargetOptions(), {"a", "b", "c"},
                        {{"g1", {1, kInf}}, {"g2", {kNaN, 2, 3, 99}}});

  ExpectValidSvg(svg);
  EXPECT_EQ(Count(svg, "<rect"), 3u);
  EXPECT_EQ(Texts(svg, "missing").size(), 3u);
}

TEST(SvgBarChartTest, BarHeightsAreProportionalToValues) {
  const std::string svg =
      RenderSvgBarChart(TimeToTargetOptions(), {"a", "b"}, {{"g", {10, 40}}});

  const auto bars = Bars(svg);
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_NEAR(bars[1].second / bars[0].second, 4.0, 0.01);
  // Both grow from the same baseline.
  EXPECT_NEAR(bars[0].first + bars[0].second, bars[1].first + bars[1].second,
              0.01);
  EXPECT_EQ(Texts(svg, "value"), (std::vector<std::string>{"10", "40"}));
  EXPECT_EQ(Texts(svg, "y-tick").front(), "0");
}

TEST(SvgBarChartTest, NegativeValuesHangBelowZero) {
  const std::string svg =
      RenderSvgBarChart(TimeToTargetOptions(), {"a", "b"}, {{"g", {-5, 5}}});

  ExpectValidSvg(svg);
  const auto bars = Bars(svg);
  ASSERT_EQ(bars.size(), 2u);
  EXPECT_NEAR(bars[0].second, bars[1].second, 0.01);
  // The negative bar starts where the positive one ends: at zero.
  EXPECT_NEAR(bars[0].first, bars[1].first + bars[1].second, 0.01);
}

TEST(SvgBarChartTest, EscapesLabels) {
  const std::string svg = RenderSvgBarChart(TimeToTargetOptions(),
                                            {"a<b & \"c\""}, {{"x & y", {1}}});

  ExpectValidSvg(svg);
  EXPECT_NE(svg.find("a&lt;b &amp; &quot;c&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
  EXPECT_NE(svg.find("x &amp; y"), std::string::npos);
}

TEST(SvgBarChartTest, WrapsOrRotatesLongGroupLabelsKeepingTheirText) {
  std::vector<BarGroup> groups;
  groups.reserve(6);
  for (int i = 0; i < 6; ++i) {
    groups.push_back(
        {"setting " + std::to_string(i) + " with 50 ms latency", {1, 2}});
  }
  const std::string svg =
      RenderSvgBarChart(TimeToTargetOptions(), {"a", "b"}, groups);

  ExpectValidSvg(svg);
  std::string text;
  for (const std::string& line : Texts(svg, "x-tick")) {
    text += line + " ";
  }
  for (const BarGroup& group : groups) {
    EXPECT_NE(text.find(group.label), std::string::npos) << group.label;
  }
}

TEST(SvgBarChartTest, LogScaleTreatsNonPositiveValuesAsMissing) {
  PlotOptions options = TimeToTargetOptions();
  options.y_scale = Scale::kLog10;
  const std::string svg =
      RenderSvgBarChart(options, {"a", "b", "c"}, {{"g", {10, 0, 1000}}});

  ExpectValidSvg(svg);
  EXPECT_EQ(Count(svg, "<rect"), 2u);
  EXPECT_EQ(Texts(svg, "missing").size(), 1u);
  for (const double tick : Ticks(svg, "y-tick")) {
    EXPECT_NEAR(std::log10(tick), std::round(std::log10(tick)), 1e-9);
  }
}

TEST(SvgBarChartTest, AllMissingStillDrawsTheSlots) {
  const std::string svg = RenderSvgBarChart(TimeToTargetOptions(), {"a", "b"},
                                            {{"g", {kNaN, kNaN}}});

  ExpectValidSvg(svg);
  EXPECT_EQ(Count(svg, "<rect"), 0u);
  EXPECT_EQ(Texts(svg, "missing").size(), 2u);
}

TEST(SvgBarChartTest, RendersNoDataWithoutGroupsOrSeries) {
  const std::string no_groups =
      RenderSvgBarChart(TimeToTargetOptions(), {"a"}, {});
  const std::string no_series =
      RenderSvgBarChart(TimeToTargetOptions(), {}, {{"g", {1}}});

  for (const std::string& svg : {no_groups, no_series}) {
    ExpectValidSvg(svg);
    EXPECT_EQ(Texts(svg, "no-data"), std::vector<std::string>{"no data"});
    EXPECT_EQ(Count(svg, "<rect"), 0u);
  }
}

}  // namespace
}  // namespace anchorage::report
