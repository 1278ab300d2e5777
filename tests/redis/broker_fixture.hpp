#pragma once

#include <chrono>
#include <string>
#include <thread>

#include "harness/brokers/redis_broker.hpp"
#include "tests/redis/redis_server.hpp"

namespace leakbench::test {

/// Short timeouts and heartbeats: the Redis tests' broker options.
inline brokers::redis_options fast(std::string prefix = "") {
  using namespace std::chrono_literals;
  brokers::redis_options o;
  o.prefix = std::move(prefix);
  o.timeouts = {.connect = 1000ms, .io = 1000ms};
  o.heartbeat = 50ms;
  o.dead_after = 300ms;
  return o;
}

/// A broker on `s`.
inline brokers::redis_broker make_broker(const redis_server& s, brokers::redis_options o = fast()) {
  return brokers::redis_broker(brokers::redis_url::parse(s.url()), std::move(o));
}

/// How many keys on `s` match `pattern`.
inline long long key_count(const redis_server& s, const std::string& pattern) {
  auto c = s.connect();
  return static_cast<long long>(c.command({"KEYS", pattern}).elements.size());
}

/// Kills every client of `s` but `admin`'s own connection; how many.
inline long long kill_clients(brokers::redis_connection& admin) {
  return admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}).integer;
}

/// How many clients of the connection's server wait in a blocking command or a CLIENT PAUSE.
inline long long blocked_clients(brokers::redis_connection& admin) {
  const std::string info = admin.command({"INFO", "clients"}).str;
  const auto at = info.find("blocked_clients:");
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + 16));
}

/// Holds every write (CLIENT PAUSE WRITE) until `held` clients wait on one, then kills every
/// client but `admin` and lets writes through: connections lost under commands that never ran.
inline long long kill_clients_held_in_a_write(brokers::redis_connection& admin,
                                              long long held = 1) {
  while (blocked_clients(admin) < held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const long long killed = kill_clients(admin);
  admin.command({"CLIENT", "UNPAUSE"});
  return killed;
}

}  // namespace leakbench::test
