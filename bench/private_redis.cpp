#include "bench/private_redis.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness/brokers/redis_connection.hpp"

namespace leakbench::bench {
namespace {

/// The last lines of redis-server's log, for a failure message.
std::string log_tail(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last.empty() ? "" : ": " + last;
}

}  // namespace

private_redis::private_redis(const std::filesystem::path& dir, std::chrono::seconds timeout) {
  const auto socket = dir / "redis.sock";
  const auto log = dir / "redis.log";
  url_ = "unix://" + socket.string();
  spawn_options so;
  so.argv = {"redis-server",
             "--port",
             "0",
             "--unixsocket",
             socket.string(),
             "--unixsocketperm",
             "700",
             "--save",
             "",
             "--appendonly",
             "no",
             "--dir",
             dir.string(),
             "--logfile",
             log.string(),
             "--daemonize",
             "no"};
  try {
    server_ = std::make_unique<child_process>(so);
  } catch (const std::system_error& e) {
    throw brokers::broker_error(fmt::format(
        "cannot start a private redis-server ({}): install Debian's redis-server, or give "
        "--broker=redis://...",
        e.code().message()));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto status = server_->poll()) {
      throw brokers::broker_error(fmt::format("the private redis-server {}{}",
                                              child_process::describe(*status), log_tail(log)));
    }
    try {
      brokers::redis_connection c(brokers::redis_url::parse(url_), {});
      c.command({"PING"});
      return;
    } catch (const brokers::broker_error&) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw brokers::broker_error(
            fmt::format("the private redis-server did not answer within {} s (--attempt_timeout){}",
                        timeout.count(), log_tail(log)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

private_redis::~private_redis() {
  if (server_) server_->stop(std::chrono::seconds(5));
}

}  // namespace leakbench::bench
