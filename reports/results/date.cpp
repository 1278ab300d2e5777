#include "reports/results/date.hpp"

#include <charconv>
#include <chrono>

namespace leakbench::reports {
namespace {

/// The unsigned decimal of exactly `width` digits at `at`, if there is one.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) return std::nullopt;
  int v = 0;
  const char* first = text.data() + at;
  const auto [end, ec] = std::from_chars(first, first + width, v);
  if (ec != std::errc{} || end != first + width || *first == '-' || *first == '+') {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::optional<std::int64_t> parse_date(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS, then Z or +HH:MM / -HH:MM.
  const auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2),
             hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text.size() < 20 ||
      text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(*year),
                                        std::chrono::month(static_cast<unsigned>(*month)),
                                        std::chrono::day(static_cast<unsigned>(*day))};
  if (!ymd.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  std::int64_t offset = 0;
  const std::string_view zone = text.substr(19);
  if (zone != "Z") {
    const auto h = digits(zone, 1, 2), m = digits(zone, 4, 2);
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || !h || !m) {
      return std::nullopt;
    }
    offset = (zone[0] == '-' ? -1 : 1) * (*h * 3600 + *m * 60);
  }
  const auto days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return static_cast<std::int64_t>(days) * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
}

}  // namespace leakbench::reports
