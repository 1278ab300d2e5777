#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <vector>

#include "harness/brokers/memory_broker.hpp"
#include "harness/measure/heap.hpp"
#include "harness/middleware/asyncio_fixed.hpp"
#include "harness/middleware/asyncio_leaky.hpp"
#include "harness/middleware/retries.hpp"
#include "harness/runtime/worker.hpp"

namespace leakbench::test {

namespace rt = leakbench::runtime;
namespace br = leakbench::brokers;
namespace mw = leakbench::middleware;

enum class variant { leaky, fixed };

inline std::shared_ptr<mw::asyncio> make_asyncio(variant v) {
  if (v == variant::leaky) return std::make_shared<mw::asyncio_leaky>();
  return std::make_shared<mw::asyncio_fixed>();
}

/// A coroutine actor that allocates `bytes` and raises an error holding them.
inline rt::coroutine_fn failing_actor(std::size_t bytes) {
  return [bytes](rt::attempt_context& ctx) -> boost::asio::awaitable<rt::value> {
    rt::frame f(ctx, "fail");
    auto data = f.local("data", rt::make_payload(bytes));
    auto err = ctx.make_error("ValueError", "boom");
    err->hold("payload", data);
    throw ctx.raise(err);
    co_return nullptr;
  };
}

/// A broker, a registry and a worker with Retries and one AsyncIO variant; records the exact
/// operator-new heap at every attempt's quiescent point.
struct worker_rig {
  br::memory_broker broker;
  rt::actor_registry actors;
  std::unique_ptr<rt::worker> worker;
  std::mutex mutex;
  std::vector<std::int64_t> heap_after;  // one per finished attempt
  /// What the tests check of each attempt; no strings, so recording it allocates nothing.
  struct record {
    std::uint32_t retries;
    bool failed;
    rt::disposition::kind outcome;
  };
  std::vector<record> reports;

  worker_rig() {
    // Growing these inside the hook would show up in the next attempt's heap reading.
    heap_after.reserve(256);
    reports.reserve(256);
  }

  /// `extra` middleware, if any, runs after Retries and AsyncIO.
  void start(variant v, rt::worker_options opts, mw::retries_options retry = {},
             std::shared_ptr<rt::middleware> extra = nullptr) {
    worker = std::make_unique<rt::worker>(broker, actors, std::move(opts));
    worker->add(std::make_shared<mw::retries>(retry));
    worker->add(make_asyncio(v));
    if (extra) worker->add(std::move(extra));
    worker->on_attempt_finished([this](const rt::attempt_report& r) {
      const auto heap = measure::new_heap().bytes;
      std::lock_guard lock(mutex);
      heap_after.push_back(heap);
      reports.push_back({r.retries, r.failed, r.outcome});
    });
    worker->start();
  }
  /// Waits for the queue to empty (60 s safety net), then stops the worker.
  void finish(const std::string& queue = "default") {
    EXPECT_TRUE(broker.join(queue, std::chrono::seconds(60))) << "queue never drained";
    worker->stop();
  }
};

}  // namespace leakbench::test
