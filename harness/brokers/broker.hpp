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

/// Thrown when the broker itself fails (connection lost, server error).
class broker_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
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
