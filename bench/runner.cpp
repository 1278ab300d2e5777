#include "bench/runner.hpp"

#include "bench/interrupt.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "harness/brokers/memory_broker.hpp"
#include "harness/brokers/redis_broker.hpp"
#include "harness/measure/heap.hpp"
#include "harness/measure/rss.hpp"
#include "harness/measure/sampler.hpp"
#include "harness/measure/settle.hpp"
#include "harness/measure/trend.hpp"
#include "harness/middleware/asyncio_fixed.hpp"
#include "harness/middleware/asyncio_leaky.hpp"
#include "harness/middleware/inject_leak.hpp"
#include "harness/middleware/retries.hpp"
#include "harness/runtime/worker.hpp"

namespace leakbench::bench {
namespace {

namespace rt = runtime;
namespace br = brokers;
namespace lm = measure;
using clock = std::chrono::steady_clock;

std::atomic<bool> g_failed{false};
// The process's peak over every benchmark so far: resetting VmHWM per benchmark also resets
// what getrusage and /usr/bin/time report, so leakbench keeps the whole-run peak itself.
std::int64_t g_process_peak = 0;

// An attempt that takes longer than this is a bug in the model, not a slow machine.
constexpr auto k_attempt_deadline = std::chrono::seconds(120);

/// One quiescent sample, taken after a retry (round) finished and the loop drained.
lm::sample quiescent_sample(const lm::rss_reader& rss, clock::time_point start) {
  lm::settle(lm::settle_mode::trim);  // freed blocks must not linger as resident pages
  return lm::read_sample(rss, start);
}

/// Counts finished attempts; the benchmark thread waits on it.
class attempt_counter {
 public:
  void add() {
    {
      std::lock_guard lock(mutex_);
      ++finished_;
    }
    cv_.notify_all();
  }
  bool wait_for(std::uint64_t n, std::chrono::milliseconds deadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, deadline, [&] { return finished_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t finished_ = 0;
};

/// Shows retry i/N and RSS on a terminal once a benchmark has run a few seconds.
class progress {
 public:
  explicit progress(std::string name) : name_(std::move(name)), tty_(::isatty(2) == 1) {}
  ~progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  void update(std::size_t done, std::size_t total, std::int64_t rss) {
    const auto now = clock::now();
    if (!tty_ || now - start_ < std::chrono::seconds(3) ||
        now - last_ < std::chrono::milliseconds(200))
      return;
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\r\033[K%s: retry %zu/%zu, rss %s", name_.c_str(), done, total,
                 format_size(static_cast<double>(rss)).c_str());
  }

 private:
  std::string name_;
  bool tty_;
  bool shown_ = false;
  clock::time_point start_ = clock::now();
  clock::time_point last_{};
};

// main() has created and checked the directory.
void write_series(const options& opts, const std::string& file_name,
                  const std::vector<lm::sample>& retries,
                  const std::vector<lm::sample>& background) {
  const auto path = *opts.series_out / (file_name + ".csv");
  std::ofstream out(path);
  out << "kind,time_s,retry,rss_bytes,heap_bytes,malloc_heap_bytes\n";
  const auto row = [&out](const char* kind, std::string_view retry, const lm::sample& s) {
    out << fmt::format("{},{:.6f},{},{},{},{}\n", kind,
                       std::chrono::duration<double>(s.time).count(), retry, s.rss, s.heap,
                       s.malloc_heap);
  };
  for (std::size_t i = 0; i < retries.size(); ++i) row("retry", std::to_string(i), retries[i]);
  for (const auto& s : background) row("background", "", s);
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

std::unique_ptr<br::broker> make_broker(const options& opts) {
  if (opts.redis) return std::make_unique<br::redis_broker>(*opts.redis);  // a fresh key prefix
  return std::make_unique<br::memory_broker>();
}

std::shared_ptr<middleware::asyncio> make_asyncio(variant v) {
  if (v == variant::leaky) return std::make_shared<middleware::asyncio_leaky>();
  return std::make_shared<middleware::asyncio_fixed>();
}

/// Waits for `target` finished attempts and for every worker thread to park; returns why not,
/// if the broker failed or time ran out.
// Polled in slices so that a dead broker ends the benchmark within a slice plus the broker's
// own I/O timeout, instead of waiting out the deadline. Parking matters: a thread that has
// reported its attempt may still be freeing the report, and the sample must not see it.
std::optional<std::string> wait_for_round(attempt_counter& counter, rt::worker& worker,
                                          std::uint64_t target) {
  const auto failures = worker.broker_failures();
  const auto deadline = clock::now() + k_attempt_deadline;
  const auto timed_out = [] {
    return fmt::format("did not finish within {} s", k_attempt_deadline.count());
  };
  const auto broker_failed = [&]() -> std::optional<std::string> {
    if (worker.broker_failures() == failures) return std::nullopt;
    return "broker failed: " + worker.last_broker_error();
  };
  while (!counter.wait_for(target, std::chrono::milliseconds(100))) {
    if (auto why = broker_failed()) return why;
    if (clock::now() > deadline) return timed_out();
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
  if (!worker.wait_parked(std::max(left, std::chrono::milliseconds(0)))) return timed_out();
  // An attempt whose settling failed still counts as finished: its failure must not pass
  // unnoticed (its message went back to the queue, not on to its retry).
  return broker_failed();
}

void fail(benchmark::State& state, const std::string& why) {
  g_failed = true;
  state.SkipWithError(why.c_str());
}

}  // namespace

const char* to_string(variant v) { return v == variant::leaky ? "leaky" : "fixed"; }

bool any_benchmark_failed() { return g_failed.load(); }

namespace {

/// What one benchmark's run produced, for the counters.
struct run_record {
  std::vector<lm::sample> points;  // [0] before the first retry, [i] after retry i
  std::vector<lm::sample> background;
  std::size_t done = 0;
  bool ceiling_hit = false;
  std::int64_t reclaimed = 0;
  std::vector<rt::retention> retained;  // what the collector found the garbage held, by path
  std::int64_t peak_rss = 0;            // read before any analysis allocates
};

/// What held the benchmark's retained memory, from the collector's walk of the garbage:
/// "retains 32.0 MiB per exception via exc.__context__.payload", or that nothing was retained.
std::string retention_label(const run_record& rec) {
  if (rec.retained.empty()) {
    return rec.reclaimed > 0 ? "retains cycles that hold no exception" : "retains nothing";
  }
  const auto held = [](const rt::retention& r) {
    if (r.path.empty()) return std::string("only the exception's own objects, no data block");
    const double per = static_cast<double>(r.bytes) / static_cast<double>(r.exceptions);
    return fmt::format("{} per exception via {}", format_size(per), r.path);
  };
  std::string label = "retains " + held(rec.retained[0]);
  if (rec.retained.size() > 1) label += "; also " + held(rec.retained[1]);
  if (rec.retained.size() > 2) label += fmt::format(" and {} more", rec.retained.size() - 2);
  return label;
}

/// The highest RSS any sample saw: the peak when VmHWM cannot be reset (it misses spikes
/// shorter than the sampling interval).
std::int64_t sampled_peak(const run_record& rec) {
  std::int64_t peak = 0;
  for (const auto* v : {&rec.points, &rec.background}) {
    for (const auto& s : *v) peak = std::max(peak, s.rss);
  }
  return peak;
}

/// Runs the retries on a fresh broker and worker; returns why it failed, if it did.
std::optional<std::string> drive(benchmark::State& state, const scenarios::entry& entry,
                                 const scenarios::scenario& sc, variant v, const options& opts,
                                 run_record& rec) {
  const auto& cfg = opts.scenario;
  const std::size_t per_round = sc.messages(cfg);
  const auto enqueue_round = [&](br::broker& b) {
    for (std::size_t i = 0; i < per_round; ++i) b.enqueue(rt::message::make("default", entry.name));
  };
  const auto broker = make_broker(opts);
  rt::actor_registry actors;
  sc.define(actors, entry.name, cfg);
  attempt_counter counter;
  // Touched now, not one sample per retry later: else RSS grows by sizeof(sample) per retry.
  rec.points.resize(opts.retries + 1);
  rec.points.clear();
  double attempt_seconds = 0;
  std::optional<std::string> failure;

  rt::worker worker(*broker, actors, {.threads = per_round, .gc = opts.gc, .stepped = true});
  // Retries never run out during a run: the run decides how many attempts happen.
  const auto retry_cap =
      static_cast<std::uint32_t>(std::min<std::size_t>(opts.retries + 1, UINT32_MAX));
  worker.add(std::make_shared<middleware::retries>(
      middleware::retries_options{.max_retries = retry_cap, .min_backoff = {}, .max_backoff = {}}));
  worker.add(make_asyncio(v));
  if (opts.inject_leak > 0) worker.add(std::make_shared<middleware::inject_leak>(opts.inject_leak));
  worker.on_attempt_finished([&counter](const rt::attempt_report&) { counter.add(); });
  worker.start();
  if (sc.fails()) enqueue_round(*broker);
  lm::sampler sampler({.interval = opts.sample_interval, .capacity = 1 << 16});
  // Without a resettable VmHWM the sampler's maximum is the benchmark's peak.
  if (opts.series_out || !opts.peak_resettable) sampler.start();
  progress shown(fmt::format("{}/{}", entry.name, to_string(v)));
  const lm::rss_reader rss;
  const auto start = clock::now();
  if (!worker.wait_parked(k_attempt_deadline)) return "worker threads did not start";
  rec.points.push_back(quiescent_sample(rss, start));

  const auto allocated_per_round =
      sc.allocated_per_iteration(cfg) + static_cast<std::int64_t>(per_round * opts.inject_leak);
  for (auto _ : state) {
    if (const int sig = interrupted()) {  // a retry boundary: stop here, clean up, report
      failure = fmt::format("interrupted by {} after {} of {} retries", signal_name(sig), rec.done,
                            opts.retries);
      break;
    }
    if (rec.ceiling_hit || rec.points.back().rss + allocated_per_round > opts.max_rss) {
      // Keep the per-iteration time honest: unrun iterations report the mean of the run ones.
      rec.ceiling_hit = true;
      state.SetIterationTime(rec.done == 0 ? 0.0 : attempt_seconds / static_cast<double>(rec.done));
      continue;
    }
    const auto t0 = clock::now();
    if (!sc.fails()) enqueue_round(*broker);
    worker.allow(per_round);
    if ((failure = wait_for_round(counter, worker, (rec.done + 1) * per_round))) {
      failure = fmt::format("retry {}: {}", rec.done + 1, *failure);
      break;
    }
    const double seconds = std::chrono::duration<double>(clock::now() - t0).count();
    state.SetIterationTime(seconds);
    attempt_seconds += seconds;
    ++rec.done;
    rec.points.push_back(quiescent_sample(rss, start));
    shown.update(rec.done, opts.retries, rec.points.back().rss);
  }
  sampler.stop();
  rec.background = sampler.samples();
  rec.peak_rss = opts.peak_resettable ? lm::peak_rss() : sampled_peak(rec);
  worker.stop();  // collects: one benchmark's leak never bleeds into the next
  rec.reclaimed = worker.shutdown_collection().freed_bytes;
  rec.retained = worker.gc().retained();
  return failure;
}

/// Fits the per-retry trends and sets the counters; returns why not, if they cannot be fitted.
std::optional<std::string> report(benchmark::State& state, const scenarios::scenario& sc, variant v,
                                  const options& opts, const run_record& rec) {
  const auto& cfg = opts.scenario;
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
    heap_fit = lm::fit_trend(heap, warmup);
  } catch (const lm::trend_error& e) {
    return fmt::format("{} (ceiling hit after {} retries)", e.what(), rec.done);
  }

  using counter_t = benchmark::Counter;
  const auto bytes = [](double n) {
    return counter_t(n, counter_t::kDefaults, counter_t::kIs1024);
  };
  const double expected = v == variant::leaky ? static_cast<double>(sc.expected_leaky(cfg)) : 0.0;
  state.counters["rss_per_retry"] = bytes(rss_fit.slope);
  state.counters["rss_r2"] = rss_fit.r2;
  // Two points fit any line: no interval exists, and JSON has no Infinity. Left out, and said.
  const bool has_interval = rss_fit.points >= 3;
  if (has_interval) state.counters["rss_ci95"] = bytes(rss_fit.slope_ci95);
  state.counters["heap_per_retry"] = bytes(heap_fit.slope);
  state.counters["heap_r2"] = heap_fit.r2;
  // Outlier-robust companions of the least-squares slopes (median of pairwise slopes).
  state.counters["rss_theil_sen"] = bytes(rss_fit.theil_sen);
  state.counters["heap_theil_sen"] = bytes(heap_fit.theil_sen);
  if (has_interval) state.counters["heap_ci95"] = bytes(heap_fit.slope_ci95);
  state.counters["expected_per_retry"] = bytes(expected);
  state.counters["peak_rss"] = bytes(static_cast<double>(rec.peak_rss));
  g_process_peak = std::max(g_process_peak, rec.peak_rss);
  state.counters["process_peak_rss"] = bytes(static_cast<double>(g_process_peak));
  state.counters["retained"] =
      bytes(static_cast<double>(rec.points.back().rss - rec.points.front().rss));
  state.counters["rss_start"] = bytes(static_cast<double>(rec.points.front().rss));
  state.counters["rss_end"] = bytes(static_cast<double>(rec.points.back().rss));
  // The fit's x is 0 at the first retry's sample; a report draws it against retries counted
  // from 0 (the sample before the first retry), as --series_out numbers them.
  state.counters["rss_fit_start"] = bytes(rss_fit.intercept - rss_fit.slope);
  state.counters["reclaimed"] = bytes(static_cast<double>(rec.reclaimed));
  state.counters["retries"] = static_cast<double>(rec.done);
  state.counters["payload"] = bytes(static_cast<double>(cfg.payload));
  state.counters["ceiling_hit"] = rec.ceiling_hit ? 1 : 0;
  std::string label = retention_label(rec);
  if (!has_interval) {
    label += fmt::format(
        "; ceiling after {} retries: no rss_ci95/heap_ci95, a confidence interval needs 3 points",
        rec.done);
  }
  state.SetLabel(label);

  return std::nullopt;
}

}  // namespace

void run_scenario(benchmark::State& state, const scenarios::entry& entry, variant v,
                  const options& opts) {
  if (interrupted()) {
    state.SkipWithError(k_not_run);
    for (auto _ : state) {
    }  // not entered: the error ends it
    return;
  }
  const std::string label = fmt::format("{}/{}", entry.name, to_string(v));
  // Preserved between benchmarks: nothing. Each starts from a collected, trimmed heap.
  lm::settle(lm::settle_mode::trim);
  g_process_peak = std::max(g_process_peak, lm::peak_rss());  // before the reset loses it
  if (opts.peak_resettable) lm::reset_peak_rss(opts.clear_refs.c_str());
  try {
    const auto sc = entry.make();
    run_record rec;
    auto failure = drive(state, entry, *sc, v, opts, rec);
    if (!failure) failure = report(state, *sc, v, opts, rec);
    if (!failure && opts.series_out) {
      std::string file = fmt::format("{}_{}", entry.name, to_string(v));
      // Repetitions run one benchmark several times: one file each, numbered from 0.
      static std::map<std::string, std::size_t> runs;  // preserved between repetitions!
      const std::size_t repetition = runs[file]++;
      if (opts.repetitions > 1) file += fmt::format("_rep{}", repetition);
      write_series(opts, file, rec.points, rec.background);
    }
    if (failure) fail(state, fmt::format("{}: {}", label, *failure));
  } catch (const std::exception& e) {  // a broker that died under enqueue, a full disk, ...
    fail(state, fmt::format("{}: {}", label, e.what()));
  }
}

}  // namespace leakbench::bench
