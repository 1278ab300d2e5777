// The injected leak: exactly its size per attempt, in either variant, until the worker stops.
#include <gtest/gtest.h>

#include "harness/measure/heap.hpp"
#include "harness/middleware/inject_leak.hpp"
#include "tests/runtime/worker_fixture.hpp"

namespace lt = leakbench::test;
namespace rt = leakbench::runtime;
namespace mw = leakbench::middleware;
using lt::variant;

namespace {

constexpr std::size_t k_size = 64 * 1024;
constexpr std::uint32_t k_attempts = 8;

struct injected_run {
  std::int64_t baseline = 0;
  std::vector<std::int64_t> heap;  // after each attempt
  std::size_t held_before_stop = 0;
  std::size_t held_after_stop = 0;
  std::int64_t after_stop = 0;
};

injected_run run(variant v) {
  injected_run out;
  out.heap.reserve(k_attempts);
  out.baseline = leakbench::measure::new_heap().bytes;
  {
    auto rig = std::make_unique<lt::worker_rig>();
    rig->actors.add_coroutine("fail", lt::failing_actor(1024));
    auto m = rt::message::make("default", "fail");
    m.options.max_retries = k_attempts - 1;
    auto leak = std::make_shared<mw::inject_leak>(k_size);
    rig->start(v, {}, {}, leak);
    rig->broker.enqueue(m);
    EXPECT_TRUE(rig->broker.join("default", std::chrono::seconds(60)));
    out.held_before_stop = leak->held();
    rig->worker->stop();
    out.held_after_stop = leak->held();
    out.heap.assign(rig->heap_after.begin(), rig->heap_after.end());
  }
  out.after_stop = leakbench::measure::new_heap().bytes;
  return out;
}

}  // namespace

TEST(inject_leak, fixed_variant_grows_by_exactly_the_size_per_attempt) {
  const auto r = run(variant::fixed);
  ASSERT_EQ(r.heap.size(), k_attempts);
  // The last attempt dead-letters, which changes what the broker keeps: stop before it.
  for (std::size_t i = 1; i + 1 < r.heap.size(); ++i) {
    EXPECT_EQ(r.heap[i] - r.heap[i - 1], static_cast<std::int64_t>(k_size)) << "attempt " << i + 1;
  }
  EXPECT_EQ(r.held_before_stop, k_attempts * k_size);
}

TEST(inject_leak, leaky_variant_adds_the_size_to_its_own_leak) {
  const auto leaky = run(variant::leaky);
  ASSERT_EQ(leaky.heap.size(), k_attempts);
  const std::int64_t step = leaky.heap[2] - leaky.heap[1];
  EXPECT_GT(step, static_cast<std::int64_t>(k_size + 1024)) << "the payload and the injection";
  for (std::size_t i = 2; i + 1 < leaky.heap.size(); ++i) {
    EXPECT_EQ(leaky.heap[i] - leaky.heap[i - 1], step) << "attempt " << i + 1;
  }
}

TEST(inject_leak, frees_everything_when_the_worker_stops) {
  const auto r = run(variant::fixed);
  EXPECT_EQ(r.held_after_stop, 0u);
  EXPECT_EQ(r.after_stop, r.baseline) << "bytes left: " << r.after_stop - r.baseline;
}

TEST(inject_leak, refuses_a_block_too_small_for_its_link) {
  EXPECT_THROW(mw::inject_leak(mw::inject_leak::k_min_size - 1), std::invalid_argument);
  EXPECT_NO_THROW(mw::inject_leak(mw::inject_leak::k_min_size));
}
