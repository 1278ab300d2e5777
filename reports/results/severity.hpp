#pragma once

#include <string_view>

namespace leakbench::reports {

/// How bad a growth per retry is against the payload P, in the write-up's words.
enum class severity { none, low, critical, catastrophic, unknown };

/// "none", "low", "critical", "catastrophic", "n/a".
const char* to_string(severity s);

/// The one severity rule of leakreport (and leakbench's console): the growth per retry g, the
/// half-width h of its 95% interval, against the payload P. none: the interval cannot tell g
/// from zero (g - h <= 0) or g is below one 4 KiB page, the smallest growth RSS can show; low:
/// below P/2; critical: below 2P (a failed task keeps about its payload); catastrophic: 2P and
/// above. A benchmark that a budget fails (`fails_budget`) is at least low: no tool calls
/// "none" what the gate fails. unknown when g is not finite or P is not positive.
severity classify(double growth, double half_width, double payload, bool fails_budget = false);

/// The thresholds as one sentence, stated under every summary table.
std::string_view severity_thresholds();

}  // namespace leakbench::reports
