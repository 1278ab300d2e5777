#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace leakbench::runtime {

/// Thrown when a message cannot be decoded; what() is one line naming the problem.
class message_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Per-message options, carried through encode/decode (Dramatiq's message.options).
struct message_options {
  std::uint32_t retries = 0;                 ///< failed attempts so far
  std::optional<std::uint32_t> max_retries;  ///< overrides the Retries middleware's default
  std::int64_t eta_ms = 0;                   ///< not before this Unix time in ms; 0 = now
  /// The last failure's formatted traceback, as Dramatiq's Retries stores it on each retry.
  std::optional<std::string> traceback;
  friend bool operator==(const message_options&, const message_options&) = default;
};

/// A task message, as Dramatiq encodes it.
struct message {
  std::string id;
  std::string queue = "default";
  std::string actor;
  nlohmann::json args = nlohmann::json::array();
  message_options options;
  std::int64_t timestamp_ms = 0;

  /// A message with a fresh random id and the current timestamp.
  static message make(std::string queue, std::string actor,
                      nlohmann::json args = nlohmann::json::array());
  friend bool operator==(const message&, const message&) = default;
};

/// Messages larger than this are refused by decode() unless a caller passes its own limit.
inline constexpr std::size_t k_default_max_message_bytes = 1 << 20;

/// The JSON text of a message.
std::string encode(const message& m);
/// Parses and validates a message; throws message_error on malformed, truncated or oversized
/// input, a missing field, or a field of the wrong type.
message decode(std::string_view text, std::size_t max_bytes = k_default_max_message_bytes);

}  // namespace leakbench::runtime
