// Why the Redis broker cannot be used, carried by broker_error::cause(); and a set-up that
// fails part-way leaves nothing behind.
#include <gtest/gtest.h>

#include "harness/brokers/redis_broker.hpp"
#include "tests/redis/broker_fixture.hpp"
#include "tests/redis/redis_server.hpp"

namespace br = leakbench::brokers;
namespace lt = leakbench::test;
using namespace std::chrono_literals;

namespace {

/// The broker_error that making a broker on `url` throws.
br::broker_error set_up_error(const std::string& url) {
  try {
    br::redis_broker b(br::redis_url::parse(url), lt::fast());
  } catch (const br::broker_error& e) {
    return e;
  }
  throw std::runtime_error("a broker was made on " + url);
}

}  // namespace

TEST(redis_broker, names_an_unreachable_server) {
  int port = 0;
  {
    lt::redis_server server;
    port = server.port();
  }
  const auto e = set_up_error("redis://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(e.cause(), br::broker_cause::unreachable);
  EXPECT_NE(std::string(e.what()).find(": unreachable (cannot connect: Connection refused)"),
            std::string::npos)
      << e.what();
}

TEST(redis_broker, names_a_refused_authentication_without_the_password) {
  lt::redis_server locked({"--requirepass", "s3cret"});
  lt::redis_server open;
  const std::pair<std::string, const char*> cases[] = {
      {locked.url("wrong-pass"), "authentication refused (WRONGPASS "},
      {locked.url(), "authentication refused (NOAUTH "},
      {open.url("wrong-pass"),
       "authentication refused (ERR AUTH <password> called without any password configured"},
  };
  for (const auto& [url, expected] : cases) {
    const auto e = set_up_error(url);
    EXPECT_EQ(e.cause(), br::broker_cause::auth_refused) << e.what();
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-pass"), std::string::npos) << e.what();
  }
}

TEST(redis_broker, names_a_server_out_of_memory) {
  lt::redis_server server;
  lt::fill_to_maxmemory(server);
  const auto e = set_up_error(server.url());
  EXPECT_EQ(e.cause(), br::broker_cause::out_of_memory) << e.what();
  EXPECT_NE(std::string(e.what()).find(": out of memory (OOM command not allowed"),
            std::string::npos)
      << e.what();
}

TEST(redis_broker, names_a_connection_killed_twice) {
  lt::closing_listener server;
  const auto e = set_up_error(server.url());
  EXPECT_EQ(e.cause(), br::broker_cause::connection_killed) << e.what();
  EXPECT_NE(std::string(e.what()).find(": killed connection (PING "), std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("again on a fresh connection"), std::string::npos)
      << e.what();
}

TEST(redis_broker, a_set_up_that_fails_part_way_removes_its_heartbeat) {
  // Recovery's ZRANGEBYSCORE fails after the heartbeat was written.
  lt::redis_server server({"--rename-command", "ZRANGEBYSCORE", ""});
  const auto e = set_up_error(server.url());
  EXPECT_NE(std::string(e.what()).find("ZRANGEBYSCORE"), std::string::npos) << e.what();
  EXPECT_EQ(lt::key_count(server, "*"), 0) << "set-up left its keys";
}
