// The Redis broker's one retry on a fresh connection, for every step that is safe to repeat.
#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "harness/brokers/redis_broker.hpp"
#include "tests/redis/broker_fixture.hpp"
#include "tests/redis/redis_server.hpp"

namespace rt = leakbench::runtime;
namespace br = leakbench::brokers;
namespace lt = leakbench::test;
using namespace std::chrono_literals;

TEST(redis_broker, retries_each_repeatable_step_once_on_a_connection_killed_while_idle) {
  lt::redis_server server;
  auto opts = lt::fast();
  opts.heartbeat = 1h;  // a beat would find the dead connection first and reconnect it
  auto b = lt::make_broker(server, opts);
  auto admin = server.connect();
  // Before each step, every connection the broker holds is killed while idle in its pool.
  const auto kill = [&] { ASSERT_GE(lt::kill_clients(admin), 1); };
  kill();
  b.enqueue(rt::message::make("q", "a"));
  kill();
  b.enqueue_raw("q", "{not json");
  kill();
  const auto first = b.consume("q", 1000ms);
  ASSERT_TRUE(first);
  kill();
  EXPECT_FALSE(b.join("q", 0ms));
  kill();
  b.ack(*first);
  const auto bad = b.consume("q", 1000ms);
  ASSERT_TRUE(bad);
  kill();
  b.dead_letter(*bad, "not JSON");
  kill();
  EXPECT_EQ(b.dead_letters("q").size(), 1u);
  kill();
  EXPECT_EQ(b.recover_dead_workers(), 0u);
  kill();
  b.remove_keys();
  EXPECT_EQ(lt::key_count(server, b.prefix() + ":*"), 0);
}

TEST(redis_broker, set_up_retries_its_first_write_on_a_connection_killed_under_it) {
  lt::redis_server server;
  auto admin = server.connect();
  auto opts = lt::fast();
  opts.timeouts.io = 30s;  // only the kill may end the held write
  admin.command({"CLIENT", "PAUSE", "60000", "WRITE"});
  auto made = std::async(std::launch::async, [&] {
    return std::make_unique<br::redis_broker>(br::redis_url::parse(server.url()), opts);
  });
  EXPECT_EQ(lt::kill_clients_held_in_a_write(admin), 1);
  const auto b = made.get();  // the heartbeat's EVAL was lost: once more, on a fresh connection
  EXPECT_EQ(lt::key_count(server, b->prefix() + ":heartbeats"), 1);
}

TEST(redis_broker, an_enqueue_whose_reply_is_lost_is_retried_and_queued_once) {
  lt::redis_server server({"--enable-debug-command", "local"});
  auto b = lt::make_broker(server);  // I/O timeout 1 s
  auto stall = std::async(std::launch::async, [&] {
    auto admin = server.connect();
    admin.blocking_command({"DEBUG", "SLEEP", "1.6"}, 10s);
  });
  std::this_thread::sleep_for(200ms);  // ordering only: the server sleeps by now
  // The first try times out and runs when the server wakes; the retry, sent before that, must
  // find it done instead of queueing a second copy.
  b.enqueue(rt::message::make("q", "once"));
  stall.get();
  auto c = server.connect();
  EXPECT_EQ(c.command({"LLEN", b.prefix() + ":queue:q"}).integer, 1);
}

TEST(redis_broker, a_consume_whose_blmove_is_killed_while_blocked_blocks_again) {
  lt::redis_server server;
  auto b = lt::make_broker(server);
  auto admin = server.connect();
  auto waiting = std::async(std::launch::async, [&] { return b.consume("q", 60s); });
  lt::blocked_client_id(admin);  // in BLMOVE now
  EXPECT_EQ(lt::kill_clients(admin), 1);
  b.enqueue(rt::message::make("q", "after"));
  const auto d = waiting.get();  // the lost BLMOVE moved nothing: it waits again, and gets it
  ASSERT_TRUE(d);
  EXPECT_EQ(rt::decode(d->body).actor, "after");
  b.ack(*d);
  EXPECT_TRUE(b.join("q", 0ms));
}

TEST(redis_broker, a_consume_whose_reply_is_lost_finds_its_message_in_its_in_flight_list) {
  lt::redis_server server;
  auto b = lt::make_broker(server);
  auto admin = server.connect();
  auto waiting = std::async(std::launch::async, [&] { return b.consume("q", 60s); });
  const long long consumer = lt::blocked_client_id(admin);
  // The push serves the blocked BLMOVE (the message moves to the in-flight list) and the kill
  // runs before the server writes the reply: the command ran, its reply is lost.
  const std::string body = rt::encode(rt::message::make("q", "moved"));
  lt::pipelined(server, {{"RPUSH", b.prefix() + ":queue:q", body},
                         {"CLIENT", "KILL", "ID", std::to_string(consumer)}});
  const auto d = waiting.get();
  ASSERT_TRUE(d) << "the message was left in flight with nobody to settle it";
  EXPECT_EQ(d->body, body);
  b.ack(*d);
  EXPECT_TRUE(b.join("q", 0ms)) << "nothing left queued or in flight";
}
