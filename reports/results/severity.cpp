#include "reports/results/severity.hpp"

#include <cmath>

namespace leakbench::reports {
namespace {

constexpr double k_page = 4096;  // RSS moves in pages: below one, nothing it can show

}  // namespace

const char* to_string(severity s) {
  switch (s) {
    case severity::none:
      return "none";
    case severity::low:
      return "low";
    case severity::critical:
      return "critical";
    case severity::catastrophic:
      return "catastrophic";
    case severity::unknown:
      break;
  }
  return "n/a";
}

severity classify(double growth, double half_width, double payload, bool fails_budget) {
  if (!std::isfinite(growth) || !(payload > 0)) return severity::unknown;
  const double ratio = growth / payload;
  if (growth < k_page || growth - std::abs(half_width) <= 0) {
    return fails_budget ? severity::low : severity::none;
  }
  if (ratio < 0.5) return severity::low;
  if (ratio < 2) return severity::critical;
  return severity::catastrophic;
}

std::string_view severity_thresholds() {
  return "Severity is the growth per retry g against the payload P: none when the 95% interval "
         "cannot tell g from zero or g is below one 4 KiB page (the smallest growth RSS can "
         "show), low below P/2, critical below 2P (a failed task keeps about its payload, like "
         "the write-up's single exception: 37 MB to 4.9 GB), catastrophic at 2P and above "
         "(chained exceptions, concurrent failures). A benchmark that fails a budget is at "
         "least low.";
}

}  // namespace leakbench::reports
