#include "reports/results/units.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace leakbench::reports {
namespace {

constexpr std::array<byte_unit, 5> k_units = {{{"B", 1},
                                               {"KiB", 1024.0},
                                               {"MiB", 1048576.0},
                                               {"GiB", 1073741824.0},
                                               {"TiB", 1099511627776.0}}};

constexpr std::string_view k_syntax = "expected e.g. 64KiB or 1.5 MiB (B, KiB, MiB, GiB, TiB)";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// Four significant digits, without trailing zeros: 921.6, 16, 2.25, 1.006.
std::string fixed4(double v) {
  const double a = std::abs(v);
  std::string s = fmt::format("{:.{}f}", v, a >= 100 ? 1 : a >= 10 ? 2 : 3);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

}  // namespace

std::uint64_t parse_size(std::string_view text) {
  const auto fail = [&](std::string_view why) {
    return std::invalid_argument(fmt::format("'{}' {}", text, why));
  };
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    throw fail("is not a size: a size has no sign");
  }
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  const std::string_view whole = text.substr(0, i);
  std::string_view fraction;
  if (i < text.size() && text[i] == '.') {
    const std::size_t start = ++i;
    while (i < text.size() && is_digit(text[i])) ++i;
    fraction = text.substr(start, i - start);
  }
  if (whole.empty() && fraction.empty()) throw fail(fmt::format("is not a size: {}", k_syntax));
  std::string_view unit = text.substr(i);
  if (unit.starts_with(' ')) unit.remove_prefix(1);
  unsigned shift = 0;
  if (!unit.empty()) {
    std::size_t u = 0;
    while (u < k_units.size() && k_units[u].name != unit) ++u;
    if (u == k_units.size()) {
      throw fail(
          fmt::format("has an unknown unit '{}': use B, KiB, MiB, GiB or TiB (1024-based)", unit));
    }
    shift = static_cast<unsigned>(10 * u);
  }
  // Exact in 128 bits: (whole * 10^k + fraction) * 2^shift must be a multiple of 10^k.
  __extension__ typedef unsigned __int128 wide;  // GCC and Clang have it
  constexpr wide k_most = std::numeric_limits<std::uint64_t>::max();
  const auto too_large = [&] { return fail("is too large: sizes stop at 2^64 - 1 bytes"); };
  wide n = 0, scale = 1;
  for (const char c : whole) {
    n = n * 10 + static_cast<unsigned>(c - '0');
    if (n > k_most) throw too_large();
  }
  if (fraction.size() > 15) throw fail("has too many decimals (at most 15)");
  for (const char c : fraction) {
    n = n * 10 + static_cast<unsigned>(c - '0');
    scale *= 10;
  }
  if (n > (k_most * scale) >> shift) throw too_large();
  const wide bytes = n << shift;
  if (bytes % scale != 0) {
    throw fail(fmt::format("is not a whole number of bytes ({:.6g} B)",
                           static_cast<double>(bytes) / static_cast<double>(scale)));
  }
  return static_cast<std::uint64_t>(bytes / scale);
}

double parse_number(std::string_view text) {
  double n = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, n, std::chars_format::fixed);
  if (ec != std::errc{} || stop != end || text.empty() || !std::isfinite(n)) {
    throw std::invalid_argument(fmt::format("'{}' is not a number", text));
  }
  return n;
}

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes)) return format_number(bytes);
  std::size_t u = 0;
  double v = bytes;
  while (std::abs(v) >= 1024 && u + 1 < k_units.size()) {
    v /= 1024;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f} B", std::abs(v) < 0.5 ? 0.0 : v);  // never "-0 B"
  return fmt::format("{} {}", fixed4(v), k_units[u].name);
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == std::round(value) && std::abs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fixed4(value);
}

std::string format_value(double value, bool bytes) {
  return bytes ? format_bytes(value) : format_number(value);
}

byte_unit unit_for(double largest) {
  std::size_t u = 0;
  while (u + 1 < k_units.size() && std::abs(largest) >= k_units[u + 1].bytes) ++u;
  return k_units[u];
}

}  // namespace leakbench::reports
