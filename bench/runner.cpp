#include "bench/runner.hpp"

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <numeric>
#include <sstream>
#include <string_view>

#include "bench/counters.hpp"
#include "bench/interrupt.hpp"
#include "common/output_file.hpp"
#include "harness/measure/rss.hpp"

namespace leakbench::bench {
namespace {

namespace lm = measure;

std::atomic<bool> g_failed{false};
// The highest peak of any benchmark so far: each runs in its own process, so the run's peak
// is no single process's VmHWM.
std::int64_t g_process_peak = 0;

void fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}

// main() has created and checked the directory. Without a heap counter (a worker measured from
// outside) the heap fields are left empty, the header kept. Written whole or not at all.
void write_series(const options& opts, const std::string& file_name, const run_record& rec) {
  const auto path = *opts.series_out / (file_name + ".csv");
  std::ostringstream out;
  out << "kind,time_s,retry,rss_bytes,heap_bytes,malloc_heap_bytes\n";
  const auto row = [&](const char* kind, std::string_view retry, const lm::sample& s) {
    const auto heap = rec.has_heap ? fmt::format("{},{}", s.heap, s.malloc_heap) : ",";
    out << fmt::format("{},{:.6f},{},{},{}\n", kind, std::chrono::duration<double>(s.time).count(),
                       retry, s.rss, heap);
  };
  for (std::size_t i = 0; i < rec.points.size(); ++i)
    row("retry", std::to_string(i), rec.points[i]);
  for (const auto& s : rec.background) row("background", "", s);
  common::write_output(path, out.str());
}

}  // namespace

bool any_benchmark_failed() { return g_failed.load(); }

std::int64_t expected_per_retry(const scenarios::scenario& sc, const std::string& variant,
                                const options& opts) {
  return variant == "leaky" ? sc.expected_leaky(opts.scenario) : 0;
}

void run_scenario(benchmark::State& state, target& t, const scenarios::entry& entry,
                  const std::string& variant, const options& opts) {
  const std::string name = fmt::format("{}/{}", entry.name, variant);
  if (interrupted()) {
    state.SkipWithError(k_not_run);
    for (auto _ : state) {
    }  // not entered: the error ends it
    return;
  }
  try {
    const auto sc = entry.make();
    const run_record rec = t.run(entry, variant, opts);
    g_process_peak = std::max(g_process_peak, rec.peak_rss);
    if (rec.failure) {
      fail(state, fmt::format("{}: {}", name, *rec.failure));
      for (auto _ : state) {
      }  // not entered: the error ends it
      return;
    }
    // The retries ran in the benchmark's own process: each iteration reports its retry's time;
    // those the ceiling cut off report the mean of the rest, keeping the time per retry honest.
    const double mean =
        rec.done == 0 ? 0.0
                      : std::accumulate(rec.retry_seconds.begin(), rec.retry_seconds.end(), 0.0) /
                            static_cast<double>(rec.done);
    std::size_t i = 0;
    for (auto _ : state) {
      state.SetIterationTime(i < rec.retry_seconds.size() ? rec.retry_seconds[i] : mean);
      ++i;
    }
    const double expected = static_cast<double>(expected_per_retry(*sc, variant, opts));
    if (auto why = set_counters(state, rec, expected, g_process_peak, opts)) {
      fail(state, fmt::format("{}: {}", name, *why));
      return;
    }
    if (opts.series_out) {
      std::string file = fmt::format("{}_{}", entry.name, variant);
      // Repetitions run one benchmark several times: one file each, numbered from 0.
      static std::map<std::string, std::size_t> runs;  // preserved between repetitions!
      const std::size_t repetition = runs[file]++;
      if (opts.repetitions > 1) file += fmt::format("_rep{}", repetition);
      write_series(opts, file, rec);
    }
  } catch (const std::exception& e) {  // a process that could not start, a full disk, ...
    fail(state, fmt::format("{}: {}", name, e.what()));
  }
}

}  // namespace leakbench::bench
