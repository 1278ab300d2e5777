#pragma once

#include <string>
#include <vector>

namespace leakbench::report {

/// Marker shapes: with the line pattern, what keeps two series apart in grey print.
enum class marker { none, circle, square };

/// How a series is drawn.
struct style {
  std::string stroke = "#000000";
  std::string dash;  ///< SVG stroke-dasharray; empty: solid
  double width = 2;
  report::marker mark = marker::none;
  bool filled = true;
  double mark_size = 4;
};

/// A point; a NaN y breaks the line there. `label` is what hovering the point shows.
struct point {
  double x = 0;
  double y = 0;
  std::string label;
};

/// A vertical interval at x, drawn as an error bar.
struct error_bar {
  double x = 0;
  double low = 0;
  double high = 0;
};

/// One legend entry: a line through `line`, markers on `markers`, bars on `bars`.
struct series {
  std::string name;
  style look;
  std::vector<point> line;
  std::vector<point> markers;
  std::vector<error_bar> bars;
};

/// A line chart: titled axes with units, a legend, hover text on every marker.
struct chart {
  std::string title;
  std::string subtitle;  ///< one line under the title, e.g. the fitted slopes
  std::string x_label;   ///< with its unit: "time (s)"
  std::string y_label;   ///< with its unit: "RSS (MiB)"
  std::vector<series> data;
  /// When set, x is an index into these and the ticks are labelled with them.
  std::vector<std::string> x_categories;
  bool y_from_zero = false;  ///< include 0 in the y range
};

/// The chart as an SVG element (no XML declaration: it embeds in HTML as it is and stands
/// alone as a .svg file). Every text from `c` is escaped; output is byte-for-byte
/// deterministic for the same chart.
std::string render_svg(const chart& c);

/// `s` with &, <, >, " and ' escaped for XML and HTML text and attributes.
std::string escape(std::string_view s);

}  // namespace leakbench::report
