// --redis_cleanup's scan: which leakbench prefixes are dead, by leakbench's and Dramatiq's
// heartbeats.
#include <gtest/gtest.h>

#include <map>

#include "harness/brokers/redis_broker.hpp"
#include "tests/redis/redis_server.hpp"

namespace br = leakbench::brokers;
namespace lt = leakbench::test;
using namespace std::chrono_literals;

namespace {

/// The server's clock in ms, as heartbeats are compared with it.
long long server_ms(br::redis_connection& c) {
  const auto t = c.command({"TIME"}).elements;
  return std::stoll(t.at(0).str) * 1000 + std::stoll(t.at(1).str) / 1000;
}

/// A Dramatiq namespace as a worker of it writes one: its heartbeats scored `at` (ms), a queue,
/// its messages, and an acks set.
void dramatiq_namespace(br::redis_connection& c, const std::string& ns, long long at) {
  c.command({"ZADD", ns + ":__heartbeats__", std::to_string(at), "worker-1"});
  c.command({"RPUSH", ns + ":default", "m1"});
  c.command({"HSET", ns + ":default.msgs", "m1", "{}"});
  c.command({"SADD", ns + ":__acks__.worker-1.default", "m1"});
}

}  // namespace

TEST(redis_cleanup, keeps_a_prefix_with_a_fresh_dramatiq_heartbeat_and_removes_a_stale_one) {
  lt::redis_server server;
  auto c = server.connect();
  const long long now = server_ms(c);
  const std::string fresh = "leakbench:00000000000000d1", stale = "leakbench:00000000000000d2";
  const std::string mixed = "leakbench:00000000000000d3";
  dramatiq_namespace(c, fresh, now);
  dramatiq_namespace(c, stale, now - 60000);
  // The newest of both kinds counts: leakbench's own heartbeat is stale, Dramatiq's fresh.
  dramatiq_namespace(c, mixed, now);
  c.command({"ZADD", mixed + ":heartbeats", std::to_string(now - 60000), "leakbench-worker"});

  br::redis_options opts;
  opts.dead_after = 10s;
  const auto found =
      br::redis_broker::remove_dead_prefixes(br::redis_url::parse(server.url()), opts);
  std::map<std::string, br::prefix_cleanup> by_prefix;
  for (const auto& p : found) by_prefix[p.prefix] = p;
  ASSERT_EQ(by_prefix.size(), 3u);
  EXPECT_FALSE(by_prefix.at(fresh).removed) << "a live Dramatiq run was removed";
  EXPECT_FALSE(by_prefix.at(mixed).removed) << "a live Dramatiq run was removed";
  EXPECT_TRUE(by_prefix.at(stale).removed);
  EXPECT_EQ(by_prefix.at(stale).keys, 4u);
  ASSERT_TRUE(by_prefix.at(stale).silent_for);
  EXPECT_GE(*by_prefix.at(stale).silent_for, 60s);
  EXPECT_EQ(c.command({"KEYS", fresh + ":*"}).elements.size(), 4u);
  EXPECT_EQ(c.command({"KEYS", mixed + ":*"}).elements.size(), 5u);
  EXPECT_TRUE(c.command({"KEYS", stale + ":*"}).elements.empty());
}
