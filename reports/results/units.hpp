#pragma once

#include <string>
#include <string_view>

namespace leakbench::reports {

/// Parses a byte size: a number (decimals allowed) and an optional unit B, KiB, MiB, GiB or
/// TiB, with or without a space: "64KiB", "1.5 MiB", "512". Throws std::invalid_argument with
/// a one-line reason.
double parse_size(std::string_view text);

/// Renders bytes with a binary unit and up to four significant digits: "512 B", "16 KiB",
/// "921.6 KiB", "1.006 MiB". Negative values keep their sign.
std::string format_bytes(double bytes);

/// Renders a plain number compactly: integers without decimals, others with up to four
/// significant digits; NaN and infinities as "nan", "inf", "-inf".
std::string format_number(double value);

/// format_bytes if `bytes`, else format_number.
std::string format_value(double value, bool bytes);

}  // namespace leakbench::reports
