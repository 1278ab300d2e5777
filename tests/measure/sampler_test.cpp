#include "harness/measure/sampler.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace lm = leakbench::measure;
using namespace std::chrono_literals;

namespace {
// Waits (without a time bound on correctness) until the sampler has recorded `n` samples.
bool wait_for_samples(const lm::sampler& s, std::size_t n) {
  for (int i = 0; i < 30000; ++i) {  // 30 s: a safety net, never expected to be reached
    if (s.samples().size() >= n) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}
}  // namespace

TEST(sampler, records_at_its_interval_never_earlier) {
  lm::sampler s({.interval = 5ms, .capacity = 1024});
  s.start();
  ASSERT_TRUE(wait_for_samples(s, 6));
  s.stop();
  const auto samples = s.samples();
  ASSERT_GE(samples.size(), 6u);
  EXPECT_LT(samples.front().time, 5ms);  // the first sample is immediate
  for (std::size_t i = 0; i < samples.size(); ++i) {
    // Sample i is taken no earlier than its slot on the grid.
    EXPECT_GE(samples[i].time, 5ms * static_cast<int>(i)) << "sample " << i;
    EXPECT_GT(samples[i].rss, 0);
    EXPECT_GT(samples[i].malloc_heap, 0);
  }
}

TEST(sampler, stop_interrupts_the_wait_instead_of_sleeping_it_out) {
  lm::sampler s({.interval = 60s, .capacity = 16});
  s.start();
  ASSERT_TRUE(wait_for_samples(s, 1));
  const auto begin = std::chrono::steady_clock::now();
  s.stop();
  // A sleeping-out sampler would take 60 s here; the bound is a fraction of that, not a speed test.
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 30s);
  EXPECT_EQ(s.samples().size(), 1u);
}

TEST(sampler, stays_within_capacity_by_decimating_evenly) {
  lm::sampler s({.interval = 1ms, .capacity = 8});
  s.start();
  while (s.interval() < 8ms) std::this_thread::sleep_for(1ms);
  s.stop();
  const auto samples = s.samples();
  EXPECT_LE(samples.size(), 8u);
  ASSERT_GE(samples.size(), 2u);
  const auto step = s.interval();
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_GE(samples[i].time, step * static_cast<int>(i)) << "sample " << i;
  }
}

TEST(sampler, a_restart_drops_the_old_series) {
  lm::sampler s({.interval = 1ms, .capacity = 256});
  s.start();
  ASSERT_TRUE(wait_for_samples(s, 30));
  const auto restarted = std::chrono::steady_clock::now();
  s.start();  // restart: the old series is dropped, a new one begins
  s.stop();
  const auto elapsed = std::chrono::steady_clock::now() - restarted;
  const auto samples = s.samples();
  ASSERT_GE(samples.size(), 1u) << "a series always has its first sample";
  EXPECT_LT(samples.size(), 30u) << "the 30 samples of the first series are gone";
  for (const auto& sample : samples) EXPECT_LE(sample.time, elapsed);
  s.stop();  // idempotent
  EXPECT_EQ(s.samples().size(), samples.size());
}

TEST(sampler, rejects_bad_options) {
  EXPECT_THROW(lm::sampler({.interval = 0ms, .capacity = 8}), std::invalid_argument);
  EXPECT_THROW(lm::sampler({.interval = 1ms, .capacity = 1}), std::invalid_argument);
}
