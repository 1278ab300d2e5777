#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leakbench::bench {

/// What one scenario's attempt must do in a real worker: a row of docs/attempts.md.
struct attempt_expectation {
  std::string scenario;
  bool fails = true;      ///< false: the actor returns
  std::string exception;  ///< the type it raises (`__qualname__`); empty if it succeeds
  std::int64_t held_num = 0, held_den = 1;  ///< payloads alive at after_process_message

  /// The bytes that must be alive at after_process_message, for payload `p`.
  std::int64_t held_bytes(std::int64_t p) const { return p * held_num / held_den; }
};

/// Parses the table between `<!-- attempts:begin -->` and `<!-- attempts:end -->` in `doc`;
/// throws std::invalid_argument with one line naming the bad row.
std::vector<attempt_expectation> parse_attempt_table(std::string_view doc);

/// The shipped table (docs/attempts.md, built in), parsed once; a shipped table that does not
/// parse aborts: it is a build's invariant, not the user's input.
const std::vector<attempt_expectation>& attempt_table();

/// The row of `scenario`, or nullptr.
const attempt_expectation* find_attempt(std::string_view scenario);

}  // namespace leakbench::bench
