#include "reports/results/units.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace leakbench::reports {
namespace {

struct unit {
  std::string_view name;
  double bytes;
};

constexpr std::array<unit, 5> k_units = {{{"B", 1},
                                          {"KiB", 1024.0},
                                          {"MiB", 1048576.0},
                                          {"GiB", 1073741824.0},
                                          {"TiB", 1099511627776.0}}};

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

double parse_size(std::string_view text) {
  const std::string_view original = text;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end == text.data() || !std::isfinite(n)) {
    throw std::invalid_argument(
        fmt::format("'{}' is not a size: expected e.g. 64KiB (B, KiB, MiB, GiB, TiB)", original));
  }
  std::string_view rest(end, static_cast<std::size_t>(text.data() + text.size() - end));
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.empty()) return n;
  for (const auto& u : k_units) {
    if (rest == u.name) return n * u.bytes;
  }
  throw std::invalid_argument(fmt::format(
      "'{}' has an unknown unit '{}': use B, KiB, MiB, GiB or TiB (1024-based)", original, rest));
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

}  // namespace leakbench::reports
