// Redis URLs: what leakbench accepts means the same to redis-py's from_url (4.3), and no
// password ever shows in a message.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "harness/brokers/redis_broker.hpp"
#include "harness/runtime/message.hpp"
#include "tests/redis/broker_fixture.hpp"
#include "tests/redis/redis_server.hpp"

namespace rt = leakbench::runtime;
namespace br = leakbench::brokers;
namespace lt = leakbench::test;
using namespace std::chrono_literals;

TEST(redis_url, parses_host_port_password_and_db) {
  const auto u = br::redis_url::parse("redis://:s3cret@127.0.0.1:6380/2");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 6380);
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.describe(), "redis://:***@127.0.0.1:6380/2") << "the password never shows";
  for (const char* bad : {"http://x:1", "redis://:1", "redis://x:0", "redis://x:70000",
                          "redis://x:1/db", "redis://user@x:1"}) {
    EXPECT_THROW(br::redis_url::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(redis_url, accepts_ipv6_hosts_and_a_scheme_in_any_case) {
  const auto v6 = br::redis_url::parse("redis://[::1]:6390/1");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 6390);
  EXPECT_EQ(v6.db, 1);
  EXPECT_EQ(v6.describe(), "redis://[::1]:6390/1");
  EXPECT_EQ(br::redis_url::parse("REDIS://:pw@[fe80::1]:7000").describe(),
            "redis://:***@[fe80::1]:7000/0");
  EXPECT_EQ(br::redis_url::parse("Redis://localhost:6379").host, "localhost");
  for (const char* bad : {"redis://[::1:6379", "redis://[]:6379"}) {
    EXPECT_THROW(br::redis_url::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(redis_url, never_echoes_a_password_in_an_error) {
  for (const char* bad :
       {"redis://:secret@host:notaport", "http://:secret@host:1", "redis://:secret@host:"}) {
    try {
      br::redis_url::parse(bad);
      ADD_FAILURE() << "parsed " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(br::redis_url::mask("redis://:secret@host:notaport"), "redis://:***@host:notaport");
  EXPECT_EQ(br::redis_url::mask("redis://host:1"), "redis://host:1");
}

namespace {

/// What a URL names, as redis-py's parse_url reads it.
struct expected_url {
  const char* text;
  const char* user;
  const char* password;
  const char* host;
  int port;
  const char* socket;
  int db;
};

}  // namespace

// Each row was checked against redis-py 4.3.4's parse_url on this machine.
TEST(redis_url, reads_users_percent_encoding_default_ports_and_unix_sockets_as_redis_py_does) {
  const expected_url rows[] = {
      {"redis://alice:s3cret@h:6380/2", "alice", "s3cret", "h", 6380, "", 2},
      {"redis://al%40ice:p%40ss%3Aw%2F@h", "al@ice", "p@ss:w/", "h", 6379, "", 0},
      {"redis://:p@ss@h:1", "", "p@ss", "h", 1, "", 0},       // the last @ ends the password
      {"redis://u:pa:ss@h", "u", "pa:ss", "h", 6379, "", 0},  // the first : ends the user
      {"redis://:p+w@h", "", "p+w", "h", 6379, "", 0},        // a + stays a +
      {"redis://h:6379/", "", "", "h", 6379, "", 0},
      {"redis://h/", "", "", "h", 6379, "", 0},
      {"redis://h", "", "", "h", 6379, "", 0},
      {"redis://[::1]", "", "", "::1", 6379, "", 0},
      {"unix:///tmp/r.sock", "", "", "", 6379, "/tmp/r.sock", 0},
      {"unix:///tmp/r.sock?db=3", "", "", "", 6379, "/tmp/r.sock", 3},
      {"UNIX://:pw@/x", "", "pw", "", 6379, "/x", 0},
      {"unix://alice:pw@/var/run/redis%20x.sock?db=1", "alice", "pw", "", 6379,
       "/var/run/redis x.sock", 1},
  };
  for (const auto& row : rows) {
    const auto u = br::redis_url::parse(row.text);
    EXPECT_EQ(u.user, row.user) << row.text;
    EXPECT_EQ(u.password, row.password) << row.text;
    EXPECT_EQ(u.host, row.host) << row.text;
    EXPECT_EQ(u.port, row.port) << row.text;
    EXPECT_EQ(u.socket, row.socket) << row.text;
    EXPECT_EQ(u.is_unix(), row.socket[0] != '\0') << row.text;
    EXPECT_EQ(u.db, row.db) << row.text;
  }
}

TEST(redis_url, refuses_what_redis_py_would_read_differently) {
  for (const char* bad : {
           "redis://user@h",    // redis-py: AUTH user "" (no password)
           "redis://u:@h",      // the same, an empty password
           "redis://:p/w@h",    // redis-py: the password ends at the '/'
           "redis://:p?w@h",    // ... at the '?'
           "redis://:p%zz@h",   // redis-py keeps a stray '%' as is
           "redis://:p%ff@h",   // redis-py: not UTF-8, becomes U+FFFD
           "redis://:p w@h",    // urlsplit drops spaces and tabs
           "redis://h/1?db=2",  // redis-py: the query's db wins
           "redis://h:1#frag",  // a fragment redis-py drops
           "redis://h:",        // an empty port
           "redis://h:1:2",     // two ports
           "rediss://h:1",      // TLS
           "unix://host/path",  // redis-py ignores the host
           "unix://",
           "unix:///",            // no socket
           "unix:///x?db=1&x=2",  // another parameter, a keyword argument to redis-py
           "unix:///x?socket_timeout=1",
           "unix:///x?db=",
           "unix:///x?db=-1",
           "unix:///a%00b",  // a NUL in a path
       }) {
    EXPECT_THROW(br::redis_url::parse(bad), std::invalid_argument) << bad;
  }
  EXPECT_THROW(br::redis_url::parse("unix:///" + std::string(200, 'x')), std::invalid_argument)
      << "hiredis would cut a socket path past sun_path short";
}

TEST(redis_url, describes_users_and_sockets_with_the_password_masked) {
  EXPECT_EQ(br::redis_url::parse("redis://alice:s3cret@h:6380/2").describe(),
            "redis://alice:***@h:6380/2");
  EXPECT_EQ(br::redis_url::parse("redis://al%40ice:p%40ss@h").describe(),
            "redis://al%40ice:***@h:6379/0");
  EXPECT_EQ(br::redis_url::parse("redis://h:6379/").describe(), "redis://h:6379/0");
  EXPECT_EQ(br::redis_url::parse("unix://:pw@/tmp/r.sock?db=3").describe(),
            "unix://:***@/tmp/r.sock?db=3");
  EXPECT_EQ(br::redis_url::parse("unix:///tmp/a%20b.sock").describe(),
            "unix:///tmp/a%20b.sock?db=0");
  EXPECT_EQ(br::redis_url::mask("unix://:secret@/tmp/r.sock"), "unix://:***@/tmp/r.sock");
  EXPECT_EQ(br::redis_url::mask("redis://alice:s%65cret@h:1"), "redis://:***@h:1");
  EXPECT_TRUE(br::redis_url::has_scheme("Unix:///x"));
  for (const char* bad : {"redis://alice:s%65cret@h:notaport", "redis://:secret%zz@h",
                          "redis://:secret%ff@h", "unix://:secret@host/x", "unix:/:secret@/x",
                          "redis://:secret@h/1?db=2", "redis://:sec/ret@h"}) {
    try {
      br::redis_url::parse(bad);
      ADD_FAILURE() << "parsed " << bad;
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find("secret"), std::string::npos) << what;
      EXPECT_EQ(what.find("s%65cret"), std::string::npos) << what;
      EXPECT_EQ(what.find("ret"), std::string::npos) << what;
    }
  }
}

TEST(redis_broker, logs_in_as_an_acl_user_with_a_percent_encoded_password) {
  // Redis 6 ACL users: AUTH user password, here "p@ss:w/".
  lt::redis_server server({"--user", "alice", "on", ">p@ss:w/", "~*", "&*", "+@all"});
  const auto url = br::redis_url::parse(
      "redis://alice:p%40ss%3Aw%2F@127.0.0.1:" + std::to_string(server.port()) + "/1");
  br::redis_broker b(url, lt::fast());
  b.enqueue(rt::message::make("q", "a"));
  auto c = server.connect();
  c.command({"AUTH", "alice", "p@ss:w/"});
  c.command({"SELECT", "1"});
  EXPECT_GT(c.command({"DBSIZE"}).integer, 0) << "db 1 as alice";
  const auto wrong =
      br::redis_url::parse("redis://alice:nope@127.0.0.1:" + std::to_string(server.port()));
  try {
    br::redis_broker refused(wrong, lt::fast());
    FAIL() << "logged in with a wrong password";
  } catch (const br::broker_error& e) {
    EXPECT_EQ(e.cause(), br::broker_cause::auth_refused) << e.what();
  }
}

TEST(redis_broker, works_through_a_unix_socket_with_a_password_and_a_db) {
  lt::redis_server server({"--requirepass", "s3cret"});
  auto c = server.connect("s3cret");
  c.command({"SELECT", "2"});
  {
    br::redis_broker b(br::redis_url::parse(server.unix_url("s3cret", 2)), lt::fast());
    b.enqueue(rt::message::make("q", "a"));
    const auto d = b.consume("q", 1000ms);
    ASSERT_TRUE(d);
    b.ack(*d);
    EXPECT_GT(c.command({"DBSIZE"}).integer, 0) << "db 2, through the socket";
  }
  EXPECT_EQ(c.command({"DBSIZE"}).integer, 0) << "closing removed the keys";
  try {
    br::redis_broker b(br::redis_url::parse("unix://" + server.socket_path() + ".missing"),
                       lt::fast());
    FAIL() << "connected to no socket";
  } catch (const br::broker_error& e) {
    EXPECT_EQ(e.cause(), br::broker_cause::unreachable) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos)
        << e.what();
  }
}
