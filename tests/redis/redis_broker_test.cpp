// The Redis broker against a real redis-server of the test's own.
#include "harness/brokers/redis_broker.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "tests/redis/broker_fixture.hpp"
#include "tests/redis/redis_server.hpp"
#include "tests/runtime/worker_fixture.hpp"

namespace rt = leakbench::runtime;
namespace br = leakbench::brokers;
namespace lt = leakbench::test;
using namespace std::chrono_literals;

using lt::fast;
using lt::key_count;
using lt::make_broker;

TEST(redis_broker, delivers_then_forgets_after_ack) {
  lt::redis_server server;
  auto b = make_broker(server);
  const auto m = rt::message::make("q", "a");
  b.enqueue(m);
  auto d = b.consume("q", 1000ms);
  ASSERT_TRUE(d);
  EXPECT_EQ(rt::decode(d->body), m);
  EXPECT_FALSE(b.join("q", 0ms)) << "an unacked message keeps the queue busy";
  b.ack(*d);
  EXPECT_TRUE(b.join("q", 0ms));
  EXPECT_FALSE(b.consume("q", 0ms));
  EXPECT_THROW(b.ack(*d), br::broker_error) << "acked twice";
}

TEST(redis_broker, keeps_a_delayed_message_until_due_and_orders_by_eta) {
  lt::redis_server server;
  auto b = make_broker(server);
  b.enqueue(rt::message::make("q", "in_an_hour"), 1h);
  b.enqueue(rt::message::make("q", "second"), 80ms);
  b.enqueue(rt::message::make("q", "first"), 40ms);
  EXPECT_FALSE(b.consume("q", 0ms)) << "nothing is due yet";
  auto first = b.consume("q", 10s);
  auto second = b.consume("q", 10s);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(rt::decode(first->body).actor, "first");
  EXPECT_EQ(rt::decode(second->body).actor, "second");
  b.ack(*first);
  b.ack(*second);
  EXPECT_FALSE(b.consume("q", 50ms)) << "delivered an hour early";
}

TEST(redis_broker, a_blocked_consumer_wakes_for_a_new_message) {
  lt::redis_server server;
  auto b = make_broker(server);
  auto got = std::async(std::launch::async, [&] { return b.consume("q", 60s); });
  std::this_thread::sleep_for(20ms);
  b.enqueue(rt::message::make("q", "a"));
  EXPECT_TRUE(got.get());  // long before the 60 s timeout, or the test hangs visibly
}

TEST(redis_broker, retry_and_dead_letter_settle_atomically) {
  lt::redis_server server;
  auto b = make_broker(server);
  auto m = rt::message::make("q", "a");
  b.enqueue(m);
  auto d = b.consume("q", 1000ms);
  m.options.retries = 1;
  b.retry(*d, m, 0ms);
  auto again = b.consume("q", 1000ms);
  ASSERT_TRUE(again);
  EXPECT_EQ(rt::decode(again->body).options.retries, 1u);
  b.dead_letter(*again, "gave up");
  const auto dead = b.dead_letters("q");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason, "gave up");
  EXPECT_EQ(dead[0].body, again->body);
  EXPECT_TRUE(b.join("q", 0ms));
}

TEST(redis_broker, refuses_a_message_over_the_size_limit) {
  lt::redis_server server;
  auto o = fast();
  o.max_message_bytes = 200;
  auto b = make_broker(server, o);
  auto m = rt::message::make("q", "a", {std::string(500, 'x')});
  try {
    b.enqueue(m);
    FAIL() << "an oversized message was accepted";
  } catch (const rt::message_error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit of 200 bytes"), std::string::npos);
  }
}

TEST(redis_broker, prefixes_keep_runs_apart_and_close_removes_the_keys) {
  lt::redis_server server;
  {
    auto a = make_broker(server);
    auto b = make_broker(server);
    ASSERT_NE(a.prefix(), b.prefix());
    a.enqueue(rt::message::make("q", "a"));
    EXPECT_FALSE(b.consume("q", 0ms)) << "b saw a's message";
    EXPECT_TRUE(a.consume("q", 0ms));
    EXPECT_GT(key_count(server, a.prefix() + ":*"), 0);
  }
  EXPECT_EQ(key_count(server, "*"), 0) << "a run left keys behind";
}

TEST(redis_broker, unreachable_server_is_one_clear_error) {
  int port = 0;
  {
    lt::redis_server server;
    port = server.port();
  }  // stopped: nothing listens there now
  try {
    br::redis_broker b(br::redis_url::parse("redis://127.0.0.1:" + std::to_string(port)), fast());
    FAIL() << "connected to nothing";
  } catch (const br::broker_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot connect"), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line";
  }
}

TEST(redis_broker, authenticates_and_selects_the_db_from_the_url) {
  lt::redis_server server({"--requirepass", "s3cret"});
  {
    br::redis_broker b(br::redis_url::parse(server.url("s3cret", 3)), fast());
    b.enqueue(rt::message::make("q", "a"));
    auto c = server.connect("s3cret");
    EXPECT_EQ(c.command({"DBSIZE"}).integer, 0) << "db 0 is untouched";
    c.command({"SELECT", "3"});
    EXPECT_GT(c.command({"DBSIZE"}).integer, 0);
  }
  EXPECT_THROW(br::redis_broker(br::redis_url::parse(server.url()), fast()), br::broker_error);
  EXPECT_THROW(br::redis_broker(br::redis_url::parse(server.url("wrong")), fast()),
               br::broker_error);
}

TEST(redis_broker, a_killed_consumer_s_message_is_redelivered) {
  lt::redis_server server;
  const std::string prefix = "leakbench:crash-test";
  {
    auto producer = make_broker(server, [&] {
      auto o = fast(prefix);
      o.remove_keys_on_close = false;
      return o;
    }());
    producer.enqueue(rt::message::make("q", "precious"));
  }
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a worker that takes the message and dies before settling it
    auto o = fast(prefix);
    o.remove_keys_on_close = false;
    br::redis_broker b(br::redis_url::parse(server.url()), o);
    const bool got = b.consume("q", 5000ms).has_value();
    (void)!::write(ready[1], got ? "1" : "0", 1);
    for (;;) ::pause();
  }
  char got = 0;
  ASSERT_EQ(::read(ready[0], &got, 1), 1);
  ASSERT_EQ(got, '1');
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);

  auto o = fast(prefix);
  o.remove_keys_on_close = true;
  auto survivor = make_broker(server, o);
  EXPECT_FALSE(survivor.consume("q", 0ms)) << "the message is in the dead worker's in-flight list";
  std::this_thread::sleep_for(o.dead_after * 2);  // let the dead worker's heartbeat go stale
  EXPECT_EQ(survivor.recover_dead_workers(), 1u);
  auto d = survivor.consume("q", 1000ms);
  ASSERT_TRUE(d) << "the message was lost";
  EXPECT_EQ(rt::decode(d->body).actor, "precious");
  survivor.ack(*d);
}

TEST(redis_broker, server_death_surfaces_as_an_error_and_the_broker_reconnects) {
  lt::redis_server server;
  auto b = make_broker(server);
  b.enqueue(rt::message::make("q", "before"));
  ASSERT_TRUE(b.consume("q", 1000ms));
  auto blocked = std::async(std::launch::async, [&] { return b.consume("q", 60s); });
  std::this_thread::sleep_for(50ms);
  server.stop();
  // The blocked consume must fail, not wait out its 60 s (the test would time out instead).
  EXPECT_THROW(blocked.get(), br::broker_error);
  EXPECT_THROW(b.enqueue(rt::message::make("q", "while_down")), br::broker_error);
  server.start();
  b.enqueue(rt::message::make("q", "after"));
  auto d = b.consume("q", 1000ms);
  ASSERT_TRUE(d);
  EXPECT_EQ(rt::decode(d->body).actor, "after");
}

TEST(redis_broker, settles_through_a_connection_killed_while_idle) {
  lt::redis_server server;
  auto b = make_broker(server);
  b.enqueue(rt::message::make("q", "one"));
  b.enqueue(rt::message::make("q", "two"));
  const auto first = b.consume("q", 1000ms), second = b.consume("q", 1000ms);
  ASSERT_TRUE(first && second);
  auto admin = server.connect();
  // Every other client: the broker's pooled connections, idle now.
  EXPECT_GE(admin.command({"CLIENT", "KILL", "TYPE", "normal"}).integer, 1);
  b.ack(*first);  // the first connection it takes is dead: once more, on a fresh one
  b.retry(*second, rt::decode(second->body), 0ms);
  EXPECT_TRUE(b.join("q", 0ms) == false) << "the retried message is queued";
  const auto again = b.consume("q", 1000ms);
  ASSERT_TRUE(again);
  EXPECT_EQ(rt::decode(again->body).actor, "two");
  b.ack(*again);
  EXPECT_TRUE(b.join("q", 1000ms)) << "nothing left in flight or queued";
}

TEST(redis_broker, a_settle_lost_twice_puts_the_message_back_once_the_server_answers) {
  // Persistence on, so that the in-flight list survives the server's restart.
  lt::redis_server server({"--appendonly", "yes", "--appendfsync", "always"});
  auto b = make_broker(server);
  b.enqueue(rt::message::make("q", "stuck"));
  const auto d = b.consume("q", 1000ms);
  ASSERT_TRUE(d);
  server.stop();
  EXPECT_THROW(b.ack(*d), br::connection_lost) << "both tries find no server";
  server.start();
  // The worker's own recovery: the next consume gives the message back, and gets it.
  const auto again = b.consume("q", 1000ms);
  ASSERT_TRUE(again) << "the message was lost in flight";
  EXPECT_EQ(again->body, d->body);
  b.ack(*again);
  EXPECT_TRUE(b.join("q", 1000ms));
}

TEST(redis_broker, a_stalled_server_fails_each_command_within_its_timeout_and_loses_nothing) {
  lt::redis_server server({"--enable-debug-command", "local"});
  auto opts = fast();
  opts.timeouts.io = 250ms;
  auto b = make_broker(server, opts);
  b.enqueue(rt::message::make("q", "during_stall"));
  const auto d = b.consume("q", 1000ms);
  ASSERT_TRUE(d);
  auto stall = std::async(std::launch::async, [&] {
    auto admin = server.connect();
    admin.blocking_command({"DEBUG", "SLEEP", "3"}, 5000ms);
  });
  std::this_thread::sleep_for(200ms);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(b.ack(*d), br::connection_lost);
  // Two tries of one 250 ms I/O timeout each, far from the stall's end: a generous bound.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
  stall.get();
  // The stalled server ran the ack once it woke (it had the command): nothing is left over,
  // and the next consume's recovery finds nothing to put back.
  EXPECT_FALSE(b.consume("q", 200ms));
  EXPECT_TRUE(b.join("q", 1000ms));
}

TEST(redis_worker, dead_letters_after_max_retries_and_bad_messages) {
  lt::redis_server server;
  auto broker = make_broker(server);
  rt::actor_registry actors;
  actors.add_coroutine("fail", lt::failing_actor(64));
  rt::worker w(broker, actors, {.threads = 2});
  w.add(std::make_shared<lt::mw::retries>(lt::mw::retries_options{.max_retries = 2}));
  w.add(lt::make_asyncio(lt::variant::fixed));
  w.start();
  const std::string good = rt::encode(rt::message::make("default", "fail"));
  broker.enqueue(rt::message::make("default", "fail"));
  broker.enqueue_raw("default", "{not json");
  broker.enqueue_raw("default", good.substr(0, good.size() / 2));
  broker.enqueue(rt::message::make("default", "nobody"));
  ASSERT_TRUE(broker.join("default", 60s));
  w.stop();
  auto dead = broker.dead_letters("default");
  ASSERT_EQ(dead.size(), 4u);
  std::vector<std::string> reasons;
  for (const auto& d : dead) reasons.push_back(d.reason);
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(reasons[0], "gave up after 2 retries: ValueError: boom");
  EXPECT_NE(reasons[1].find("not valid JSON"), std::string::npos);
  EXPECT_NE(reasons[2].find("not valid JSON"), std::string::npos);
  EXPECT_EQ(reasons[3], "unknown actor 'nobody'");
}

TEST(redis_broker, wake_consumers_unblocks_a_long_blmove_at_once) {
  lt::redis_server server;
  auto b = make_broker(server);
  auto waiting = std::async(std::launch::async, [&] { return b.consume("q", 60s); });
  std::this_thread::sleep_for(100ms);  // ordering only: blocked in BLMOVE by now
  b.wake_consumers();
  ASSERT_EQ(waiting.wait_for(30s), std::future_status::ready) << "BLMOVE was not unblocked";
  EXPECT_FALSE(waiting.get());
  b.enqueue(rt::message::make("q", "after"));
  EXPECT_TRUE(b.consume("q", 1000ms)) << "waking is not closing";
}

TEST(redis_worker, an_idle_worker_does_not_poll_and_stops_at_once) {
  lt::redis_server server;
  auto broker = make_broker(server);
  rt::actor_registry actors;
  actors.add("ok", [](rt::attempt_context&) -> rt::value { return nullptr; });
  auto admin = server.connect();
  const auto blmoves = [&] {
    const std::string info = admin.command({"INFO", "commandstats"}).str;
    const auto at = info.find("cmdstat_blmove:calls=");
    return at == std::string::npos ? 0 : std::stoi(info.substr(at + 21));
  };
  rt::worker w(broker, actors, {.threads = 2});
  w.start();
  std::this_thread::sleep_for(1500ms);  // idle: no message at all
  // One BLMOVE per thread and consume timeout (10 s); 50 ms timeouts made about 60 here.
  EXPECT_LE(blmoves(), 4);
  w.stop();  // the threads block for 10 s: stop must wake them (a hang fails by the timeout)
  EXPECT_EQ(w.broker_failures(), 0u) << w.last_broker_error();
}

TEST(redis_worker, keeps_running_through_a_server_restart) {
  lt::redis_server server;
  auto broker = make_broker(server);
  rt::actor_registry actors;
  std::atomic<int> ran{0};
  actors.add("ok", [&ran](rt::attempt_context&) -> rt::value {
    ++ran;
    return nullptr;
  });
  rt::worker w(broker, actors, {.threads = 1});
  w.start();
  server.stop();
  while (w.broker_failures() == 0) std::this_thread::sleep_for(5ms);
  EXPECT_NE(w.last_broker_error().find("127.0.0.1"), std::string::npos) << w.last_broker_error();
  server.start();
  broker.enqueue(rt::message::make("default", "ok"));
  ASSERT_TRUE(broker.join("default", 60s));
  w.stop();
  EXPECT_EQ(ran, 1);
}
