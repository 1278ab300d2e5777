#include "reports/report/history.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "reports/report/html.hpp"
#include "reports/report/summary.hpp"
#include "reports/report/svg_chart.hpp"
#include "reports/results/comparability.hpp"
#include "reports/results/date.hpp"
#include "reports/results/estimate.hpp"
#include "reports/results/units.hpp"

namespace leakbench::report {
namespace {

namespace fs = std::filesystem;
constexpr double k_nan = std::numeric_limits<double>::quiet_NaN();

struct dated_run {
  reports::run run;
  std::optional<std::int64_t> when;  ///< seconds since the epoch, from the context's date
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
    dated_run d{reports::read_run(p.string()), std::nullopt, "", "", p.filename().string()};
    summarize(d.run);  // throws if it is not a leakbench run
    d.date = d.run.context_value("date").value_or("");
    d.when = reports::parse_date(d.date);
    d.commit = d.run.context_value("git_commit").value_or("");
    runs.push_back(std::move(d));
  }
  // By the moment each ran (its date with its offset), not by the date's text.
  std::stable_sort(runs.begin(), runs.end(), [](const dated_run& a, const dated_run& b) {
    return std::tie(a.when, a.commit) < std::tie(b.when, b.commit);
  });
  for (std::size_t i = 1; i < runs.size(); ++i) {
    reports::check_comparable(runs[i].run, runs.front().run);  // throws, naming both files
  }
  return runs;
}

std::string label(const dated_run& d, std::size_t i) {
  return fmt::format("run {} ({}, {}, {})", i + 1, d.date.empty() ? "no date" : d.date,
                     d.commit.empty() ? "no commit" : d.commit, d.file);
}

/// The largest magnitude among finite values, 0 if none.
double largest(const std::vector<double>& values) {
  double m = 0;
  for (const double v : values) {
    if (std::isfinite(v)) m = std::max(m, std::abs(v));
  }
  return m;
}

std::string runs_table(const std::vector<dated_run>& runs) {
  std::string out =
      "<table>\n<thead><tr><th scope=\"col\">run</th><th scope=\"col\" class=\"name\">date</th>"
      "<th scope=\"col\" class=\"name\">git_commit</th><th scope=\"col\" class=\"name\">file</th>"
      "<th scope=\"col\">payload</th><th scope=\"col\">retries</th><th scope=\"col\" "
      "class=\"name\">leakbench</th><th scope=\"col\" class=\"name\">target</th><th "
      "scope=\"col\" class=\"name\">Dramatiq</th><th scope=\"col\">benchmarks</th></tr></thead>"
      "\n<tbody>\n";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& d = runs[i];
    const auto payload = d.run.context_number("payload");
    const std::string variants = reports::describe_variants(d.run);
    out += fmt::format(
        "<tr><td>{}</td><td class=\"name\">{}</td><td class=\"name\">{}</td><td "
        "class=\"name\">{}</td><td>{}</td><td>{}</td><td class=\"name\">{}</td><td "
        "class=\"name\">{}</td><td class=\"name\">{}</td><td>{}</td></tr>\n",
        i + 1, escape(d.date), escape(d.commit), escape(d.file),
        payload ? escape(reports::format_bytes(*payload)) : "–",
        escape(d.run.context_value("retries").value_or("–")),
        escape(d.run.context_value("leakbench_version").value_or("–")), escape(d.run.target()),
        variants.empty() ? "–" : escape(variants), d.run.keys().size());
  }
  return out + "</tbody>\n</table>\n";
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
      "<h1>leakbench over time</h1>\n<p class=\"meta\">{} runs in {}, ordered by the date (with "
      "its time zone) and git_commit in their context; all ran with the same payload, gc, "
      "inject_leak, concurrency, depth and target. A step in a benchmark's growth per retry is "
      "a change in what a retry keeps; a gap is a run without that benchmark.</p>\n",
      runs.size(),
      escape(dir.filename().empty() ? dir.parent_path().filename().string()
                                    : dir.filename().string()));
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const auto d = reports::check_comparable(runs[i].run, runs[i - 1].run);
    if (!d.empty()) {
      body += fmt::format("<p class=\"note\">run {} against run {}: {}</p>\n", i + 1, i,
                          escape(reports::describe_differences(d)));
    }
  }
  body += runs_table(runs);

  for (const auto& key : keys) {
    const std::string stem = file_stem(key);
    const std::string variant = key.substr(key.rfind('/') + 1);
    style look;
    look.mark = marker::circle;
    if (variant != "leaky") {
      look.stroke = "#3b7dd8";
      look.dash = "7 4";
      look.mark = marker::square;
      look.filled = false;
    }
    std::vector<reports::estimate> growths;
    std::vector<double> peaks, all_growth;
    for (const auto& d : runs) {
      const auto reps = d.run.repetitions_of(key);
      // A run without the benchmark, or where it failed: NaN, a gap in the line.
      growths.push_back(reports::combined(reps, "rss_per_retry", "rss_ci95")
                            .value_or(reports::estimate{k_nan, k_nan}));
      peaks.push_back(
          reports::combined(reps, "peak_rss", "").value_or(reports::estimate{k_nan, 0}).value);
      all_growth.push_back(growths.back().value + growths.back().half_width);
      all_growth.push_back(growths.back().value - growths.back().half_width);
    }
    // One unit per quantity, chosen for its range: 4 MiB per retry reads 4, not 4096 KiB.
    const auto gu = reports::unit_for(largest(all_growth)), pu = reports::unit_for(largest(peaks));
    series growth{.name = "rss_per_retry ± 95%", .look = look};
    series peak{.name = "peak_rss", .look = look};
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto x = static_cast<double>(i);
      const auto& g = growths[i];
      const double p = peaks[i];
      growth.line.push_back({x, g.value / gu.bytes, ""});
      peak.line.push_back({x, p / pu.bytes, ""});
      if (std::isfinite(g.value)) {
        growth.markers.push_back(
            {x, g.value / gu.bytes,
             fmt::format("{}, {}: {} ± {} per retry", key, label(runs[i], i),
                         reports::format_bytes(g.value), reports::format_bytes(g.half_width))});
        growth.bars.push_back(
            {x, (g.value - g.half_width) / gu.bytes, (g.value + g.half_width) / gu.bytes});
      }
      if (std::isfinite(p)) {
        peak.markers.push_back(
            {x, p / pu.bytes,
             fmt::format("{}, {}: peak {}", key, label(runs[i], i), reports::format_bytes(p))});
      }
    }
    const std::string growth_svg =
        render_svg({.title = key + ": RSS growth per retry",
                    .x_label = "run (see the table)",
                    .y_label = fmt::format("rss_per_retry ({})", gu.name),
                    .data = {growth},
                    .x_categories = categories,
                    .y_from_zero = true});
    const std::string peak_svg = render_svg({.title = key + ": peak RSS",
                                             .x_label = "run (see the table)",
                                             .y_label = fmt::format("peak_rss ({})", pu.name),
                                             .data = {peak},
                                             .x_categories = categories,
                                             .y_from_zero = true});
    out[stem + "_rss_per_retry.svg"] = growth_svg;
    out[stem + "_peak_rss.svg"] = peak_svg;
    body += fmt::format("<h2 id=\"{}\">{}</h2>\n<figure>\n{}</figure>\n<figure>\n{}</figure>\n",
                        html_id(key), escape(key), growth_svg, peak_svg);
  }
  out["index.html"] = html_page("leakbench over time", body);
  return out;
}

}  // namespace leakbench::report
