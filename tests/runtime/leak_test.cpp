// The leak itself: the leaky AsyncIO variant retains exactly what each failed attempt's
// exception reaches, the fixed one retains nothing, and the collector returns all of it.
#include <gtest/gtest.h>

#include "harness/measure/heap.hpp"
#include "tests/runtime/worker_fixture.hpp"

namespace lt = leakbench::test;
namespace rt = leakbench::runtime;
using lt::variant;

namespace {

constexpr std::size_t k_payload = 1 << 20;
constexpr std::uint32_t k_attempts = 8;

// Runs one failing coroutine actor through k_attempts attempts (k_attempts - 1 retries).
struct leak_run {
  std::int64_t baseline = 0;       // before the worker existed
  std::vector<std::int64_t> heap;  // after each attempt
  std::int64_t after_stop = 0;     // after the worker stopped and collected
  rt::gc_stats shutdown{};
  std::size_t dead = 0;
  std::size_t traceback_length = 0;  // of the traceback Retries stored in the message
};

leak_run run(variant v, rt::gc_policy gc = {}) {
  leak_run out;
  out.heap.reserve(k_attempts);
  out.baseline = leakbench::measure::new_heap().bytes;
  {
    auto rig = std::make_unique<lt::worker_rig>();
    rig->actors.add_coroutine("fail", lt::failing_actor(k_payload));
    auto m = rt::message::make("default", "fail");
    m.options.max_retries = k_attempts - 1;
    rig->start(v, {.gc = gc});
    rig->broker.enqueue(m);
    rig->finish();
    out.heap.assign(rig->heap_after.begin(), rig->heap_after.end());
    out.shutdown = rig->worker->shutdown_collection();
    const auto dead = rig->broker.dead_letters("default");
    out.dead = dead.size();
    if (!dead.empty()) out.traceback_length = rt::decode(dead[0].body).options.traceback->size();
  }
  // Worker, broker and registry are gone: whatever is left, the run leaked for good.
  out.after_stop = leakbench::measure::new_heap().bytes;
  return out;
}

}  // namespace

TEST(asyncio_leaky, retains_the_payload_of_every_failed_attempt) {
  const auto r = run(variant::leaky);
  ASSERT_EQ(r.heap.size(), k_attempts);
  EXPECT_EQ(r.dead, 1u);
  // Each attempt adds the payload plus a fixed overhead (the exception, its frames, the future,
  // the collector's bookkeeping); the broker's copy of the message varies by a few bytes.
  const std::int64_t step = r.heap[2] - r.heap[1];
  const std::int64_t overhead = step - static_cast<std::int64_t>(k_payload);
  EXPECT_GT(overhead, 0);
  EXPECT_LT(overhead, 16 * 1024) << "per-attempt overhead is " << overhead << " bytes";
  for (std::size_t i = 2; i + 1 < r.heap.size(); ++i) {
    EXPECT_EQ(r.heap[i] - r.heap[i - 1], step) << "attempt " << i + 1;
  }
  EXPECT_EQ(r.shutdown.collected % k_attempts, 0u);
  EXPECT_GT(r.shutdown.collected, 0u);
  // The shutdown collection frees exactly what the attempts retained. The first attempt's
  // message had no traceback yet (Retries stores one on each retry), so the copy its frame
  // keeps lacks that string's block: length + 1 bytes.
  ASSERT_GT(r.traceback_length, 15u) << "a traceback too short to leave the string's buffer";
  const auto first_shortfall = static_cast<std::int64_t>(r.traceback_length + 1);
  EXPECT_EQ(r.shutdown.freed_bytes, static_cast<std::int64_t>(k_attempts) * step - first_shortfall);
  RecordProperty("per_attempt_overhead_bytes", static_cast<int>(overhead));
}

TEST(asyncio_leaky, shutdown_collection_returns_everything) {
  const auto r = run(variant::leaky);
  EXPECT_EQ(r.after_stop, r.baseline) << "bytes left: " << r.after_stop - r.baseline;
}

TEST(asyncio_fixed, heap_is_back_at_baseline_after_every_attempt) {
  const auto r = run(variant::fixed);
  ASSERT_EQ(r.heap.size(), k_attempts);
  for (std::size_t i = 1; i + 1 < r.heap.size(); ++i) {
    EXPECT_EQ(r.heap[i], r.heap[0]) << "attempt " << i + 1 << " left bytes behind";
  }
  // The last attempt dead-letters: the broker now keeps the body and the reason instead of
  // a queued message. A few hundred bytes, not a payload.
  EXPECT_NEAR(static_cast<double>(r.heap.back() - r.heap[0]), 0.0, 1024);
  EXPECT_EQ(r.shutdown.collected, 0u) << "the fixed variant leaves no cycle";
  EXPECT_EQ(r.after_stop, r.baseline);
}

TEST(collector, every_n_turns_the_leak_into_a_sawtooth) {
  const auto r = run(variant::leaky, rt::gc_policy{3});
  ASSERT_EQ(r.heap.size(), k_attempts);
  const auto p = static_cast<double>(k_payload);
  for (std::size_t i = 0; i < r.heap.size(); ++i) {
    // After attempt i+1, (i+1) % 3 attempts' payloads are still waiting for a collection.
    const double retained = static_cast<double>(r.heap[i] - r.heap[2]);
    const double expected = p * static_cast<double>((i + 1) % 3);
    EXPECT_NEAR(retained, expected, 32 * 1024) << "attempt " << i + 1;
  }
  EXPECT_EQ(r.after_stop, r.baseline);
}
