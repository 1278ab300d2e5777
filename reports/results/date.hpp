#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace leakbench::reports {

/// Seconds since 1970-01-01T00:00:00Z of a date as Google Benchmark writes it in its context,
/// "2026-12-02T02:03:23+00:00" (any offset, or Z): two runs from different time zones order by
/// the moment they ran, not by their text. nullopt for anything else.
std::optional<std::int64_t> parse_date(std::string_view text);

}  // namespace leakbench::reports
