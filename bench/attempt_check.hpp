#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/attempt_table.hpp"

namespace leakbench::bench {

/// Why a real worker's `attempt` event shows that the attempt did not do `expected`'s work
/// (skipped, another outcome or exception, not the actor's or not this message's exception,
/// less payload held than the scenario holds at after_process_message), in one sentence; ""
/// if it did. `payload` is P in bytes.
std::string attempt_failure(const attempt_expectation& expected, const nlohmann::json& event,
                            std::int64_t payload);

}  // namespace leakbench::bench
