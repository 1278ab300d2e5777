#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace leakbench::reports {

/// Parses a byte size, the one syntax of every leakbench tool: a decimal (digits, optionally
/// a point and more digits) and an optional unit B, KiB, MiB, GiB or TiB (1024-based), with at
/// most one space between: "64KiB", "1.5MiB", "1 MiB", "512". Throws std::invalid_argument
/// with a one-line reason for anything else: a sign ("-16KiB"), an unknown unit ("16KB"), a
/// size that is not a whole number of bytes ("0.3KiB"), or one above 2^64 - 1 bytes.
std::uint64_t parse_size(std::string_view text);

/// Parses a plain decimal number without a unit ("0.5", "-3", "90"); throws
/// std::invalid_argument with a one-line reason for anything else or a non-finite value.
double parse_number(std::string_view text);

/// Renders bytes with a binary unit and up to four significant digits: "512 B", "16 KiB",
/// "921.6 KiB", "1.006 MiB". Negative values keep their sign.
std::string format_bytes(double bytes);

/// Renders a plain number compactly: integers without decimals, others with up to four
/// significant digits; NaN and infinities as "nan", "inf", "-inf".
std::string format_number(double value);

/// format_bytes if `bytes`, else format_number.
std::string format_value(double value, bool bytes);

/// A unit to draw a quantity in, chosen for its range: the largest binary unit in which
/// `largest` (the biggest magnitude to show) is at least 1 ("B", "KiB", "MiB", "GiB", "TiB").
struct byte_unit {
  std::string_view name;
  double bytes = 1;
};
byte_unit unit_for(double largest);

}  // namespace leakbench::reports
