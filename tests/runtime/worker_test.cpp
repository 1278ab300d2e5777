#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>

#include "harness/runtime/event_loop.hpp"
#include "tests/runtime/worker_fixture.hpp"

namespace lt = leakbench::test;
namespace rt = leakbench::runtime;
namespace br = leakbench::brokers;
namespace mw = leakbench::middleware;
namespace asio = boost::asio;
using lt::variant;
using namespace std::chrono_literals;

TEST(retries_middleware, gives_up_after_max_retries_and_dead_letters) {
  lt::worker_rig rig;
  rig.actors.add_coroutine("fail", lt::failing_actor(64));
  rig.start(variant::fixed, {}, {.max_retries = 3});
  rig.broker.enqueue(rt::message::make("default", "fail"));
  rig.finish();
  ASSERT_EQ(rig.reports.size(), 4u) << "one attempt and three retries";
  for (std::uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(rig.reports[i].retries, i);
    EXPECT_TRUE(rig.reports[i].failed);
  }
  EXPECT_EQ(rig.reports.back().outcome, rt::disposition::kind::dead_letter);
  const auto dead = rig.broker.dead_letters("default");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason, "gave up after 3 retries: ValueError: boom");
  EXPECT_EQ(rt::decode(dead[0].body).options.retries, 3u);
}

TEST(retries_middleware, stores_the_last_traceback_in_the_message_without_accumulating) {
  // Dramatiq: message.options["traceback"] = traceback.format_exc(limit=30) on every retry.
  lt::worker_rig rig;
  rig.actors.add_coroutine("fail", lt::failing_actor(64));
  rig.start(variant::fixed, {}, {.max_retries = 3});
  const auto first = rt::message::make("default", "fail");
  EXPECT_FALSE(first.options.traceback);
  rig.broker.enqueue(first);
  rig.finish();
  const auto dead = rig.broker.dead_letters("default");
  ASSERT_EQ(dead.size(), 1u);
  const auto last = rt::decode(dead[0].body);
  ASSERT_TRUE(last.options.traceback);
  EXPECT_EQ(*last.options.traceback,
            "Traceback (most recent call last):\n  in process_message\n  in run_coroutine\n"
            "  in fail\nValueError: boom\n");
  // Replaced, not appended: the message of retry 3 is as long as that of retry 1 would be.
  auto retry_one = first;
  retry_one.options.retries = 1;
  retry_one.options.traceback = last.options.traceback;
  EXPECT_EQ(dead[0].body.size(), rt::encode(retry_one).size());
}

TEST(retries_middleware, honours_a_per_message_max_retries) {
  lt::worker_rig rig;
  rig.actors.add("fail", [](rt::attempt_context& ctx) -> rt::value {
    throw ctx.raise(ctx.make_error("ValueError", "sync"));
  });
  rig.start(variant::fixed, {}, {.max_retries = 10});
  auto m = rt::message::make("default", "fail");
  m.options.max_retries = 1;
  rig.broker.enqueue(m);
  rig.finish();
  EXPECT_EQ(rig.reports.size(), 2u);
}

TEST(retries_middleware, backoff_stays_within_bounds) {
  mw::retries r({.min_backoff = 10ms, .max_backoff = 300ms, .jitter = true});
  for (std::uint32_t retry = 1; retry < 40; ++retry) {
    const auto full = std::min<std::int64_t>(10LL << std::min(retry, 32u), 300);
    for (int k = 0; k < 20; ++k) {
      const auto b = r.backoff(retry).count();
      EXPECT_GE(b, full / 2) << "retry " << retry;
      EXPECT_LE(b, full) << "retry " << retry;
    }
  }
  mw::retries exact({.min_backoff = 10ms, .max_backoff = 300ms, .jitter = false});
  EXPECT_EQ(exact.backoff(1), 20ms);
  EXPECT_EQ(exact.backoff(4), 160ms);
  EXPECT_EQ(exact.backoff(5), 300ms);
  mw::retries zero({.min_backoff = 0ms, .max_backoff = 0ms});
  EXPECT_EQ(zero.backoff(7), 0ms);
}

TEST(retries_middleware, rejects_inverted_bounds) {
  EXPECT_THROW(mw::retries({.min_backoff = 5ms, .max_backoff = 1ms}), std::invalid_argument);
}

TEST(retries_middleware, delays_the_retry_in_the_broker) {
  lt::worker_rig rig;
  rig.actors.add("fail", [](rt::attempt_context& ctx) -> rt::value {
    throw ctx.raise(ctx.make_error("ValueError", "later"));
  });
  rig.start(variant::fixed, {}, {.max_retries = 1, .min_backoff = 1h, .max_backoff = 1h});
  rig.broker.enqueue(rt::message::make("default", "fail"));
  while (rig.worker->attempts() < 1) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(rig.broker.join("default", 50ms)) << "the retry waits in the delay queue";
  rig.worker->stop();
  EXPECT_EQ(rig.reports.size(), 1u);
  EXPECT_EQ(rig.reports[0].outcome, rt::disposition::kind::retry);
}

TEST(worker, dead_letters_bad_messages_and_carries_on) {
  lt::worker_rig rig;
  std::atomic<int> ran{0};
  rig.actors.add("ok", [&ran](rt::attempt_context&) -> rt::value {
    ++ran;
    return nullptr;
  });
  rig.start(variant::fixed, {.max_message_bytes = 4096});
  const std::string good = rt::encode(rt::message::make("default", "ok"));
  rig.broker.enqueue_raw("default", "{not json");
  rig.broker.enqueue_raw("default", good.substr(0, good.size() - 5));
  rig.broker.enqueue(rt::message::make("default", "nobody"));
  rig.broker.enqueue_raw("default", std::string(5000, ' '));
  rig.broker.enqueue(rt::message::make("default", "ok"));
  rig.finish();
  EXPECT_EQ(ran, 1);
  const auto dead = rig.broker.dead_letters("default");
  ASSERT_EQ(dead.size(), 4u);
  EXPECT_NE(dead[0].reason.find("not valid JSON"), std::string::npos) << dead[0].reason;
  EXPECT_NE(dead[1].reason.find("not valid JSON"), std::string::npos) << dead[1].reason;
  EXPECT_EQ(dead[2].reason, "unknown actor 'nobody'");
  EXPECT_NE(dead[3].reason.find("exceeds the limit of 4096 bytes"), std::string::npos);
}

TEST(worker, coroutine_actor_without_asyncio_fails_clearly) {
  br::memory_broker broker;
  rt::actor_registry actors;
  actors.add_coroutine(
      "co", [](rt::attempt_context&) -> asio::awaitable<rt::value> { co_return nullptr; });
  rt::worker w(broker, actors);
  w.start();
  broker.enqueue(rt::message::make("default", "co"));
  ASSERT_TRUE(broker.join("default", 60s));
  w.stop();
  const auto dead = broker.dead_letters("default");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason, "RuntimeError: actor 'co' is a coroutine: add the AsyncIO middleware");
}

namespace {
// Records what the worker's middleware sees of each exception.
struct traceback_spy : rt::middleware {
  std::mutex mutex;
  std::vector<std::vector<std::string>> frames;
  std::vector<std::vector<std::string>> run_coroutine_locals;
  void after_process_message(rt::attempt_context&, const std::shared_ptr<rt::error>& e) override {
    if (!e) return;
    std::vector<std::string> names, locals;
    for (const auto* f : e->traceback()) {
      names.push_back(f->function());
      if (f->function() == "run_coroutine") locals = f->local_names();
    }
    std::lock_guard lock(mutex);
    frames.push_back(std::move(names));
    run_coroutine_locals.push_back(std::move(locals));
  }
};
}  // namespace

TEST(worker, traceback_runs_from_process_message_through_run_coroutine_into_the_actor) {
  for (variant v : {variant::leaky, variant::fixed}) {
    lt::worker_rig rig;
    rig.actors.add_coroutine("fail", lt::failing_actor(64));
    auto spy = std::make_shared<traceback_spy>();
    rig.worker = std::make_unique<rt::worker>(rig.broker, rig.actors);
    rig.worker->add(spy);
    rig.worker->add(lt::make_asyncio(v));
    rig.worker->start();
    rig.broker.enqueue(rt::message::make("default", "fail"));
    ASSERT_TRUE(rig.broker.join("default", 60s));
    rig.worker->stop();
    ASSERT_EQ(spy->frames.size(), 1u);
    EXPECT_EQ(spy->frames[0],
              (std::vector<std::string>{"process_message", "run_coroutine", "fail"}));
    // The whole difference between the variants: does the traceback's frame hold the future?
    EXPECT_EQ(spy->run_coroutine_locals[0], v == variant::leaky ? std::vector<std::string>{"future"}
                                                                : std::vector<std::string>{});
  }
}

TEST(worker, never_collects_an_attempt_in_flight) {
  lt::worker_rig rig;
  std::promise<void> entered, release;
  auto release_f = release.get_future().share();
  std::weak_ptr<const void> in_flight_data;
  rig.actors.add_coroutine("fail", lt::failing_actor(4096));
  rig.actors.add_coroutine("slow", [&](rt::attempt_context& ctx) -> asio::awaitable<rt::value> {
    rt::frame f(ctx, "slow");
    auto data = f.local("data", rt::make_payload(4096));
    in_flight_data = data;
    entered.set_value();
    while (release_f.wait_for(0s) != std::future_status::ready) co_await rt::sleep(ctx, 1ms);
    co_return data;
  });
  rig.start(variant::leaky, {.threads = 2}, {.max_retries = 2});
  rig.broker.enqueue(rt::message::make("default", "slow"));
  entered.get_future().wait();
  rig.broker.enqueue(rt::message::make("default", "fail"));
  while (rig.worker->attempts() < 3) std::this_thread::sleep_for(1ms);  // fail: 3 attempts done
  const auto stats = rig.worker->gc().collect();
  EXPECT_GT(stats.collected, 0u) << "the finished attempts' cycles are garbage";
  EXPECT_FALSE(in_flight_data.expired()) << "the attempt in flight lost its data";
  release.set_value();
  rig.finish();
  EXPECT_TRUE(in_flight_data.expired());
  EXPECT_EQ(rig.reports.size(), 4u);
}

TEST(worker, stepped_mode_consumes_only_what_was_allowed) {
  lt::worker_rig rig;
  rig.actors.add("fail", [](rt::attempt_context& ctx) -> rt::value {
    throw ctx.raise(ctx.make_error("ValueError", "step"));
  });
  rig.start(variant::fixed, {.threads = 2, .stepped = true}, {.max_retries = 100});
  rig.broker.enqueue(rt::message::make("default", "fail"));
  EXPECT_FALSE(rig.broker.join("default", 30ms));
  EXPECT_EQ(rig.worker->attempts(), 0u) << "consumed without a permit";
  rig.worker->allow(3);
  while (rig.worker->attempts() < 3) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(rig.worker->attempts(), 3u) << "consumed more than allowed";
  rig.worker->stop();  // parked threads wake up and leave
  EXPECT_EQ(rig.reports.size(), 3u);
}

TEST(worker, stop_interrupts_a_coroutine_that_never_finishes) {
  lt::worker_rig rig;
  std::promise<void> entered;
  rig.actors.add_coroutine("forever",
                           [&entered](rt::attempt_context& ctx) -> asio::awaitable<rt::value> {
                             rt::frame f(ctx, "forever");
                             entered.set_value();
                             for (;;) co_await rt::sleep(ctx, 24h);
                           });
  rig.start(variant::fixed, {}, {.max_retries = 5});
  rig.broker.enqueue(rt::message::make("default", "forever"));
  entered.get_future().wait();
  rig.worker->stop();  // returns once the attempt has ended; a hang here fails the test by timeout
  ASSERT_EQ(rig.reports.size(), 1u);
  EXPECT_TRUE(rig.reports[0].failed) << "the interrupted attempt ends with CancelledError";
  EXPECT_EQ(rig.reports[0].outcome, rt::disposition::kind::retry) << "and is retried, not lost";
  EXPECT_EQ(rig.broker.in_flight(), 0u);
  auto again = rig.broker.consume("default", 0ms);
  ASSERT_TRUE(again) << "the retry is back in the queue";
  EXPECT_EQ(rt::decode(again->body).options.retries, 1u);
}

TEST(worker, hands_an_interrupted_attempt_to_the_collector_only_once_its_coroutine_ended) {
  // A coroutine that ignores cancellation keeps running on the loop after the worker gave up
  // on it (Interrupted). The collector must not see its objects while it still changes them,
  // and must get what it creates afterwards: here a garbage cycle made after the report.
  br::memory_broker broker;
  rt::actor_registry actors;
  std::atomic<bool> reported{false}, late_cycle_made{false};
  std::weak_ptr<rt::frame_record> late_cycle;
  actors.add_coroutine("stubborn", [&](rt::attempt_context& ctx) -> asio::awaitable<rt::value> {
    rt::frame f(ctx, "stubborn");
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int tick = 0;; ++tick) {                    // a raw timer: cancel() cannot reach it
      f.local("tick", std::make_shared<int>(tick));  // keeps changing its frame
      if (reported.load() && !late_cycle_made.load()) {
        auto cycle = ctx.make<rt::frame_record>("late");
        cycle->set_local("self", cycle);
        late_cycle = cycle;
        late_cycle_made = true;
      }
      timer.expires_after(1ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
  });
  rt::worker w(broker, actors, {.gc = rt::gc_policy{1}});
  w.add(std::make_shared<mw::retries>(mw::retries_options{.max_retries = 0}));
  w.add(std::make_shared<mw::asyncio_leaky>(mw::asyncio_options{.cancel_grace = 50ms}));
  std::atomic<std::size_t> collections_at_report{99};
  std::atomic<bool> failed{false};
  w.on_attempt_finished([&](const rt::attempt_report& r) {
    collections_at_report = w.gc().collections();
    failed = r.failed;
    reported = true;
  });
  w.start();
  broker.enqueue(rt::message::make("default", "stubborn"));
  while (broker.in_flight() == 0) std::this_thread::sleep_for(1ms);
  w.stop();  // interrupts; the loop's shutdown later destroys the coroutine
  ASSERT_TRUE(reported.load());
  EXPECT_TRUE(failed.load()) << "the attempt ends with Interrupted";
  EXPECT_EQ(collections_at_report.load(), 0u)
      << "gc every:1 collected the attempt while its coroutine still ran";
  ASSERT_TRUE(late_cycle_made.load()) << "the coroutine outlived the report, as it should";
  EXPECT_TRUE(late_cycle.expired()) << "a cycle created after the report escaped the collector";
}

TEST(worker, a_parked_stepped_worker_holds_nothing_of_its_last_attempt) {
  // The quiescent sample: once wait_parked() returns, no thread still holds an attempt's
  // report or delivery, and the broker's queue has not grown a block. A fixed-variant failing
  // attempt allocates nothing net, so the heap must not move by a single byte, once every
  // thread has warmed up (its first attempt allocates per-thread state once).
  constexpr int k_threads = 3, k_steps = 300;
  br::memory_broker broker;
  rt::actor_registry actors;
  actors.add_coroutine("fail", lt::failing_actor(0));
  rt::worker w(broker, actors, {.threads = k_threads, .stepped = true});
  w.add(std::make_shared<mw::retries>(mw::retries_options{.max_retries = 100000}));
  w.add(lt::make_asyncio(variant::fixed));
  std::mutex m;
  std::vector<std::thread::id> seen;  // threads that have run an attempt
  seen.reserve(k_threads);
  int warm_from = -1;  // the first step after which every thread had run one
  int step = 0;
  w.on_attempt_finished([&](const rt::attempt_report&) {
    std::lock_guard lock(m);
    if (std::find(seen.begin(), seen.end(), std::this_thread::get_id()) == seen.end()) {
      seen.push_back(std::this_thread::get_id());
      if (seen.size() == k_threads) warm_from = step + 1;
    }
  });
  w.start();
  // Retry counts 100 to 999 keep the messages one size: start them at 100.
  for (int i = 0; i < k_threads; ++i) {
    auto msg = rt::message::make("default", "fail");
    msg.options.retries = 100;
    broker.enqueue(msg);
  }
  ASSERT_TRUE(w.wait_parked(60s));
  std::vector<std::int64_t> heap;
  heap.reserve(k_steps);
  for (; step < k_steps; ++step) {
    w.allow(k_threads);
    while (w.attempts() < static_cast<std::uint64_t>(k_threads * (step + 1)))
      std::this_thread::sleep_for(100us);
    ASSERT_TRUE(w.wait_parked(60s)) << "step " << step;
    heap.push_back(leakbench::measure::new_heap().bytes);
  }
  w.stop();
  ASSERT_GE(warm_from, 0) << "a thread never ran an attempt";
  ASSERT_LT(warm_from + 100, k_steps) << "too few warm steps to judge";
  for (int i = warm_from + 1; i < k_steps; ++i) {
    EXPECT_EQ(heap[i] - heap[i - 1], 0) << "step " << i << " (warm from " << warm_from << ")";
  }
}
