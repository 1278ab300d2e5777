// The table leakgate prints: one row per check, the reason under each row that is not a pass.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <ostream>

#include "reports/gate/cells.hpp"
#include "reports/gate/outcome.hpp"
#include "reports/gate/text.hpp"
#include "reports/results/units.hpp"

namespace leakbench::gate {
namespace {

constexpr std::string_view k_red = "\033[1;31m", k_green = "\033[32m", k_yellow = "\033[33m",
                           k_dim = "\033[2m", k_reset = "\033[0m";

class grid {
 public:
  explicit grid(std::vector<std::string> header) { rows_.push_back({std::move(header), {}, ""}); }
  void add(std::vector<std::string> cells, std::string_view color, std::string note) {
    rows_.push_back({std::move(cells), std::string(color), std::move(note)});
  }
  void print(std::ostream& out, bool color, std::size_t verdict_column) const {
    std::vector<std::size_t> width(rows_.front().cells.size(), 0);
    for (const auto& r : rows_) {
      for (std::size_t i = 0; i < r.cells.size(); ++i) {
        width[i] = std::max(width[i], display_width(r.cells[i]));
      }
    }
    for (const auto& r : rows_) {
      std::vector<std::string> cells;
      for (std::size_t i = 0; i < r.cells.size(); ++i) {
        // fmt pads by display width: "±" and "≤" take one column, as they show.
        std::string cell = fmt::format("{:<{}}", r.cells[i], width[i]);
        if (color && i == verdict_column && !r.color.empty()) {
          cell = fmt::format("{}{}{}", r.color, cell, k_reset);
        }
        cells.push_back(std::move(cell));
      }
      std::string line = fmt::format("{}", fmt::join(cells, "  "));
      line.erase(line.find_last_not_of(' ') + 1);
      out << line << '\n';
      if (!r.note.empty()) {
        out << (color ? k_dim : "") << "    " << r.note << (color ? k_reset : "") << '\n';
      }
    }
  }

 private:
  struct row {
    std::vector<std::string> cells;
    std::string color;
    std::string note;
  };
  std::vector<row> rows_;
};

std::string_view color_of(verdict v) {
  return v == verdict::pass             ? k_green
         : v == verdict::fail           ? k_red
         : v == verdict::not_applicable ? k_dim
                                        : k_yellow;
}

void print_checks(std::ostream& out, const outcome& o, bool color) {
  grid g({"benchmark", "counter", "value ± 95%", "limit", "verdict", "sees ≥"});
  for (const auto& c : o.eval.checks) {
    std::string verdict_text = to_string(c.outcome);
    if (c.outcome == verdict::inconclusive) {
      verdict_text += o.policy == inconclusive_policy::fail ? " (fails)" : " (passes)";
    }
    g.add({c.label(), c.rule ? c.counter : "-", value_cell(c), limit_cell(c), verdict_text,
           resolution_cell(c)},
          color_of(c.outcome),
          c.reason.empty() ? "" : fmt::format("{}: {}", c.rule_name, c.reason));
  }
  g.print(out, color, 4);
}

void print_baseline(std::ostream& out, const outcome& o, bool color) {
  out << fmt::format(
      "\nbaseline {}: a regression grows by more than {}, {:g}% and the two "
      "intervals combined\n",
      o.baseline->source, reports::format_bytes(o.budgets->baseline.abs_tolerance),
      o.budgets->baseline.rel_tolerance * 100);
  grid g({"benchmark", "counter", "baseline", "now", "change", "tolerance", "verdict"});
  for (const auto& c : o.comparisons) {
    const auto d = c.delta();
    const std::string_view tint = o.fails(c)                      ? k_red
                                  : c.kind == change::improvement ? k_green
                                  : c.kind == change::unchanged   ? std::string_view()
                                                                  : k_yellow;
    g.add({c.benchmark, c.counter.empty() ? "-" : c.counter, estimate_cell(c.before, c.bytes),
           estimate_cell(c.now, c.bytes), d ? signed_value(*d, c.bytes) : "-",
           d ? reports::format_value(c.tolerance, c.bytes) : "-",
           o.fails(c) ? fmt::format("{} FAIL", to_string(c.kind)) : to_string(c.kind)},
          tint, c.note);
  }
  g.print(out, color, 6);
}

}  // namespace

void write_table(std::ostream& out, const outcome& o, bool color) {
  out << "leakgate: " << describe_run(*o.results) << '\n';
  out << fmt::format("budgets: {} ({} rules)\n", o.budgets->source, o.budgets->rules.size());
  if (const auto note = injected_leak_note(*o.results)) out << "note: " << *note << '\n';
  if (const auto note = baseline_differences_note(o)) out << "note: " << printable(*note) << '\n';
  for (const auto& note : resolution_notes(o)) out << "resolution: " << note << '\n';
  out << '\n';
  print_checks(out, o, color);
  if (!o.eval.unchecked.empty()) {
    out << fmt::format("\nnot checked (no rule applies to them): {}\n",
                       fmt::join(o.eval.unchecked, ", "));
  }
  if (const auto note = cut_short_note(*o.results)) out << '\n' << printable(*note) << '\n';
  if (o.baseline != nullptr) print_baseline(out, o, color);
  const std::string verdict_text = o.passed() ? "PASS" : "FAIL";
  out << '\n' << summary_line(o) << " -> ";
  if (color) {
    out << (o.passed() ? k_green : k_red) << verdict_text << k_reset << '\n';
  } else {
    out << verdict_text << '\n';
  }
}

}  // namespace leakbench::gate
