#include "reports/report/svg_chart.hpp"

#include "reports/results/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace leakbench::report {
namespace {

constexpr double k_width = 600, k_height = 380;
constexpr double k_left = 78, k_right = 24, k_top = 76, k_bottom = 58;
constexpr double k_plot_w = k_width - k_left - k_right, k_plot_h = k_height - k_top - k_bottom;

struct range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

/// Ticks at 1, 2 or 5 times a power of ten, covering the range.
struct ticks {
  double lo, hi, step;
  int decimals;
};

ticks nice_ticks(range r, int target = 5) {
  if (r.empty()) r = {0, 1};
  if (r.hi - r.lo < 1e-12 * std::max(1.0, std::abs(r.hi))) {
    const double pad = r.hi == 0 ? 1 : std::abs(r.hi) * 0.05;
    r.lo -= pad;
    r.hi += pad;
  }
  const double raw = (r.hi - r.lo) / target;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = 10 * mag;
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return {std::floor(r.lo / step) * step, std::ceil(r.hi / step) * step, step, decimals};
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

class canvas {
 public:
  canvas(const ticks& x, const ticks& y) : x_(x), y_(y) {}
  double px(double x) const { return k_left + (x - x_.lo) / (x_.hi - x_.lo) * k_plot_w; }
  double py(double y) const { return k_top + k_plot_h - (y - y_.lo) / (y_.hi - y_.lo) * k_plot_h; }

 private:
  ticks x_, y_;
};

std::string stroke_attrs(const style& s) {
  std::string a = fmt::format("stroke=\"{}\" stroke-width=\"{}\"", s.stroke, s.width);
  if (!s.dash.empty()) a += fmt::format(" stroke-dasharray=\"{}\"", s.dash);
  return a;
}

/// A marker centred at pixel (x, y), with `title` as its hover text if not empty.
std::string marker_at(double x, double y, const style& s, const std::string& title) {
  const double r = s.mark_size;
  const std::string fill = s.filled ? s.stroke : "#ffffff";
  const std::string hover = title.empty() ? "" : fmt::format("<title>{}</title>", escape(title));
  if (s.mark == marker::square) {
    return fmt::format(
        "<rect class=\"pt\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
        "stroke=\"{}\" stroke-width=\"1.5\">{}</rect>\n",
        num(x - r), num(y - r), num(2 * r), num(2 * r), fill, s.stroke, hover);
  }
  return fmt::format(
      "<circle class=\"pt\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" "
      "stroke-width=\"1.5\">{}</circle>\n",
      num(x), num(y), num(r), fill, s.stroke, hover);
}

std::string polylines(const canvas& cv, const series& s) {
  std::string out, pts;
  const auto flush = [&] {
    if (pts.find(' ') != std::string::npos) {  // at least two points
      out += fmt::format("<polyline fill=\"none\" {} points=\"{}\"/>\n", stroke_attrs(s.look), pts);
    }
    pts.clear();
  };
  for (const auto& p : s.line) {
    if (!std::isfinite(p.y) || !std::isfinite(p.x)) {
      flush();
      continue;
    }
    pts += fmt::format("{}{},{}", pts.empty() ? "" : " ", num(cv.px(p.x)), num(cv.py(p.y)));
  }
  flush();
  return out;
}

std::string legend_swatch(double x, double y, const series& s) {
  std::string out;
  if (!s.line.empty() || s.look.mark == marker::none) {
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {}/>\n", num(x), num(y),
                       num(x + 28), num(y), stroke_attrs(s.look));
  }
  if (s.look.mark != marker::none) out += marker_at(x + 14, y, s.look, "");
  return out;
}

}  // namespace

std::string escape(std::string_view text) {
  // Control characters are not allowed in XML 1.0: shown as the replacement character.
  const std::string s = reports::printable(text, true);
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
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
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_svg(const chart& c) {
  range xr, yr;
  for (const auto& s : c.data) {
    for (const auto* pts : {&s.line, &s.markers}) {
      for (const auto& p : *pts) {
        if (!std::isfinite(p.y)) continue;
        xr.add(p.x);
        yr.add(p.y);
      }
    }
    for (const auto& b : s.bars) {
      xr.add(b.x);
      yr.add(b.low);
      yr.add(b.high);
    }
  }
  if (c.y_from_zero) yr.add(0);
  if (!c.x_categories.empty()) {
    xr = {-0.5, static_cast<double>(c.x_categories.size()) - 0.5};
  }
  const ticks xt = c.x_categories.empty() ? nice_ticks(xr) : ticks{xr.lo, xr.hi, 1, 0};
  const ticks yt = nice_ticks(yr);
  const canvas cv(xt, yt);

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" "
      "height=\"{}\" role=\"img\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" "
      "font-size=\"12\">\n<title>{}</title>\n"
      "<style>.pt:hover{{stroke-width:4}}</style>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
      k_width, k_height, k_width, k_height, escape(c.title));
  out += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
                     k_left, escape(c.title));
  if (!c.subtitle.empty()) {
    out += fmt::format("<text x=\"{}\" y=\"40\" font-size=\"12\" fill=\"#333333\">{}</text>\n",
                       k_left, escape(c.subtitle));
  }

  // Grid and ticks.
  out += "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  const int ny = static_cast<int>(std::round((yt.hi - yt.lo) / yt.step));
  for (int i = 0; i <= ny; ++i) {
    const double y = cv.py(yt.lo + i * yt.step);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", num(k_left), num(y),
                       num(k_left + k_plot_w), num(y));
  }
  out += "</g>\n<g font-size=\"11\" fill=\"#333333\">\n";
  for (int i = 0; i <= ny; ++i) {
    const double v = yt.lo + i * yt.step;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{:.{}f}</text>\n",
                       num(k_left - 6), num(cv.py(v) + 4), v, yt.decimals);
  }
  if (c.x_categories.empty()) {
    const int nx = static_cast<int>(std::round((xt.hi - xt.lo) / xt.step));
    for (int i = 0; i <= nx; ++i) {
      const double v = xt.lo + i * xt.step;
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{:.{}f}</text>\n",
                         num(cv.px(v)), num(k_top + k_plot_h + 16), v, xt.decimals);
    }
  } else {
    // Label every category while they fit, else every k-th.
    const std::size_t n = c.x_categories.size();
    const std::size_t every = std::max<std::size_t>(1, (n + 11) / 12);
    for (std::size_t i = 0; i < n; i += every) {
      out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                         num(cv.px(static_cast<double>(i))), num(k_top + k_plot_h + 16),
                         escape(c.x_categories[i]));
    }
  }
  out += "</g>\n";
  // Axes and their titles.
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#555555\"/>\n",
      num(k_left), num(k_top), num(k_plot_w), num(k_plot_h));
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                     num(k_left + k_plot_w / 2), num(k_height - 14), escape(c.x_label));
  out += fmt::format(
      "<text transform=\"translate(18 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
      num(k_top + k_plot_h / 2), escape(c.y_label));

  // Data: bars, then lines, then markers on top.
  for (const auto& s : c.data) {
    for (const auto& b : s.bars) {
      const double x = cv.px(b.x), lo = cv.py(b.low), hi = cv.py(b.high);
      out += fmt::format(
          "<path d=\"M{0} {1}V{2}M{3} {1}H{4}M{3} {2}H{4}\" stroke=\"{5}\" stroke-width=\"1.2\" "
          "fill=\"none\"/>\n",
          num(x), num(lo), num(hi), num(x - 4), num(x + 4), s.look.stroke);
    }
  }
  for (const auto& s : c.data) out += polylines(cv, s);
  for (const auto& s : c.data) {
    if (s.look.mark == marker::none) continue;
    for (const auto& p : s.markers) {
      if (std::isfinite(p.y)) out += marker_at(cv.px(p.x), cv.py(p.y), s.look, p.label);
    }
  }

  // Legend, one row above the plot.
  double lx = k_left;
  for (const auto& s : c.data) {
    out += legend_swatch(lx, 58, s);
    out +=
        fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", num(lx + 34), num(62), escape(s.name));
    lx += 34 + 7.0 * static_cast<double>(s.name.size()) + 22;
  }
  out += "</svg>\n";
  return out;
}

}  // namespace leakbench::report
