#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/runtime/message.hpp"

namespace leakbench::brokers {

// Brokers carry the runtime's messages.
using runtime::message;

/// A message handed to a consumer and not yet settled. The body is the encoded message as
/// the broker stores it, so a malformed one can still be dead-lettered as it came.
struct delivery {
  std::string queue;
  std::string body;
  std::uint64_t tag = 0;  ///< broker-specific handle of the in-flight copy
};

/// A dead-lettered message and why.
struct dead_letter {
  std::string body;
  std::string reason;
};

/// Why a broker failed, for the one line a user reads (leakbench's exit code 3 names it).
enum class broker_cause {
  error,              ///< anything else: an error reply, a delivery not in flight
  unreachable,        ///< no connection (refused, no such socket) or no answer in time
  auth_refused,       ///< NOAUTH, WRONGPASS, or a password the server does not expect
  out_of_memory,      ///< -OOM: the server is at its maxmemory and evicts nothing
  connection_killed,  ///< the server closed the connection (CLIENT KILL, a restart)
};

/// "unreachable", "authentication refused", "out of memory", "killed connection"; "error".
constexpr std::string_view to_string(broker_cause c) {
  switch (c) {
    case broker_cause::unreachable:
      return "unreachable";
    case broker_cause::auth_refused:
      return "authentication refused";
    case broker_cause::out_of_memory:
      return "out of memory";
    case broker_cause::connection_killed:
      return "killed connection";
    case broker_cause::error:
      break;
  }
  return "error";
}

/// Thrown when the broker itself fails (connection lost, server error); cause() says why.
class broker_error : public std::runtime_error {
 public:
  /// `what` is the whole line.
  explicit broker_error(const std::string& what, broker_cause cause = broker_cause::error)
      : std::runtime_error(what), cause_(cause), detail_(what) {}
  /// "<where>: <cause> (<detail>)", or "<where>: <detail>" for a plain error.
  broker_error(broker_cause cause, std::string_view where, std::string_view detail)
      : std::runtime_error(cause == broker_cause::error
                               ? std::string(where) + ": " + std::string(detail)
                               : std::string(where) + ": " + std::string(to_string(cause)) + " (" +
                                     std::string(detail) + ")"),
        cause_(cause),
        where_(where),
        detail_(detail) {}

  broker_cause cause() const noexcept { return cause_; }
  /// The server, as the message names it (empty for a message given whole).
  const std::string& where() const noexcept { return where_; }
  /// What happened, without the server or the cause.
  const std::string& detail() const noexcept { return detail_; }

 private:
  broker_cause cause_;
  std::string where_, detail_;
};

/// At-least-once message broker: a consumed message stays in flight until it is settled
/// (acked, retried or dead-lettered); if its consumer dies first it is delivered again.
class broker {
 public:
  virtual ~broker() = default;

  /// Enqueues a message, delivered no earlier than `delay` from now.
  virtual void enqueue(const message& m, std::chrono::milliseconds delay = {}) = 0;
  /// Enqueues an already encoded body as is (whatever it holds).
  virtual void enqueue_raw(std::string_view queue, std::string body) = 0;
  /// Waits up to `timeout` for a message due on `queue`; nullopt on timeout or after close().
  virtual std::optional<delivery> consume(std::string_view queue,
                                          std::chrono::milliseconds timeout) = 0;
  /// Settles: processed.
  virtual void ack(const delivery& d) = 0;
  /// Settles and enqueues `next` after `delay`, as one step.
  virtual void retry(const delivery& d, const message& next, std::chrono::milliseconds delay) = 0;
  /// Settles into the dead-letter list with a reason.
  virtual void dead_letter(const delivery& d, std::string reason) = 0;
  /// Dead-lettered messages of `queue`, oldest first.
  virtual std::vector<brokers::dead_letter> dead_letters(std::string_view queue) = 0;
  /// Waits up to `timeout` until `queue` holds nothing ready, delayed or in flight.
  virtual bool join(std::string_view queue, std::chrono::milliseconds timeout) = 0;
  /// Wakes every waiting consumer; later consumes return nullopt at once.
  virtual void close() = 0;
  /// Makes every consume waiting now return nullopt at once, without closing: how a stopping
  /// worker ends its consumers' long waits instead of polling with short ones.
  virtual void wake_consumers() = 0;
};

}  // namespace leakbench::brokers
