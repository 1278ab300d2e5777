#include "harness/brokers/memory_broker.hpp"

#include <gtest/gtest.h>

#include <future>

#include <thread>

namespace rt = leakbench::runtime;
namespace br = leakbench::brokers;
using namespace std::chrono_literals;

TEST(memory_broker, delivers_then_forgets_after_ack) {
  br::memory_broker b;
  const auto m = rt::message::make("q", "a");
  b.enqueue(m);
  auto d = b.consume("q", 0ms);
  ASSERT_TRUE(d);
  EXPECT_EQ(rt::decode(d->body), m);
  EXPECT_EQ(b.in_flight(), 1u);
  EXPECT_FALSE(b.join("q", 0ms)) << "an unacked message keeps the queue busy";
  b.ack(*d);
  EXPECT_TRUE(b.join("q", 0ms));
  EXPECT_FALSE(b.consume("q", 0ms));
}

TEST(memory_broker, keeps_a_delayed_message_until_due) {
  br::memory_broker b;
  b.enqueue(rt::message::make("q", "later"), 1h);
  b.enqueue(rt::message::make("q", "now"));
  auto d = b.consume("q", 0ms);
  ASSERT_TRUE(d);
  EXPECT_EQ(rt::decode(d->body).actor, "now");
  b.ack(*d);
  EXPECT_FALSE(b.consume("q", 0ms)) << "delivered an hour early";
  EXPECT_FALSE(b.join("q", 0ms)) << "a delayed message keeps the queue busy";
}

TEST(memory_broker, delivers_delayed_messages_in_eta_order) {
  br::memory_broker b;
  b.enqueue(rt::message::make("q", "second"), 40ms);
  b.enqueue(rt::message::make("q", "first"), 20ms);
  auto a = b.consume("q", 10s);
  auto c = b.consume("q", 10s);
  ASSERT_TRUE(a && c);
  EXPECT_EQ(rt::decode(a->body).actor, "first");
  EXPECT_EQ(rt::decode(c->body).actor, "second");
}

TEST(memory_broker, a_blocked_consumer_wakes_for_a_new_message) {
  br::memory_broker b;
  std::optional<br::delivery> got;
  std::thread consumer([&] { got = b.consume("q", 60s); });
  b.enqueue(rt::message::make("q", "a"));
  consumer.join();  // returns long before the 60 s timeout, or the test hangs visibly
  EXPECT_TRUE(got);
}

TEST(memory_broker, retry_settles_and_enqueues_in_one_step) {
  br::memory_broker b;
  auto m = rt::message::make("q", "a");
  b.enqueue(m);
  auto d = b.consume("q", 0ms);
  m.options.retries = 1;
  b.retry(*d, m, 0ms);
  EXPECT_EQ(b.in_flight(), 0u);
  auto again = b.consume("q", 0ms);
  ASSERT_TRUE(again);
  EXPECT_EQ(rt::decode(again->body).options.retries, 1u);
}

TEST(memory_broker, dead_letters_keep_body_and_reason) {
  br::memory_broker b;
  b.enqueue_raw("q", "{garbage");
  auto d = b.consume("q", 0ms);
  b.dead_letter(*d, "message is not valid JSON");
  const auto dead = b.dead_letters("q");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body, "{garbage");
  EXPECT_EQ(dead[0].reason, "message is not valid JSON");
  EXPECT_TRUE(b.join("q", 0ms));
}

TEST(memory_broker, redelivers_what_a_dead_consumer_left_in_flight) {
  br::memory_broker b;
  b.enqueue(rt::message::make("q", "a"));
  auto d = b.consume("q", 0ms);
  ASSERT_TRUE(d);
  EXPECT_EQ(b.requeue_unacked(), 1u);
  auto again = b.consume("q", 0ms);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, d->body);
  EXPECT_THROW(b.ack(*d), br::broker_error) << "the old delivery is void";
}

TEST(memory_broker, wake_consumers_ends_the_waits_in_progress_only) {
  br::memory_broker b;
  auto waiting = std::async(std::launch::async, [&] { return b.consume("q", 60s); });
  std::this_thread::sleep_for(10ms);  // ordering only: the consumer waits by now
  b.wake_consumers();
  ASSERT_EQ(waiting.wait_for(30s), std::future_status::ready) << "a 60 s wait was not woken";
  EXPECT_FALSE(waiting.get());
  // Not closed: a later consume still gets its message.
  b.enqueue(rt::message::make("q", "after"));
  EXPECT_TRUE(b.consume("q", 1s));
}

TEST(memory_broker, close_wakes_consumers) {
  br::memory_broker b;
  std::thread consumer([&] { EXPECT_FALSE(b.consume("q", 60s)); });
  std::this_thread::sleep_for(10ms);
  b.close();
  consumer.join();
}
