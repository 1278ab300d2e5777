#include "bench/counters.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <vector>

#include "harness/measure/trend.hpp"

namespace leakbench::bench {
namespace {

namespace lm = measure;

}  // namespace

std::string retention_label(const run_record& rec) {
  if (rec.retained.empty()) {
    return rec.reclaimed > 0 ? "retains cycles that hold no exception" : "retains nothing";
  }
  const auto held = [](const runtime::retention& r) {
    if (r.path.empty()) return std::string("only the exception's own objects, no data block");
    const double per = static_cast<double>(r.bytes) / static_cast<double>(r.exceptions);
    return fmt::format("{} per exception via {}", format_size(per), r.path);
  };
  std::string label = "retains " + held(rec.retained[0]);
  if (rec.retained.size() > 1) label += "; also " + held(rec.retained[1]);
  if (rec.retained.size() > 2) label += fmt::format(" and {} more", rec.retained.size() - 2);
  return label;
}

std::optional<std::string> set_counters(benchmark::State& state, const run_record& rec,
                                        double expected, std::int64_t process_peak,
                                        const options& opts) {
  if (rec.ceiling_hit && rec.done < 2) {
    return fmt::format(
        "memory ceiling {} reached after {} {}: a slope needs at least 2; raise --max_rss or "
        "lower --payload",
        format_size(static_cast<double>(opts.max_rss)), rec.done,
        rec.done == 1 ? "retry" : "retries");
  }
  std::vector<double> rss, heap;
  for (std::size_t i = 1; i < rec.points.size(); ++i) {
    rss.push_back(static_cast<double>(rec.points[i].rss));
    heap.push_back(static_cast<double>(rec.points[i].heap));
  }
  // With the ceiling hit, keep as much of the warm-up as leaves a fit possible.
  const std::size_t warmup = std::min(opts.warmup, rss.size() >= 3 ? rss.size() - 3 : 0);
  lm::trend rss_fit, heap_fit;
  try {
    rss_fit = lm::fit_trend(rss, warmup);
    if (rec.has_heap) heap_fit = lm::fit_trend(heap, warmup);
  } catch (const lm::trend_error& e) {
    return fmt::format("{} (ceiling hit after {} retries)", e.what(), rec.done);
  }

  using counter_t = benchmark::Counter;
  const auto bytes = [](double n) {
    return counter_t(n, counter_t::kDefaults, counter_t::kIs1024);
  };
  auto& c = state.counters;
  c["rss_per_retry"] = bytes(rss_fit.slope);
  c["rss_r2"] = rss_fit.r2;
  // Two points fit any line: no interval exists, and JSON has no Infinity. Left out, and said.
  const bool has_interval = rss_fit.points >= 3;
  // RSS moves in pages and what the allocator keeps or reuses puts samples off the line by a
  // bounded amount: the interval covers both (docs/counters.md).
  static const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  if (has_interval) c["rss_ci95"] = bytes(lm::bounded_slope_ci95(rss_fit, page));
  // Outlier-robust companion of the least-squares slope (median of pairwise slopes).
  c["rss_theil_sen"] = bytes(rss_fit.theil_sen);
  if (rec.has_heap) {  // exact to the byte: the textbook interval
    c["heap_per_retry"] = bytes(heap_fit.slope);
    c["heap_r2"] = heap_fit.r2;
    c["heap_theil_sen"] = bytes(heap_fit.theil_sen);
    if (has_interval) c["heap_ci95"] = bytes(heap_fit.slope_ci95);
    c["reclaimed"] = bytes(static_cast<double>(rec.reclaimed));
  }
  c["expected_per_retry"] = bytes(expected);
  c["peak_rss"] = bytes(static_cast<double>(rec.peak_rss));
  c["process_peak_rss"] = bytes(static_cast<double>(process_peak));
  c["retained"] = bytes(static_cast<double>(rec.points.back().rss - rec.points.front().rss));
  c["rss_start"] = bytes(static_cast<double>(rec.points.front().rss));
  c["rss_end"] = bytes(static_cast<double>(rec.points.back().rss));
  // The fit's x is 0 at the first retry's sample; a report draws it against retries counted
  // from 0 (the sample before the first retry), as --series_out numbers them.
  c["rss_fit_start"] = bytes(rss_fit.intercept - rss_fit.slope);
  c["retries"] = static_cast<double>(rec.done);
  c["payload"] = bytes(static_cast<double>(opts.scenario.payload));
  c["ceiling_hit"] = rec.ceiling_hit ? 1 : 0;
  if (rec.outcomes) {  // a real worker's attempts, whatever their outcome, and the app's sends
    c["attempts_failed"] = static_cast<double>(rec.outcomes->failed);
    c["attempts_succeeded"] = static_cast<double>(rec.outcomes->succeeded);
    c["attempts_skipped"] = static_cast<double>(rec.outcomes->skipped);
    c["app_enqueued"] = static_cast<double>(rec.outcomes->enqueued_elsewhere);
  }
  c["harness_time_per_retry"] =
      rec.done == 0 ? 0.0 : rec.harness_seconds / static_cast<double>(rec.done);
  std::string label = retention_label(rec);
  // Cyclic garbage held by no exception (an app's own cycles) waits for the collector, which
  // --gc=off never runs: say so first, with its size per attempt.
  if (rec.outcomes && rec.retained.empty() && !opts.python_gc && rec.done > 0 &&
      rec.outcomes->garbage_bytes >= static_cast<std::int64_t>(rec.done) * 256) {
    label = fmt::format(
        "makes {} of cyclic garbage per attempt, which --gc={} keeps (--gc=python shows what "
        "production keeps); {}",
        format_size(static_cast<double>(rec.outcomes->garbage_bytes) /
                    static_cast<double>(rec.done)),
        opts.gc.to_string(), label);
  }
  if (opts.inject_leak > 0) {  // held by no exception, so the walk cannot name it: say it here
    label += fmt::format("; the injected leak keeps {} per attempt",
                         format_size(static_cast<double>(opts.inject_leak)));
  }
  if (!has_interval) {
    label += fmt::format(
        "; ceiling after {} retries: no rss_ci95/heap_ci95, a confidence interval needs 3 points",
        rec.done);
  }
  state.SetLabel(label);
  return std::nullopt;
}

}  // namespace leakbench::bench
