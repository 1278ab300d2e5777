#include "reports/gate/cells.hpp"

#include <fmt/format.h>

#include "reports/results/units.hpp"

namespace leakbench::gate {

std::string value_cell(const check& c) {
  if (!c.value) return "-";
  const std::string v = reports::format_value(*c.value, c.bytes);
  if (!c.half_width) return v;
  return fmt::format("{} ± {}", v, reports::format_value(*c.half_width, c.bytes));
}

std::string limit_cell(const check& c) {
  if (!c.rule) return "-";
  const std::string op = c.kind == bound::max ? "≤" : "≥";
  if (!c.limit) return fmt::format("{} {}", op, c.limit_text);
  const std::string shown = reports::format_value(*c.limit, c.bytes);
  if (!c.limit_relative) return fmt::format("{} {}", op, shown);
  return fmt::format("{} {} ({})", op, shown, c.limit_text);
}

std::string resolution_cell(const check& c) {
  const auto r = c.resolution();
  return r ? reports::format_value(*r, c.bytes) : "";
}

std::string estimate_cell(const std::optional<reports::estimate>& e, bool bytes) {
  if (!e) return "-";
  return fmt::format("{} ± {}", reports::format_value(e->value, bytes),
                     reports::format_value(e->half_width, bytes));
}

}  // namespace leakbench::gate
