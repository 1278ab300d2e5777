#include "reports/gate/decide.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "reports/gate/interval.hpp"
#include "reports/results/units.hpp"

namespace leakbench::gate {
namespace {

using reports::benchmark_row;

std::string show(double v, bool bytes) { return reports::format_value(v, bytes); }

/// The retries of `row` and the points its fit had, or nullopt for fewer than 3 retries.
struct fit_size {
  std::size_t retries, points, warmup;
};
std::optional<fit_size> fit_of(const benchmark_row& row, const reports::run& run) {
  const auto retries = row.number("retries");
  if (!retries || !std::isfinite(*retries) || *retries < 3) return std::nullopt;
  const auto done = static_cast<std::size_t>(*retries);
  const auto configured = static_cast<std::size_t>(run.context_number("warmup").value_or(0));
  const std::size_t warmup = std::min(configured, done - 3);  // as leakbench clamps it
  return fit_size{done, done - warmup, configured};
}

/// The retries a rerun would need to decide `c`, as a sentence, or why none will.
std::string retries_advice(const check& c, const benchmark_row& row, const reports::run& run) {
  const double distance = std::abs(*c.limit - *c.value);
  const auto fit = fit_of(row, run);
  if (!fit) return "more iterations would narrow the interval";
  const std::size_t done = fit->retries, configured = fit->warmup;
  const auto points = points_for_half_width(*c.half_width, fit->points, distance);
  if (!points) {
    return fmt::format(
        "the value sits within {} of the limit: no practical number of retries "
        "decides it; move the limit or find the growth",
        show(distance, c.bytes));
  }
  return fmt::format("about {} retries (now {}) would decide it, if the value stays at {}",
                     *points + configured, done, show(*c.value, c.bytes));
}

/// Notes in `c` when its resolution is coarser than its limit, with the retries that would do.
void note_resolution(check& c, const benchmark_row& row, const reports::run& run) {
  const auto res = c.resolution();
  if (!res || !(*c.limit > 0) || *res <= *c.limit) return;
  const auto fit = fit_of(row, run);
  if (!fit) return;
  c.retries = fit->retries;
  const auto points = points_for_half_width(*c.half_width, fit->points, *c.limit / 2);
  c.retries_to_resolve = points ? std::optional<std::size_t>(*points + fit->warmup) : std::nullopt;
}

void decide(check& c, const rule& r, const benchmark_row& row, const reports::run& run) {
  note_resolution(c, row, run);
  const double v = *c.value, h = c.half_width.value_or(0), l = *c.limit;
  const std::string limit_text = r.limit.of.empty()
                                     ? show(l, c.bytes)
                                     : fmt::format("{} ({})", show(l, c.bytes), r.limit.text);
  const std::string measured =
      c.half_width ? fmt::format("{} ± {}", show(v, c.bytes), show(h, c.bytes)) : show(v, c.bytes);
  const bool max = r.kind == bound::max;
  if (max ? v + h <= l : v - h >= l) {
    c.outcome = verdict::pass;
  } else if (max ? v - h > l : v + h < l) {
    c.outcome = verdict::fail;
    c.reason = c.half_width
                   ? fmt::format("{} is {} {}, its whole interval", measured,
                                 max ? "above" : "below", limit_text)
                   : fmt::format("{} is {} {}", measured, max ? "above" : "below", limit_text);
  } else {
    c.outcome = verdict::inconclusive;
    c.reason =
        fmt::format("{} straddles {}: {}", measured, limit_text, retries_advice(c, row, run));
  }
}

/// The number `field` of `row` for `purpose`, or a failing reason.
std::optional<double> need(check& c, const benchmark_row& row, const std::string& field,
                           const char* purpose) {
  const auto v = row.number(field);
  if (!v) {
    c.outcome = verdict::fail;
    c.reason = fmt::format("no counter '{}' ({})", field, purpose);
    return std::nullopt;
  }
  if (std::isnan(*v)) {
    c.outcome = verdict::fail;
    c.reason = fmt::format("{} is NaN ({})", field, purpose);
    return std::nullopt;
  }
  return v;
}

/// Whether rule `r` reads a heap counter: its value, interval, limit or a condition.
bool reads_heap(const rule& r) {
  if (reports::is_heap_counter(r.counter) || reports::is_heap_counter(r.interval) ||
      reports::is_heap_counter(r.limit.of)) {
    return true;
  }
  return std::any_of(r.when.begin(), r.when.end(),
                     [](const condition& c) { return reports::is_heap_counter(c.counter); });
}

/// Fills `c` for rule `r` on `row`; false if a condition excludes the row.
bool apply(check& c, const rule& r, const benchmark_row& row, const reports::run& run) {
  if (!run.has_heap() && reads_heap(r)) {
    for (const auto& cond : r.when) {  // a condition it can read may still leave the row out
      const auto v =
          reports::is_heap_counter(cond.counter) ? std::nullopt : row.number(cond.counter);
      if (v && !std::isnan(*v) && !cond.holds(*v)) return false;
    }
    c.outcome = verdict::not_applicable;
    c.reason = fmt::format(
        "not applicable: a {} run has no heap counter (the worker is measured from outside its "
        "process)",
        run.target());
    return true;
  }
  if (row.error_occurred) {
    c.outcome = verdict::fail;
    c.reason = fmt::format("the benchmark failed: {}",
                           row.error_message.empty() ? "(no message)" : row.error_message);
    return true;
  }
  for (const auto& cond : r.when) {
    const auto v = need(c, row, cond.counter, "the rule's condition");
    if (!v) return true;
    if (!cond.holds(*v)) return false;
  }
  c.value = need(c, row, r.counter, "the value");
  if (!c.value) return true;
  if (std::isinf(*c.value)) {
    c.outcome = verdict::fail;
    c.reason = fmt::format("{} is infinite", r.counter);
    return true;
  }
  double of = 0;
  if (!r.limit.of.empty()) {
    const auto v = need(c, row, r.limit.of, "the limit");
    if (!v) return true;
    of = *v;
  }
  c.limit = r.limit.resolve(of);
  if (!r.interval.empty()) {
    // A fit of two points has no interval: leakbench leaves the counter out (JSON has no
    // Infinity); older runs wrote Infinity. Either way the check cannot decide.
    const auto two_points = [&](const std::string& what) {
      c.outcome = verdict::inconclusive;
      c.reason = fmt::format(
          "{}: the fit had two points; run at least three retries after the "
          "warm-up",
          what);
      return true;
    };
    if (!row.number(r.interval) && row.number("retries").value_or(3) < 3) {
      return two_points(fmt::format("no {} (the ceiling stopped the run)", r.interval));
    }
    c.half_width = need(c, row, r.interval, "the interval");
    if (!c.half_width) return true;
    c.half_width = std::abs(*c.half_width);
    if (std::isinf(*c.half_width)) return two_points(fmt::format("{} is unbounded", r.interval));
  }
  decide(c, r, row, run);
  return true;
}

}  // namespace

const char* to_string(verdict v) {
  switch (v) {
    case verdict::pass:
      return "pass";
    case verdict::fail:
      return "FAIL";
    case verdict::inconclusive:
      return "inconclusive";
    case verdict::not_applicable:
      return "n/a";
  }
  return "?";
}

verdict worst(verdict a, verdict b) {
  const auto rank = [](verdict v) {
    return v == verdict::fail ? 3 : v == verdict::inconclusive ? 2 : v == verdict::pass ? 1 : 0;
  };
  return rank(a) >= rank(b) ? a : b;
}

std::string check::label() const {
  return repetition < 0 ? benchmark : fmt::format("{} #{}", benchmark, repetition);
}

std::optional<double> check::resolution() const {
  if (!half_width || !std::isfinite(*half_width)) return std::nullopt;
  return 2 * *half_width;
}

bool check::fails(inconclusive_policy p) const {
  return outcome == verdict::fail ||
         (outcome == verdict::inconclusive && p == inconclusive_policy::fail);
}

std::size_t evaluation::count(verdict v) const {
  return static_cast<std::size_t>(
      std::count_if(checks.begin(), checks.end(), [v](const check& c) { return c.outcome == v; }));
}

bool evaluation::fails(inconclusive_policy p) const {
  return std::any_of(checks.begin(), checks.end(), [p](const check& c) { return c.fails(p); });
}

evaluation evaluate(const reports::run& results, const budgets& b) {
  const auto keys = results.keys();
  bool any_named = false;
  for (const auto& r : b.rules) {
    const bool named =
        std::any_of(keys.begin(), keys.end(), [&](const std::string& k) { return r.matches(k); });
    any_named = any_named || named;
    if (named || r.optional) continue;
    std::string names;
    std::size_t listed = 0;
    for (; listed < keys.size() && names.size() < 160; ++listed) {
      names += fmt::format("{}{}", listed == 0 ? "" : ", ", keys[listed]);
    }
    if (listed < keys.size()) names += fmt::format(" and {} more", keys.size() - listed);
    throw reports::input_error(
        fmt::format("{}:{}: rule \"{}\" (match \"{}\") names no benchmark in {} (it has: {}); "
                    "set optional = true if that is expected",
                    b.source, r.line, r.name, r.pattern, results.source, names));
  }
  if (!any_named) {
    throw reports::input_error(
        fmt::format("{}: no rule names any benchmark in {}: the gate would check nothing", b.source,
                    results.source));
  }
  evaluation e;
  for (const auto& key : keys) {
    const auto reps = results.repetitions_of(key);
    const std::size_t checks_before = e.checks.size();
    for (const auto* row : reps) {
      const std::int64_t repetition = row->repetitions > 1 ? row->repetition_index : -1;
      bool row_named = false;
      for (const auto& r : b.rules) {
        if (!r.matches(key)) continue;
        row_named = true;
        check c{.benchmark = key,
                .repetition = repetition,
                .rule = static_cast<std::size_t>(&r - b.rules.data()),
                .rule_name = r.name,
                .kind = r.kind,
                .limit_text = r.limit.text,
                .limit_relative = !r.limit.of.empty(),
                .counter = r.counter};
        c.bytes = b.info(r.counter).bytes;
        if (apply(c, r, *row, results)) {
          e.checks.push_back(std::move(c));
        } else if (row == reps.front()) {
          e.excluded.push_back({key, *c.rule});
        }
      }
      if (!row_named && row->error_occurred) {
        check c{.benchmark = key, .repetition = repetition, .rule_name = "the benchmark ran"};
        c.outcome = verdict::fail;
        c.reason = fmt::format("the benchmark failed: {}", row->error_message);
        e.checks.push_back(std::move(c));
      }
    }
    if (e.checks.size() == checks_before) e.unchecked.push_back(key);
  }
  return e;
}

void require_checks(const evaluation& e, const reports::run& results, const budgets& b) {
  if (e.checked() > 0) return;
  std::vector<std::string> why;
  if (const auto n = e.count(verdict::not_applicable); n > 0) {
    why.push_back(fmt::format("{} rows are not applicable (a {} run has no heap counter)", n,
                              results.target()));
  }
  // Per rule, the benchmarks its `when` left out.
  std::vector<std::pair<std::size_t, std::vector<std::string>>> by_rule;
  for (const auto& x : e.excluded) {
    auto it = std::find_if(by_rule.begin(), by_rule.end(),
                           [&](const auto& p) { return p.first == x.rule; });
    if (it == by_rule.end()) it = by_rule.insert(by_rule.end(), {x.rule, {}});
    it->second.push_back(x.benchmark);
  }
  for (const auto& [index, names] : by_rule) {
    const auto& r = b.rules[index];
    std::vector<std::string> conditions;
    for (const auto& c : r.when) conditions.push_back(c.text);
    why.push_back(fmt::format("rule \"{}\" ({}:{}) excludes {} by its when ({})", r.name, b.source,
                              r.line, fmt::join(names, ", "), fmt::join(conditions, " and ")));
  }
  throw reports::input_error(fmt::format("{}: the gate checks nothing in {}: {}", b.source,
                                         results.source, fmt::join(why, "; ")));
}

}  // namespace leakbench::gate
