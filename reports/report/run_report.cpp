#include "reports/report/run_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "reports/report/html.hpp"
#include "reports/report/summary.hpp"
#include "reports/report/svg_chart.hpp"
#include "reports/results/comparability.hpp"
#include "reports/results/series.hpp"
#include "reports/results/text.hpp"
#include "reports/results/units.hpp"

namespace leakbench::report {
namespace {

namespace fs = std::filesystem;
constexpr double k_mib = 1024.0 * 1024.0;

/// Leaky solid and dark with filled circles, fixed dashed and light with open squares: apart
/// in grey print by pattern, marker and tone, not by hue alone.
style look_of(const std::string& variant, bool fit) {
  style s;
  if (variant == "fixed") {
    s.stroke = "#3b7dd8";
    s.dash = fit ? "8 3 2 3" : "7 4";
    s.mark = marker::square;
    s.filled = false;
  } else {
    s.stroke = "#202020";
    s.dash = fit ? "2 3" : "";
    s.mark = marker::circle;
  }
  if (fit) {
    s.width = 1.3;
    s.mark = marker::none;
  }
  return s;
}

struct variant_data {
  const variant_summary* summary;
  std::vector<reports::series> samples;  ///< one per repetition, in order; none without --series

  /// The name of repetition `i` in a legend: "leaky", or "leaky #1" among repetitions.
  std::string name(std::size_t i) const {
    const auto& s = *summary;
    const std::string base = s.variant.empty() ? s.key : s.variant;
    return samples.size() > 1 ? fmt::format("{} #{}", base, i) : base;
  }
};

std::string describe(const reports::run& r) {
  auto parts = reports::describe_configuration(r);
  if (const auto variants = reports::describe_variants(r); !variants.empty()) {
    parts.push_back(variants);
  }
  return fmt::format("{}", fmt::join(parts, " · "));
}

/// The fitted line at retry r, if the JSON has it.
std::optional<double> fitted(const variant_summary& v, double retry) {
  if (!v.growth || !v.fit_start) return std::nullopt;
  return *v.fit_start + *v.growth * retry;
}

/// "fitted: leaky 1.006 MiB ± 355 B per retry, fixed 521 B ± 321 B".
std::string slopes(const std::vector<variant_data>& vs) {
  std::string out;
  for (const auto& v : vs) {
    const auto& s = *v.summary;
    if (!s.growth) continue;
    out += fmt::format("{}{} {} ± {}", out.empty() ? "fitted growth per retry: " : ", ",
                       s.variant.empty() ? s.key : s.variant, reports::format_bytes(*s.growth),
                       reports::format_bytes(s.half_width.value_or(0)));
  }
  return out;
}

chart retry_chart(const std::string& scenario, const std::vector<variant_data>& vs) {
  chart c{.title = fmt::format("{}: RSS after each retry", scenario),
          .subtitle = slopes(vs),
          .x_label = "retry",
          .y_label = "RSS (MiB)"};
  for (const auto& v : vs) {
    const auto& s = *v.summary;
    for (std::size_t r = 0; r < v.samples.size(); ++r) {
      series data{.name = v.name(r), .look = look_of(s.variant, false)};
      const std::string who = v.samples.size() > 1 ? fmt::format("{} #{}", s.key, r) : s.key;
      for (std::size_t i = 0; i < v.samples[r].retries.size(); ++i) {
        const double rss = v.samples[r].retries[i].rss;
        data.line.push_back({static_cast<double>(i), rss / k_mib, ""});
        data.markers.push_back({static_cast<double>(i), rss / k_mib,
                                fmt::format("{}, retry {}: {:.2f} MiB", who, i, rss / k_mib)});
      }
      c.data.push_back(std::move(data));
    }
    if (v.samples.empty() && s.start && s.end && s.retries) {
      series data{.name = v.name(0), .look = look_of(s.variant, false)};
      // Without samples: the JSON's two ends; the fitted line shows the way between.
      for (const auto& [x, y] : {std::pair{0.0, *s.start}, std::pair{*s.retries, *s.end}}) {
        data.markers.push_back(
            {x, y / k_mib, fmt::format("{}, retry {:.0f}: {:.2f} MiB", s.key, x, y / k_mib)});
      }
      c.data.push_back(std::move(data));
    }
    if (s.retries) {
      const auto a = fitted(s, 0), b = fitted(s, *s.retries);
      if (a && b) {
        series fit{.name = fmt::format("{} fit", s.variant.empty() ? s.key : s.variant),
                   .look = look_of(s.variant, true)};
        fit.line = {{0, *a / k_mib, ""}, {*s.retries, *b / k_mib, ""}};
        c.data.push_back(std::move(fit));
      }
    }
  }
  return c;
}

chart time_chart(const std::string& scenario, const std::vector<variant_data>& vs) {
  chart c{.title = fmt::format("{}: RSS over time", scenario),
          .subtitle = "markers: the sample after each retry; line: every sample",
          .x_label = "time since the benchmark started (s)",
          .y_label = "RSS (MiB)"};
  for (const auto& v : vs) {
    const auto& s = *v.summary;
    for (std::size_t r = 0; r < v.samples.size(); ++r) {
      const auto& retries = v.samples[r].retries;
      const std::string who = v.samples.size() > 1 ? fmt::format("{} #{}", s.key, r) : s.key;
      series data{.name = v.name(r), .look = look_of(s.variant, false)};
      std::vector<reports::sample> all = retries;
      all.insert(all.end(), v.samples[r].background.begin(), v.samples[r].background.end());
      std::stable_sort(all.begin(), all.end(),
                       [](const auto& a, const auto& b) { return a.time < b.time; });
      for (const auto& x : all) data.line.push_back({x.time, x.rss / k_mib, ""});
      for (std::size_t i = 0; i < retries.size(); ++i) {
        data.markers.push_back({retries[i].time, retries[i].rss / k_mib,
                                fmt::format("{}, retry {} at {:.3f} s: {:.2f} MiB", who, i,
                                            retries[i].time, retries[i].rss / k_mib)});
      }
      c.data.push_back(std::move(data));
    }
    if (v.samples.size() != 1) continue;  // the fit of the mean belongs to no one repetition
    const auto& retries = v.samples.front().retries;
    series fit{.name = fmt::format("{} fit", v.name(0)), .look = look_of(s.variant, true)};
    for (std::size_t i = 0; i < retries.size(); ++i) {
      if (const auto y = fitted(s, static_cast<double>(i))) {
        fit.line.push_back({retries[i].time, *y / k_mib, ""});
      }
    }
    if (!fit.line.empty()) c.data.push_back(std::move(fit));
  }
  return c;
}

/// Why series `x` is not the samples of `row` (repetition of the JSON's benchmark), or "".
/// leakbench's rss_start and rss_end are the first and last retry samples, to the byte.
std::string mismatch(const reports::series& x, const reports::benchmark_row& row,
                     const reports::run& r) {
  const auto retries = row.number("retries"), start = row.number("rss_start"),
             end = row.number("rss_end");
  if (retries && static_cast<double>(x.retries.size()) != *retries + 1) {
    return fmt::format(
        "{}: holds {} retries, but {} ran {} with {}: is it this run's "
        "--series_out?",
        x.file, x.retries.size() - 1, r.source, row.key, *retries);
  }
  if ((start && x.retries.front().rss != *start) || (end && x.retries.back().rss != *end)) {
    return fmt::format(
        "{}: RSS {} to {} bytes, but {} has {} from {} to {}: the series is from "
        "another run",
        x.file, x.retries.front().rss, x.retries.back().rss, r.source, row.key, start.value_or(0),
        end.value_or(0));
  }
  return "";
}

std::vector<variant_data> load_series(const scenario_summary& s, const run_inputs& in,
                                      std::size_t& found) {
  std::vector<variant_data> out;
  for (const auto& v : s.variants) {
    variant_data d{&v, {}};
    if (in.series && v.error.empty()) {
      const auto reps = in.results->repetitions_of(v.key);
      const std::string stem = reports::series_file_name(v.key);
      for (std::size_t i = 0; i < reps.size(); ++i) {
        // leakbench numbers the files of repetitions: Single_leaky_rep0.csv, _rep1, ...
        const fs::path file =
            *in.series / (reps.size() > 1
                              ? fmt::format("{}_rep{}.csv", stem.substr(0, stem.size() - 4), i)
                              : stem);
        if (!fs::exists(file)) break;
        auto x = reports::read_series(file);
        if (const auto why = mismatch(x, *reps[i], *in.results); !why.empty()) {
          throw reports::input_error(why);
        }
        d.samples.push_back(std::move(x));
        ++found;
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

/// "leakbench report: clean.json": the file's name (its path is on the page), at most 70
/// characters, as HTML checkers ask of a title.
std::string page_title(const std::string& source) {
  std::string name = fs::path(source).filename().string();
  if (name.empty()) name = source;
  std::string title = "leakbench report: " + name;
  if (title.size() > 70) {
    title.resize(67);
    while ((static_cast<unsigned char>(title.back()) & 0xC0) == 0x80) title.pop_back();
    if (!title.empty()) title.pop_back();  // a cut code point's lead byte, or one ASCII char
    title += "...";
  }
  return title;
}

/// What held a benchmark's memory, as leakbench's label says; where the label finds nothing
/// held but the benchmark grows, that too, with the injected leak if the run had one.
std::string held_text(const variant_summary& v, const reports::run& r) {
  if (v.held != "retains nothing" || v.level == severity::none || !v.growth) return v.held;
  std::string out = fmt::format("{} held by an exception, yet RSS grows {} ± {} per retry", v.held,
                                reports::format_bytes(*v.growth),
                                reports::format_bytes(v.half_width.value_or(0)));
  if (const auto n = r.context_number("inject_leak"); n && *n > 0) {
    out += fmt::format(" (this run injected {} per attempt with --inject_leak)",
                       reports::format_bytes(*n));
  }
  return out;
}

}  // namespace

std::string file_stem(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? "_" : out;
}

files build_run_report(const run_inputs& in) {
  const reports::run& r = *in.results;
  if (in.series && !fs::is_directory(*in.series)) {
    throw reports::input_error(
        fmt::format("{}: no such folder (--series names leakbench's --series_out folder)",
                    in.series->string()));
  }
  std::optional<gate::evaluation> verdicts;
  if (in.budgets != nullptr) {
    summarize(r);  // a run that is not leakbench's is refused as such, before any budget
    verdicts = gate::evaluate(r, *in.budgets);
  }
  auto scenarios = summarize(r, verdicts ? &*verdicts : nullptr);
  for (auto& s : scenarios) {
    for (auto& v : s.variants) v.held = held_text(v, r);
  }
  const table_columns shown{.heap = r.has_heap(), .verdict = verdicts.has_value()};
  files out;
  std::string body = fmt::format("<h1>leakbench report</h1>\n<p class=\"meta\">{}<br>{}</p>\n",
                                 escape(r.source), escape(describe(r)));
  std::string md =
      fmt::format("# leakbench report\n\n{}  \n{}\n\n", reports::markdown_escape(r.source),
                  reports::markdown_escape(describe(r)));
  body += "<h2>Summary</h2>\n" + summary_html(scenarios, shown);
  md += summary_markdown(scenarios, shown);
  if (verdicts) {
    const std::string note = fmt::format(
        "verdict: leakgate's, under the budgets {} (the worst of each benchmark's checks; hover "
        "for the rules that did not pass).",
        in.budgets->source);
    body += fmt::format("<p class=\"note\">{}</p>\n", escape(note));
    md += fmt::format("\n{}\n", reports::markdown_escape(note));
  }
  if (!r.has_heap()) {
    const std::string note = fmt::format(
        "A {} run measures the worker from outside its process: RSS only, no heap counter.",
        r.target());
    body += fmt::format("<p class=\"note\">{}</p>\n", escape(note));
    md += fmt::format("\n{}\n", reports::markdown_escape(note));
  }
  md += held_markdown(scenarios);
  if (const auto gc = r.context_value("gc"); gc && gc->starts_with("every:")) {
    const std::string note = fmt::format(
        "This run collected cycles every {} finished attempts (--gc={}): RSS climbs while "
        "failed attempts accumulate and falls back at each collection, a sawtooth in the charts "
        "below. The fitted growth per retry flattens towards zero and the severity with it; the "
        "peak shows what was held between collections.",
        gc->substr(6), *gc);
    body += fmt::format("<p class=\"note\">{}</p>\n", escape(note));
    md += fmt::format("\n{}\n", reports::markdown_escape(note));
  }
  if (in.baseline != nullptr) {
    const auto differences = reports::check_comparable(r, *in.baseline);  // throws if not
    const auto before = summarize(*in.baseline);
    body += fmt::format("<h2>Against the baseline</h2>\n<p class=\"meta\">{}<br>{}</p>\n",
                        escape(in.baseline->source), escape(describe(*in.baseline)));
    if (!differences.empty()) {
      const std::string note = fmt::format("The baseline ran otherwise (compared all the same): {}",
                                           reports::describe_differences(differences));
      body += fmt::format("<p class=\"note\">{}</p>\n", escape(note));
      md += fmt::format("\n{}\n", reports::markdown_escape(note));
    }
    body += baseline_html(scenarios, before);
    md += fmt::format("\n## Against the baseline {}\n\n",
                      reports::markdown_escape(in.baseline->source));
    md += baseline_markdown(scenarios, before);
  }
  std::size_t found = 0;
  std::vector<std::vector<variant_data>> data;
  for (const auto& s : scenarios) data.push_back(load_series(s, in, found));
  if (in.series && found == 0) {
    throw reports::input_error(fmt::format(
        "{}: holds no series file of {} (expected e.g. {}): is it this run's --series_out?",
        in.series->string(), r.source,
        reports::series_file_name(scenarios.front().variants.front().key)));
  }
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const auto& s = scenarios[i];
    const std::string stem = file_stem(s.name);
    body += fmt::format("<h2 id=\"{}\">{}</h2>\n", html_id(s.name), escape(s.name));
    const bool any_series = std::any_of(data[i].begin(), data[i].end(),
                                        [](const variant_data& d) { return !d.samples.empty(); });
    const std::string retry_svg = render_svg(retry_chart(s.name, data[i]));
    out[stem + "_retries.svg"] = retry_svg;
    if (any_series) {
      const std::string time_svg = render_svg(time_chart(s.name, data[i]));
      out[stem + "_time.svg"] = time_svg;
      body += "<figure>\n" + time_svg + "</figure>\n";
    } else {
      body +=
          "<p class=\"note\">RSS over time needs the samples leakbench writes with "
          "<code>--series_out=DIR</code>; give that folder to leakreport with "
          "<code>--series DIR</code>. The chart below is drawn from the JSON alone: RSS "
          "before the first retry and after the last, and the fitted line.</p>\n";
    }
    body += "<figure>\n" + retry_svg + "</figure>\n";
    for (const auto& v : s.variants) {  // what the collector found held, as leakbench says
      if (!v.held.empty()) {
        body += fmt::format("<p class=\"held\">{}: {}</p>\n", escape(v.key), escape(v.held));
      }
    }
    for (const auto& d : data[i]) {
      if (in.series && d.samples.empty() && d.summary->error.empty()) {
        body += fmt::format(
            "<p class=\"note\">{}: no {} in the series folder; drawn from the "
            "JSON.</p>\n",
            escape(d.summary->key), escape(reports::series_file_name(d.summary->key)));
      }
      if (!d.summary->error.empty()) {
        body += fmt::format("<p class=\"error\">{} failed: {}</p>\n", escape(d.summary->key),
                            escape(d.summary->error));
      }
    }
  }
  out["index.html"] = html_page(page_title(r.source), body);
  out["summary.md"] = md;
  return out;
}

}  // namespace leakbench::report
