#include "reports/report/summary.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "reports/report/html.hpp"
#include "reports/report/svg_chart.hpp"
#include "reports/results/estimate.hpp"
#include "reports/results/text.hpp"
#include "reports/results/units.hpp"

namespace leakbench::report {
namespace {

constexpr double k_mib = 1024.0 * 1024.0;

std::optional<double> mean_of(const std::vector<const reports::benchmark_row*>& reps,
                              const std::string& counter) {
  const auto e = reports::combined(reps, counter, "");
  return e ? std::optional<double>(e->value) : std::nullopt;
}

variant_summary summarize_variant(const reports::run& r, const std::string& key) {
  variant_summary v;
  v.key = key;
  const auto slash = key.rfind('/');
  v.variant = slash == std::string::npos ? "" : key.substr(slash + 1);
  const auto reps = r.repetitions_of(key);
  v.repetitions = reps.size();
  for (const auto* row : reps) {
    if (row->error_occurred) v.error = row->error_message.empty() ? "failed" : row->error_message;
  }
  if (!v.error.empty()) return v;
  // leakbench's label starts with what the collector found held; a ceiling's note may follow.
  if (!reps.empty() && reps.front()->label.starts_with("retains ")) {
    v.held = reps.front()->label.substr(0, reps.front()->label.find("; ceiling"));
  }
  if (const auto g = reports::combined(reps, "rss_per_retry", "rss_ci95")) {
    v.growth = g->value;
    v.half_width = g->half_width;
  }
  v.start = mean_of(reps, "rss_start");
  v.end = mean_of(reps, "rss_end");
  v.peak = mean_of(reps, "peak_rss");
  v.expected = mean_of(reps, "expected_per_retry");
  v.r2 = mean_of(reps, "rss_r2");
  v.retained = mean_of(reps, "retained");
  v.reclaimed = mean_of(reps, "reclaimed");
  v.payload = mean_of(reps, "payload");
  v.retries = mean_of(reps, "retries");
  // Means of intercepts and slopes: the line of the repetitions' mean, as growth is.
  v.fit_start = mean_of(reps, "rss_fit_start");
  if (v.growth && v.payload) v.level = classify(*v.growth, v.half_width.value_or(0), *v.payload);
  return v;
}

/// The worst verdict of the gate's checks of `v`, and the rules behind it; the severity raised
/// to low where the gate fails what it would call none.
void add_verdict(variant_summary& v, const gate::evaluation& e) {
  std::optional<gate::verdict> worst;
  std::vector<std::string> why;
  for (const auto& c : e.checks) {
    if (c.benchmark != v.key) continue;
    worst = worst ? gate::worst(*worst, c.outcome) : c.outcome;
    if (c.outcome == gate::verdict::fail || c.outcome == gate::verdict::inconclusive) {
      why.push_back(fmt::format("{}: {}", c.rule_name, c.reason));
    }
  }
  if (!worst) return;
  v.verdict = gate::to_string(*worst);
  v.verdict_why = fmt::format("{}", fmt::join(why, "; "));
  if (*worst == gate::verdict::fail && v.growth && v.payload) {
    v.level = classify(*v.growth, v.half_width.value_or(0), *v.payload, true);
  }
}

/// A number cell: shown as `shown`, exact in data-value and on hover.
std::string cell(const std::optional<double>& v, const std::string& shown,
                 const std::string& cls = "") {
  const std::string klass = cls.empty() ? "" : fmt::format(" class=\"{}\"", cls);
  if (!v) return fmt::format("<td{}>–</td>", klass);
  return fmt::format("<td{} data-value=\"{:.17g}\" title=\"{:.17g}\">{}</td>", klass, *v, *v,
                     escape(shown));
}

std::string mib(const std::optional<double>& v) {
  return v ? fmt::format("{:.1f}", *v / k_mib) : "–";
}
std::string bytes(const std::optional<double>& v) { return v ? reports::format_bytes(*v) : "–"; }
std::string r2(const std::optional<double>& v) { return v ? fmt::format("{:.3f}", *v) : "–"; }

/// One number column of the summary: its heading, and its value and text for a variant.
struct column {
  std::string_view head;
  std::optional<double> value;
  std::string shown;
};

/// The number cells of one variant's row, in column order, shared by HTML and Markdown.
std::vector<column> columns(const variant_summary& v, table_columns t) {
  std::vector<column> out = {
      {"start RSS (MiB)", v.start, mib(v.start)},
      {"end RSS (MiB)", v.end, mib(v.end)},
      {"peak RSS (MiB)", v.peak, mib(v.peak)},
      {"growth / retry", v.growth, bytes(v.growth)},
      {"expected", v.expected, bytes(v.expected)},
      {"±95%", v.half_width, v.half_width ? "± " + bytes(v.half_width) : "–"},
      {"R²", v.r2, r2(v.r2)},
      {"retained", v.retained, bytes(v.retained)},
  };
  if (t.heap) out.push_back({"reclaimed", v.reclaimed, bytes(v.reclaimed)});
  return out;
}

/// The headings after scenario and variant: the number columns, severity, verdict.
std::vector<std::string_view> heads(table_columns t) {
  std::vector<std::string_view> out;
  for (const auto& c : columns(variant_summary{}, t)) out.push_back(c.head);
  out.push_back("severity");
  if (t.verdict) out.push_back("verdict");
  return out;
}

const variant_summary* find(const std::vector<scenario_summary>& all, const std::string& key) {
  for (const auto& s : all) {
    for (const auto& v : s.variants) {
      if (v.key == key) return &v;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<scenario_summary> summarize(const reports::run& r, const gate::evaluation* verdicts) {
  std::vector<scenario_summary> out;
  bool leakbench = false;
  for (const auto& key : r.keys()) {
    const auto slash = key.rfind('/');
    const std::string scenario = slash == std::string::npos ? key : key.substr(0, slash);
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const scenario_summary& s) { return s.name == scenario; });
    if (it == out.end()) it = out.insert(out.end(), scenario_summary{scenario, {}});
    auto v = summarize_variant(r, key);
    if (verdicts != nullptr) add_verdict(v, *verdicts);
    leakbench = leakbench || v.growth || !v.error.empty();
    it->variants.push_back(std::move(v));
  }
  if (!leakbench) {
    throw reports::input_error(fmt::format(
        "{}: no benchmark carries leakbench's rss_per_retry counter: not a leakbench run",
        r.source));
  }
  for (auto& s : out) {
    std::stable_sort(s.variants.begin(), s.variants.end(), [](const auto& a, const auto& b) {
      return a.variant == "leaky" && b.variant != "leaky";
    });
  }
  return out;
}

std::string summary_html(const std::vector<scenario_summary>& scenarios, table_columns shown) {
  std::string out =
      "<table class=\"summary\">\n<thead><tr><th scope=\"col\" class=\"name\">scenario</th>"
      "<th scope=\"col\" class=\"name\">variant</th>";
  const auto titles = heads(shown);
  for (const auto h : titles) {
    const bool words = h == "severity" || h == "verdict";
    out += fmt::format("<th scope=\"col\"{}>{}</th>", words ? " class=\"name\"" : "", escape(h));
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& s : scenarios) {
    for (std::size_t i = 0; i < s.variants.size(); ++i) {
      const auto& v = s.variants[i];
      out += fmt::format("<tr{} data-benchmark=\"{}\">", i == 0 ? " class=\"first\"" : "",
                         escape(v.key));
      if (i == 0) {
        out += fmt::format("<td class=\"name\" rowspan=\"{}\"><a href=\"#{}\">{}</a></td>",
                           s.variants.size(), html_id(s.name), escape(s.name));
      }
      out += fmt::format("<td class=\"name\">{}</td>", escape(v.variant));
      if (!v.error.empty()) {
        out += fmt::format("<td class=\"name error\" colspan=\"{}\">failed: {}</td></tr>\n",
                           titles.size(), escape(v.error));
        continue;
      }
      for (const auto& c : columns(v, shown)) out += cell(c.value, c.shown);
      out += fmt::format("<td class=\"name sev-{0}\">{0}</td>", to_string(v.level));
      if (shown.verdict) {
        const std::string title =
            v.verdict_why.empty() ? "" : fmt::format(" title=\"{}\"", escape(v.verdict_why));
        const std::string tone = v.verdict == "FAIL"           ? " v-fail"
                                 : v.verdict == "inconclusive" ? " v-inconclusive"
                                                               : "";
        out += fmt::format("<td class=\"name verdict{}\"{}>{}</td>", tone, title,
                           v.verdict.empty() ? "–" : escape(v.verdict));
      }
      out += "</tr>\n";
    }
  }
  out += "</tbody>\n</table>\n";
  out += fmt::format("<p class=\"note\">{}</p>\n", escape(severity_thresholds()));
  return out;
}

std::string summary_markdown(const std::vector<scenario_summary>& scenarios, table_columns shown) {
  const auto titles = heads(shown);
  std::string out = fmt::format("| scenario | variant | {} |\n|---|---|", fmt::join(titles, " | "));
  for (const auto h : titles) out += h == "severity" || h == "verdict" ? "---|" : "---:|";
  out += "\n";
  for (const auto& s : scenarios) {
    for (std::size_t i = 0; i < s.variants.size(); ++i) {
      const auto& v = s.variants[i];
      out += fmt::format("| {} | {} |", i == 0 ? reports::markdown_escape(s.name) : "",
                         reports::markdown_escape(v.variant));
      if (!v.error.empty()) {
        out += fmt::format(" failed: {} |", reports::markdown_escape(v.error));
        for (std::size_t k = 1; k < titles.size(); ++k) out += " |";
        out += "\n";
        continue;
      }
      for (const auto& c : columns(v, shown)) {
        out += fmt::format(" {} |", reports::markdown_escape(c.shown));
      }
      out += fmt::format(" {} |", to_string(v.level));
      if (shown.verdict) {
        out += fmt::format(" {} |", v.verdict.empty() ? "–" : reports::markdown_escape(v.verdict));
      }
      out += "\n";
    }
  }
  out += fmt::format("\n{}\n", severity_thresholds());
  return out;
}

std::string held_markdown(const std::vector<scenario_summary>& scenarios) {
  std::string out;
  for (const auto& s : scenarios) {
    for (const auto& v : s.variants) {
      if (!v.held.empty()) {
        out += fmt::format("- {}: {}\n", reports::markdown_escape(v.key),
                           reports::markdown_escape(v.held));
      }
    }
  }
  return out.empty() ? out : "\n## What holds the memory\n\n" + out;
}

namespace {

struct change_row {
  std::string scenario, variant;
  std::optional<double> before, now;
};

std::vector<change_row> changes(const std::vector<scenario_summary>& now,
                                const std::vector<scenario_summary>& before) {
  std::vector<change_row> rows;
  for (const auto& s : now) {
    for (const auto& v : s.variants) {
      const auto* b = find(before, v.key);
      rows.push_back({s.name, v.variant, b ? b->growth : std::nullopt, v.growth});
    }
  }
  for (const auto& s : before) {
    for (const auto& v : s.variants) {
      if (find(now, v.key) == nullptr) rows.push_back({s.name, v.variant, v.growth, std::nullopt});
    }
  }
  return rows;
}

std::string change_text(const change_row& r) {
  if (!r.before || !r.now) return r.before ? "gone" : "new";
  const double d = *r.now - *r.before;
  std::string text = fmt::format("{}{}", d >= 0 ? "+" : "", reports::format_bytes(d));
  if (std::abs(*r.before) >= 1024) text += fmt::format(" ({:+.1f}%)", 100 * d / *r.before);
  return text;
}

}  // namespace

std::string baseline_html(const std::vector<scenario_summary>& now,
                          const std::vector<scenario_summary>& before) {
  std::string out =
      "<table class=\"baseline\">\n<thead><tr><th scope=\"col\" class=\"name\">scenario</th>"
      "<th scope=\"col\" class=\"name\">variant</th><th scope=\"col\">baseline growth / "
      "retry</th><th scope=\"col\">growth / retry</th><th scope=\"col\">change</th></tr>"
      "</thead>\n<tbody>\n";
  for (const auto& r : changes(now, before)) {
    const std::optional<double> delta =
        r.before && r.now ? std::optional<double>(*r.now - *r.before) : std::nullopt;
    out += fmt::format("<tr><td class=\"name\">{}</td><td class=\"name\">{}</td>{}{}{}</tr>\n",
                       escape(r.scenario), escape(r.variant), cell(r.before, bytes(r.before)),
                       cell(r.now, bytes(r.now)), cell(delta, change_text(r)));
  }
  return out + "</tbody>\n</table>\n";
}

std::string baseline_markdown(const std::vector<scenario_summary>& now,
                              const std::vector<scenario_summary>& before) {
  std::string out =
      "| scenario | variant | baseline growth / retry | growth / retry | change |\n"
      "|---|---|---:|---:|---:|\n";
  for (const auto& r : changes(now, before)) {
    out += fmt::format("| {} | {} | {} | {} | {} |\n", reports::markdown_escape(r.scenario),
                       reports::markdown_escape(r.variant), bytes(r.before), bytes(r.now),
                       change_text(r));
  }
  return out;
}

}  // namespace leakbench::report
