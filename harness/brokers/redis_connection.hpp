#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "harness/brokers/broker.hpp"
#include "harness/brokers/redis_url.hpp"

struct redisContext;

namespace leakbench::brokers {

/// The connection failed (cannot connect, I/O error, timeout, closed by the server): whether
/// the command ran on the server is unknown. The next command reconnects. cause() is
/// unreachable (no connection, no answer in time) or connection_killed (closed under us).
class connection_lost : public broker_error {
 public:
  using broker_error::broker_error;
};

/// A reply, copied out of hiredis's reply object at once.
struct redis_value {
  enum class kind { nil, string, integer, array, status };
  kind type = kind::nil;
  std::string str;
  long long integer = 0;
  std::vector<redis_value> elements;
};

/// How long connecting and each command may take.
struct redis_timeouts {
  std::chrono::milliseconds connect{2000};
  std::chrono::milliseconds io{2000};
};

/// One hiredis connection (not thread-safe): connects, authenticates and selects the db on its
/// first command, runs commands, and reconnects on the next command after an I/O failure. Every
/// failure throws broker_error with one line that names the server: connection_lost for the
/// connection, plain broker_error for an error reply.
class redis_connection {
 public:
  /// Connects on the first command, so that a retry covers connecting too.
  redis_connection(redis_url url, redis_timeouts timeouts);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  /// Runs a command; a Redis error reply throws broker_error too.
  redis_value command(const std::vector<std::string_view>& args);
  /// This connection's CLIENT ID on the server (asked once per connection), for CLIENT UNBLOCK.
  long long client_id();
  /// Runs a blocking command that may wait `block` before the server answers.
  redis_value blocking_command(const std::vector<std::string_view>& args,
                               std::chrono::milliseconds block);

 private:
  void connect();
  redis_value run(const std::vector<std::string_view>& args);
  void set_io_timeout(std::chrono::milliseconds t);

  redis_url url_;
  redis_timeouts timeouts_;
  redisContext* ctx_ = nullptr;  // null while disconnected
  long long client_id_ = -1;     // -1 until asked, and after a reconnect
};

/// Deletes every key matching `pattern` (SCAN and UNLINK); returns how many.
std::size_t unlink_matching(redis_connection& c, const std::string& pattern);

/// Runs `step(c)` and, if the connection is lost, once more on `c`, which reconnects: the one
/// retry of every step that is safe to repeat (whether the lost try ran on the server is
/// unknown). A second loss is thrown, saying so if the connection was killed again.
template <class Step>
auto retry_once(redis_connection& c, Step&& step) -> decltype(step(c)) {
  try {
    return step(c);
  } catch (const connection_lost&) {
    // The connection is dropped: the next command connects afresh.
  }
  try {
    return step(c);
  } catch (const connection_lost& e) {
    if (e.cause() != broker_cause::connection_killed) throw;
    throw connection_lost(e.cause(), e.where(), e.detail() + ", and again on a fresh connection");
  }
}

}  // namespace leakbench::brokers
