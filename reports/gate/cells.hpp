#pragma once

#include <optional>
#include <string>

#include "reports/gate/decide.hpp"
#include "reports/results/estimate.hpp"

namespace leakbench::gate {

// The cells of leakgate's tables, one formatter for the terminal and Markdown alike.

/// "64.51 KiB ± 321 B", "1" (no interval), "-" (no value).
std::string value_cell(const check& c);

/// "≤ 16 KiB", "≥ 921.6 KiB (90% expected)", or as written when unresolved ("≥ 90% expected").
std::string limit_cell(const check& c);

/// "sees ≥": twice the half-width, or "" without an interval.
std::string resolution_cell(const check& c);

/// "1.006 MiB ± 355 B", or "-".
std::string estimate_cell(const std::optional<reports::estimate>& e, bool bytes);

}  // namespace leakbench::gate
