#include "bench/retry_loop.hpp"

#include <fmt/format.h>

#include <chrono>

#include "bench/interrupt.hpp"
#include "bench/progress.hpp"

namespace leakbench::bench {

void run_retries(run_record& rec, const options& opts, std::int64_t allocated_per_round,
                 const std::string& name, const retry_steps& steps) {
  using clock = std::chrono::steady_clock;
  progress shown(name);
  while (rec.done < opts.retries) {
    if (const int sig = interrupted()) {  // a retry boundary: stop here, clean up, report
      rec.failure = fmt::format("interrupted by {} after {} of {} retries", signal_name(sig),
                                rec.done, opts.retries);
      return;
    }
    if (rec.points.back().rss + allocated_per_round > opts.max_rss) {
      rec.ceiling_hit = true;
      return;
    }
    try {
      const auto t0 = clock::now();
      steps.attempt();
      const auto t1 = clock::now();
      steps.settle();
      rec.points.push_back(steps.sample());
      rec.harness_seconds += std::chrono::duration<double>(clock::now() - t1).count();
      rec.retry_seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
    } catch (const std::exception& e) {
      rec.failure = fmt::format("retry {}: {}", rec.done + 1, e.what());
      return;
    }
    ++rec.done;
    shown.update(rec.done, opts.retries, rec.points.back().rss);
  }
}

}  // namespace leakbench::bench
