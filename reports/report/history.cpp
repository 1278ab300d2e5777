#include "reports/report/history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "reports/report/html.hpp"
#include "reports/report/summary.hpp"
#include "reports/report/svg_chart.hpp"
#include "reports/results/estimate.hpp"
#include "reports/results/units.hpp"

namespace leakbench::report {
namespace {

namespace fs = std::filesystem;
constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();
constexpr double k_kib = 1024.0, k_mib = 1024.0 * 1024.0;

struct dated_run {
  reports::run run;
  std::string date, commit, file;
};

std::vector<dated_run> read_runs(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw reports::input_error(fmt::format("{}: no such folder", dir.string()));
  }
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") paths.push_back(e.path());
  }
  if (paths.empty()) {
    throw reports::input_error(
        fmt::format("{}: holds no .json file (leakbench --benchmark_out=F.json)", dir.string()));
  }
  std::sort(paths.begin(), paths.end());
  std::vector<dated_run> runs;
  for (const auto& p : paths) {
    dated_run d{reports::read_run(p.string()), "", "", p.filename().string()};
    summarize(d.run);  // throws if it is not a leakbench run
    d.date = d.run.context_value("date").value_or("");
    d.commit = d.run.context_value("git_commit").value_or("");
    runs.push_back(std::move(d));
  }
  std::stable_sort(runs.begin(), runs.end(), [](const dated_run& a, const dated_run& b) {
    return std::tie(a.date, a.commit) < std::tie(b.date, b.commit);
  });
  return runs;
}

std::string label(const dated_run& d, std::size_t i) {
  return fmt::format("run {} ({}, {}, {})", i + 1, d.date.empty() ? "no date" : d.date,
                     d.commit.empty() ? "no commit" : d.commit, d.file);
}

}  // namespace

files build_history(const fs::path& dir) {
  const auto runs = read_runs(dir);
  std::vector<std::string> keys;
  for (const auto& d : runs) {
    for (const auto& k : d.run.keys()) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  }
  std::vector<std::string> categories;
  for (std::size_t i = 0; i < runs.size(); ++i) categories.push_back(fmt::format("{}", i + 1));

  files out;
  std::string body = fmt::format(
      "<h1>leakbench over time</h1>\n<p class=\"meta\">{} runs in {}, ordered by the date and "
      "git_commit in their context. A step in a benchmark's growth per retry is a change in "
      "what a retry keeps; a gap is a run without that benchmark.</p>\n",
      runs.size(),
      escape(dir.filename().empty() ? dir.parent_path().filename().string()
                                    : dir.filename().string()));
  body +=
      "<table>\n<thead><tr><th>run</th><th class=\"name\">date</th><th class=\"name\">"
      "git_commit</th><th class=\"name\">file</th><th>payload</th><th>retries</th>"
      "<th>benchmarks</th></tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& d = runs[i];
    const auto payload = d.run.context_number("payload");
    body += fmt::format(
        "<tr><td>{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td><td "
        "class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        i + 1, escape(d.date), escape(d.commit), escape(d.file),
        payload ? escape(reports::format_bytes(*payload)) : "–",
        escape(d.run.context_value("retries").value_or("–")), d.run.keys().size());
  }
  body += "</tbody>\n</table>\n";

  for (const auto& key : keys) {
    const std::string stem = file_stem(key);
    const std::string variant = key.substr(key.rfind('/') + 1);
    style look;
    look.mark = marker::circle;
    if (variant == "fixed") {
      look.stroke = "#3b7dd8";
      look.dash = "7 4";
      look.mark = marker::square;
      look.filled = false;
    }
    series growth{.name = "rss_per_retry ± 95%", .look = look};
    series peak{.name = "peak_rss", .look = look};
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto reps = runs[i].run.repetitions_of(key);
      const auto x = static_cast<double>(i);
      // A run without the benchmark, or where it failed: NaN, a gap in the line.
      const reports::estimate g = reports::combined(reps, "rss_per_retry", "rss_ci95")
                                      .value_or(reports::estimate{k_nan, k_nan});
      const double p =
          reports::combined(reps, "peak_rss", "").value_or(reports::estimate{k_nan, 0}).value;
      growth.line.push_back({x, g.value / k_kib, ""});
      peak.line.push_back({x, p / k_mib, ""});
      if (std::isfinite(g.value)) {
        growth.markers.push_back(
            {x, g.value / k_kib,
             fmt::format("{}, {}: {} ± {} per retry", key, label(runs[i], i),
                         reports::format_bytes(g.value), reports::format_bytes(g.half_width))});
        growth.bars.push_back(
            {x, (g.value - g.half_width) / k_kib, (g.value + g.half_width) / k_kib});
      }
      if (std::isfinite(p)) {
        peak.markers.push_back(
            {x, p / k_mib,
             fmt::format("{}, {}: peak {}", key, label(runs[i], i), reports::format_bytes(p))});
      }
    }
    const std::string growth_svg = render_svg({.title = key + ": RSS growth per retry",
                                               .x_label = "run (see the table)",
                                               .y_label = "rss_per_retry (KiB)",
                                               .data = {growth},
                                               .x_categories = categories,
                                               .y_from_zero = true});
    const std::string peak_svg = render_svg({.title = key + ": peak RSS",
                                             .x_label = "run (see the table)",
                                             .y_label = "peak_rss (MiB)",
                                             .data = {peak},
                                             .x_categories = categories,
                                             .y_from_zero = true});
    out[stem + "_rss_per_retry.svg"] = growth_svg;
    out[stem + "_peak_rss.svg"] = peak_svg;
    body += fmt::format("<h2 id=\"{0}\">{0}</h2>\n<figure>\n{1}</figure>\n<figure>\n{2}</figure>\n",
                        escape(key), growth_svg, peak_svg);
  }
  out["index.html"] = html_page("leakbench over time", body);
  return out;
}

}  // namespace leakbench::report
