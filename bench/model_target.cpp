// The model target. The parent side starts a child leakbench per benchmark and reads back its
// record; the child side runs the retries on a fresh broker and worker, sampled at quiescent
// points, exactly as one benchmark ran in-process before.
#include "bench/model_target.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "bench/child_process.hpp"
#include "bench/interrupt.hpp"
#include "bench/retry_loop.hpp"
#include "harness/brokers/memory_broker.hpp"
#include "harness/brokers/redis_broker.hpp"
#include "harness/measure/rss.hpp"
#include "harness/measure/settle.hpp"
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

std::unique_ptr<br::broker> make_broker(const options& opts) {
  if (opts.redis) return std::make_unique<br::redis_broker>(*opts.redis);  // a fresh key prefix
  return std::make_unique<br::memory_broker>();
}

std::shared_ptr<middleware::asyncio> make_asyncio(std::string_view variant) {
  if (variant == "leaky") return std::make_shared<middleware::asyncio_leaky>();
  return std::make_shared<middleware::asyncio_fixed>();
}

/// Waits for `target` finished attempts and for every worker thread to park; returns why not,
/// if the broker failed or time ran out.
// Polled in slices so that a dead broker ends the benchmark within a slice plus the broker's
// own I/O timeout, instead of waiting out the deadline. Parking matters: a thread that has
// reported its attempt may still be freeing the report, and the sample must not see it.
std::optional<std::string> wait_for_round(attempt_counter& counter, rt::worker& worker,
                                          std::uint64_t target, std::chrono::seconds timeout) {
  const auto failures = worker.broker_failures();
  const auto deadline = clock::now() + timeout;
  const auto timed_out = [timeout] {
    return fmt::format("did not finish within {} s", timeout.count());
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

/// Runs the retries on a fresh broker and worker; returns why it failed, if it did.
std::optional<std::string> drive(const scenarios::entry& entry, const scenarios::scenario& sc,
                                 std::string_view variant, const options& opts,
                                 bool peak_resettable, run_record& rec) {
  const auto& cfg = opts.scenario;
  const std::size_t per_round = sc.messages(cfg);
  const auto enqueue_round = [&](br::broker& b) {
    for (std::size_t i = 0; i < per_round; ++i) b.enqueue(rt::message::make("default", entry.name));
  };
  const auto broker = make_broker(opts);
  rt::actor_registry actors;
  sc.define(actors, entry.name, cfg);
  attempt_counter counter;
  rec.reserve(opts.retries);

  rt::worker worker(*broker, actors, {.threads = per_round, .gc = opts.gc, .stepped = true});
  // Retries never run out during a run: the run decides how many attempts happen.
  const auto retry_cap =
      static_cast<std::uint32_t>(std::min<std::size_t>(opts.retries + 1, UINT32_MAX));
  worker.add(std::make_shared<middleware::retries>(
      middleware::retries_options{.max_retries = retry_cap, .min_backoff = {}, .max_backoff = {}}));
  worker.add(make_asyncio(variant));
  if (opts.inject_leak > 0) worker.add(std::make_shared<middleware::inject_leak>(opts.inject_leak));
  worker.on_attempt_finished([&counter](const rt::attempt_report&) { counter.add(); });
  worker.start();
  if (sc.fails()) enqueue_round(*broker);
  lm::sampler sampler({.interval = opts.sample_interval, .capacity = 1 << 16});
  // Without a resettable VmHWM the sampler's maximum is the benchmark's peak.
  if (opts.series_out || !peak_resettable) sampler.start();
  const lm::rss_reader rss;
  const auto start = clock::now();
  if (!worker.wait_parked(opts.attempt_timeout)) return "worker threads did not start";
  lm::settle(lm::settle_mode::trim);  // freed blocks must not linger as resident pages
  rec.points.push_back(lm::read_sample(rss, start));
  if (peak_resettable) lm::reset_peak_rss(opts.clear_refs.c_str());

  const auto allocated_per_round =
      sc.allocated_per_iteration(cfg) + static_cast<std::int64_t>(per_round * opts.inject_leak);
  run_retries(rec, opts, allocated_per_round, fmt::format("{}/{}", entry.name, variant),
              {.attempt =
                   [&] {
                     if (!sc.fails()) enqueue_round(*broker);
                     worker.allow(per_round);
                     if (auto why = wait_for_round(counter, worker, (rec.done + 1) * per_round,
                                                   opts.attempt_timeout)) {
                       throw std::runtime_error(*why);
                     }
                   },
               .settle = [] { lm::settle(lm::settle_mode::trim); },
               .sample = [&] { return lm::read_sample(rss, start); }});
  sampler.stop();
  rec.background = sampler.samples();
  rec.peak_rss = peak_resettable ? lm::peak_rss() : rec.highest_sampled_rss();
  worker.stop();  // collects: what the garbage held is named before it is freed
  rec.reclaimed = worker.shutdown_collection().freed_bytes;
  rec.retained = worker.gc().retained();
  return rec.failure;
}

std::string self_exe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::system_error(ec, "cannot find leakbench's own executable");
  return p.string();
}

}  // namespace

std::string model_malloc_tuning() {
  // tcache keeps freed blocks per thread and per size out of every count (mallinfo calls them
  // in use) and makes RSS drift for a dozen retries; one arena keeps freed memory where
  // malloc_trim reaches it; no trim threshold or top pad returns the top at once.
  return "glibc.malloc.arena_max=1:glibc.malloc.tcache_count=0:glibc.malloc.trim_threshold=0:"
         "glibc.malloc.top_pad=0:glibc.malloc.mmap_threshold=131072";
}

run_record model_target::run(const scenarios::entry& scenario, const std::string& variant,
                             const options& opts) {
  spawn_options so;
  so.argv = {self_exe(), fmt::format("{}{}/{}", k_child_flag, scenario.name, variant)};
  for (const auto& a : opts.given) so.argv.push_back(a);
  so.argv.push_back(fmt::format("--max_rss={}", opts.max_rss));  // resolved once, here
  const char* user = std::getenv("GLIBC_TUNABLES");
  so.env.push_back(fmt::format("GLIBC_TUNABLES={}{}{}", user != nullptr ? user : "",
                               user != nullptr && *user != '\0' ? ":" : "", model_malloc_tuning()));
  so.record_fd = k_record_fd;
  so.forward_signals = true;
  child_process child(so);
  const std::string text = read_all(child.record_fd());
  const int status = child.wait();
  if (text.empty()) {
    run_record rec;
    rec.failure = interrupted() ? fmt::format("interrupted by {} after 0 of {} retries",
                                              signal_name(interrupted()), opts.retries)
                                : fmt::format("its process {} without a result",
                                              child_process::describe(status));
    return rec;
  }
  return decode_record(text);
}

int child_main(std::string_view benchmark, const std::vector<std::string_view>& args) {
  install_interrupt_handlers(/*quiet=*/true);  // the parent forwards signals and speaks
  const auto slash = benchmark.rfind('/');
  const std::string name(benchmark.substr(0, slash));
  const std::string variant(slash == std::string_view::npos ? "" : benchmark.substr(slash + 1));
  run_record rec;
  try {
    options opts = parse_options(args);
    if (const char* path = std::getenv("LEAKBENCH_CLEAR_REFS")) opts.clear_refs = path;
    if (!measure::tune_allocator()) throw std::runtime_error("glibc refused mallopt");
    const bool peak_resettable = measure::reset_peak_rss(opts.clear_refs.c_str());
    const auto all = scenarios::all();
    const auto entry =
        std::find_if(all.begin(), all.end(), [&](const auto& e) { return e.name == name; });
    if (entry == all.end() || (variant != "leaky" && variant != "fixed")) {
      throw std::runtime_error(fmt::format("no benchmark {}", benchmark));
    }
    const auto sc = entry->make();
    rec.failure = drive(*entry, *sc, variant, opts, peak_resettable, rec);
  } catch (const std::exception& e) {  // a broker that died under enqueue, ...
    rec.failure = e.what();
  }
  const std::string text = encode_record(rec);
  for (std::size_t at = 0; at < text.size();) {
    const ssize_t n = ::write(k_record_fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 1;
    at += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace leakbench::bench
