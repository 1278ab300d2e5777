// The Markdown summary: a pull-request comment that reads on its own.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <ostream>

#include "reports/gate/cells.hpp"
#include "reports/gate/outcome.hpp"
#include "reports/gate/text.hpp"
#include "reports/results/text.hpp"
#include "reports/results/units.hpp"

namespace leakbench::gate {
namespace {

/// `s` safe inside a Markdown table cell.
std::string md(std::string_view s) { return reports::markdown_escape(printable(s)); }

/// `s` as an inline code span in a table cell: names read as they are, nothing to escape but
/// the cell separator.
std::string code(std::string_view s) {
  std::string out = "`";
  for (const char c : printable(s)) {
    if (c == '`') continue;  // cannot appear inside a one-backtick span
    if (c == '|') out += '\\';
    out += c;
  }
  return out + "`";
}

std::string icon(verdict v) {
  switch (v) {
    case verdict::pass:
      return "✅ pass";
    case verdict::fail:
      return "❌ FAIL";
    case verdict::inconclusive:
      return "⚠️ inconclusive";
    case verdict::not_applicable:
      return "➖ n/a";
  }
  return "?";
}

void checks_table(std::ostream& out, const outcome& o) {
  out << "| benchmark | rule | counter | value ± 95% | limit | verdict | sees ≥ | why |\n"
         "|---|---|---|---:|---:|---|---:|---|\n";
  for (const auto& c : o.eval.checks) {
    const std::string value = value_cell(c), limit = limit_cell(c), sees = resolution_cell(c);
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", code(c.label()),
                       md(c.rule_name), c.rule ? code(c.counter) : "-", md(value), md(limit),
                       icon(c.outcome), md(sees), md(c.reason));
  }
}

void baseline_table(std::ostream& out, const outcome& o) {
  out << fmt::format(
      "\n**Against the baseline** {}: a regression grows by more than {}, "
      "{:g}% and the two intervals combined.\n\n",
      code(o.baseline->source), reports::format_bytes(o.budgets->baseline.abs_tolerance),
      o.budgets->baseline.rel_tolerance * 100);
  out << "| benchmark | counter | baseline | now | change | verdict |\n"
         "|---|---|---:|---:|---:|---|\n";
  for (const auto& c : o.comparisons) {
    const auto show = [&](const std::optional<estimate>& e) {
      return e ? reports::format_value(e->value, c.bytes) : std::string("-");
    };
    const auto d = c.delta();
    std::string kind = to_string(c.kind);
    if (o.fails(c)) kind = "❌ " + kind;
    if (c.kind == change::improvement) kind = "✅ " + kind;
    out << fmt::format("| {} | {} | {} | {} | {} | {} |\n", code(c.benchmark),
                       c.counter.empty() ? "-" : code(c.counter), show(c.before), show(c.now),
                       d ? signed_value(*d, c.bytes) : "-",
                       md(kind + (c.note.empty() ? "" : ": " + c.note)));
  }
}

}  // namespace

void write_markdown(std::ostream& out, const outcome& o) {
  out << "### leakgate: " << (o.passed() ? "✅ PASS" : "❌ FAIL") << "\n\n";
  out << md(describe_run(*o.results)) << "  \n";
  out << "budgets: " << code(o.budgets->source) << "\n\n";
  if (const auto note = injected_leak_note(*o.results)) {
    out << "> **Note:** " << md(*note) << "\n\n";
  }
  if (const auto note = baseline_differences_note(o)) out << "> **Note:** " << md(*note) << "\n\n";
  for (const auto& note : resolution_notes(o)) out << "> **Resolution:** " << md(note) << "\n\n";
  checks_table(out, o);
  if (!o.eval.unchecked.empty()) {
    out << "\nNot checked (no rule applies to them): "
        << md(fmt::format("{}", fmt::join(o.eval.unchecked, ", "))) << "\n";
  }
  if (const auto note = cut_short_note(*o.results)) out << "\n> ⛔ " << md(*note) << "\n";
  if (o.baseline != nullptr) baseline_table(out, o);
  out << "\n" << md(summary_line(o)) << "\n";
}

}  // namespace leakbench::gate
