#include "reports/gate/budgets.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "reports/results/json_text.hpp"
#include "reports/results/units.hpp"

namespace leakbench::gate {
namespace {

using reports::input_error;

/// leakbench's counters (docs/counters.md); [counters.NAME] in a budgets file overrides.
std::map<std::string, counter_info, std::less<>> builtin_counters() {
  return {
      {"rss_per_retry", {.bytes = true, .interval = "rss_ci95", .exported = true}},
      {"heap_per_retry", {.bytes = true, .interval = "heap_ci95", .exported = true}},
      {"peak_rss", {.bytes = true, .exported = true}},
      {"retained", {.bytes = true, .exported = true}},
      {"reclaimed", {.bytes = true}},
      {"expected_per_retry", {.bytes = true}},
      {"payload", {.bytes = true}},
      {"rss_ci95", {.bytes = true}},
      {"heap_ci95", {.bytes = true}},
  };
}

/// Short names a fraction may be of.
std::string counter_alias(std::string_view name) {
  if (name == "expected") return "expected_per_retry";
  return std::string(name);
}

class reader {
 public:
  explicit reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const toml::source_region& where, const std::string& what) const {
    throw input_error(fmt::format("{}:{}: {}", source_, where.begin.line, what));
  }

  std::string string_of(const toml::node& n, std::string_view key) const {
    if (!n.is_string()) fail(n.source(), fmt::format("{} must be a string", key));
    return n.as_string()->get();
  }

  /// A TOML number that a limit or a tolerance may be: finite and not negative.
  double amount_of(const toml::node& n, std::string_view key) const {
    const double v =
        n.is_integer() ? static_cast<double>(n.as_integer()->get()) : n.as_floating_point()->get();
    if (!std::isfinite(v)) fail(n.source(), fmt::format("{} = {}: not a finite number", key, v));
    if (v < 0) fail(n.source(), fmt::format("{} = {}: must not be negative", key, v));
    return v;
  }

  /// "90" of "90% expected": a percentage, finite and not negative.
  double percent_of(const toml::node& n, std::string_view key, std::string_view text,
                    std::string_view number) const {
    try {
      const double p = reports::parse_number(number);
      if (p < 0) fail(n.source(), fmt::format("{} = \"{}\": must not be negative", key, text));
      return p / 100;
    } catch (const std::invalid_argument& e) {
      fail(n.source(), fmt::format("{} = \"{}\": {}", key, text, e.what()));
    }
  }

  limit limit_of(const toml::node& n, std::string_view key) const {
    limit l;
    if (n.is_integer() || n.is_floating_point()) {
      l.amount = amount_of(n, key);
      l.text = reports::format_number(l.amount);
      return l;
    }
    l.text = string_of(n, key);
    // Terms joined by '+': at most one size and at most one "N% counter".
    std::string_view rest = l.text;
    bool has_amount = false;
    while (true) {
      const auto plus = rest.find('+');
      std::string_view term = rest.substr(0, plus);
      while (term.starts_with(' ')) term.remove_prefix(1);
      while (term.ends_with(' ')) term.remove_suffix(1);
      const auto percent = term.find('%');
      if (percent == std::string_view::npos) {
        if (has_amount) fail(n.source(), fmt::format("{} = \"{}\": two sizes", key, l.text));
        has_amount = true;
        try {  // a plain number ("0.5" of a counter without a unit) or a size
          const bool plain = term.find_first_not_of("0123456789.-") == std::string_view::npos;
          l.amount =
              plain ? reports::parse_number(term) : static_cast<double>(reports::parse_size(term));
          if (l.amount < 0)
            fail(n.source(), fmt::format("{} = \"{}\": must not be negative", key, l.text));
        } catch (const std::invalid_argument& e) {
          fail(n.source(), fmt::format("{} = \"{}\": {}", key, l.text, e.what()));
        }
      } else {
        std::string_view of = term.substr(percent + 1);
        while (of.starts_with(' ')) of.remove_prefix(1);
        if (!l.of.empty() || of.empty() || of.find(' ') != std::string_view::npos) {
          fail(n.source(), fmt::format("{} = \"{}\": a fraction names one counter, e.g. \"90% "
                                       "expected\" or \"105% expected + 64KiB\"",
                                       key, l.text));
        }
        l.fraction = percent_of(n, key, l.text, term.substr(0, percent));
        l.of = counter_alias(of);
      }
      if (plus == std::string_view::npos) return l;
      rest.remove_prefix(plus + 1);
    }
  }

  condition condition_of(const toml::node& n) const {
    condition c;
    c.text = string_of(n, "when");
    static const std::regex grammar(
        R"(^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|==|!=|<|>)\s*(.+?)\s*$)");
    std::smatch m;
    if (!std::regex_match(c.text, m, grammar)) {
      fail(n.source(), fmt::format("when = \"{}\": expected \"<counter> <op> <value>\", e.g. "
                                   "\"expected_per_retry > 0\"",
                                   c.text));
    }
    c.counter = m[1];
    c.op = m[2];
    try {  // a plain number (which may be negative or fractional: "rss_r2 > 0.9"), or a size
      const std::string v = m[3].str();
      const bool plain = v.find_first_not_of("0123456789.-") == std::string::npos;
      c.value = plain ? reports::parse_number(v) : static_cast<double>(reports::parse_size(v));
    } catch (const std::invalid_argument& e) {
      fail(n.source(), fmt::format("when = \"{}\": {}", c.text, e.what()));
    }
    return c;
  }

  /// The rule, and whether it named its interval (else it comes from [counters], resolved
  /// once the whole file is read).
  std::pair<rule, bool> rule_of(const toml::table& t) const {
    rule r;
    r.line = t.source().begin.line;
    const toml::node* max = nullptr;
    const toml::node* min = nullptr;
    bool has_interval = false;
    for (auto&& [k, v] : t) {
      const std::string_view key = k.str();
      if (key == "name") {
        r.name = string_of(v, key);
      } else if (key == "match") {
        r.pattern = string_of(v, key);
        try {
          r.regex = std::regex(r.pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          fail(v.source(),
               fmt::format("match = \"{}\" is not a valid regex: {}", r.pattern, e.what()));
        }
      } else if (key == "counter") {
        r.counter = string_of(v, key);
      } else if (key == "max") {
        max = &v;
      } else if (key == "min") {
        min = &v;
      } else if (key == "interval") {
        r.interval = string_of(v, key);
        has_interval = true;
      } else if (key == "when") {
        if (const auto* list = v.as_array()) {
          for (const auto& c : *list) r.when.push_back(condition_of(c));
        } else {
          r.when.push_back(condition_of(v));
        }
      } else if (key == "optional") {
        if (!v.is_boolean()) fail(v.source(), "optional must be true or false");
        r.optional = v.as_boolean()->get();
      } else {
        fail(k.source(), fmt::format("unknown key '{}' in a [[rule]] (known: name, match, counter, "
                                     "max, min, interval, when, optional)",
                                     key));
      }
    }
    if (r.pattern.empty()) fail(t.source(), "a [[rule]] needs match = \"<regex>\"");
    if (r.counter.empty()) fail(t.source(), "a [[rule]] needs counter = \"<name>\"");
    if ((max == nullptr) == (min == nullptr)) {
      fail(t.source(), "a [[rule]] needs exactly one of max or min");
    }
    r.kind = max != nullptr ? bound::max : bound::min;
    r.limit = limit_of(max != nullptr ? *max : *min, max != nullptr ? "max" : "min");
    if (r.name.empty()) {
      r.name = fmt::format("{} {} {}", r.counter, r.kind == bound::max ? "<=" : ">=", r.limit.text);
    }
    return {std::move(r), has_interval};
  }

  double fraction_of(const toml::node& n, std::string_view key) const {
    if (n.is_integer() || n.is_floating_point()) return amount_of(n, key);
    const std::string text = string_of(n, key);
    if (!text.ends_with('%')) {
      fail(n.source(),
           fmt::format("{} = \"{}\": expected a fraction such as \"5%\" or 0.05", key, text));
    }
    return percent_of(n, key, text, std::string_view(text).substr(0, text.size() - 1));
  }

  void counters_of(const toml::table& t, budgets& b) const {
    for (auto&& [k, v] : t) {
      const auto* entry = v.as_table();
      if (entry == nullptr) {
        fail(v.source(),
             fmt::format("counters.{} must be a table, e.g. {{ unit = \"bytes\" }}", k.str()));
      }
      counter_info info = b.info(k.str());
      for (auto&& [field, value] : *entry) {
        if (field.str() == "unit") {
          const std::string unit = string_of(value, "unit");
          if (unit != "bytes" && unit != "") {
            fail(value.source(), "unit must be \"bytes\" or \"\" (a plain number)");
          }
          info.bytes = unit == "bytes";
        } else if (field.str() == "interval") {
          info.interval = string_of(value, "interval");
        } else if (field.str() == "export") {
          if (!value.is_boolean()) fail(value.source(), "export must be true or false");
          info.exported = value.as_boolean()->get();
        } else {
          fail(field.source(), fmt::format("unknown key '{}' in counters.{} (known: unit, "
                                           "interval, export)",
                                           field.str(), k.str()));
        }
      }
      b.counters.insert_or_assign(std::string(k.str()), info);
    }
  }

  void baseline_of(const toml::table& t, baseline_policy& p) const {
    for (auto&& [k, v] : t) {
      const std::string_view key = k.str();
      if (key == "counters") {
        const auto* list = v.as_array();
        if (list == nullptr) fail(v.source(), "baseline.counters must be an array of names");
        p.counters.clear();
        for (const auto& c : *list) p.counters.push_back(string_of(c, "baseline.counters"));
      } else if (key == "abs_tolerance") {
        const gate::limit l = limit_of(v, key);
        if (!l.of.empty()) fail(v.source(), "abs_tolerance is an amount, e.g. \"8KiB\"");
        p.abs_tolerance = l.amount;
      } else if (key == "rel_tolerance") {
        p.rel_tolerance = fraction_of(v, key);
      } else if (key == "missing") {
        const std::string m = string_of(v, key);
        if (m != "fail" && m != "warn") fail(v.source(), "missing must be \"fail\" or \"warn\"");
        p.missing_fails = m == "fail";
      } else {
        fail(k.source(), fmt::format("unknown key '{}' in [baseline] (known: counters, "
                                     "abs_tolerance, rel_tolerance, missing)",
                                     key));
      }
    }
  }

 private:
  std::string source_;
};

}  // namespace

bool condition::holds(double v) const {
  if (op == "<") return v < value;
  if (op == "<=") return v <= value;
  if (op == ">") return v > value;
  if (op == ">=") return v >= value;
  if (op == "==") return v == value;
  return v != value;
}

counter_info budgets::info(std::string_view counter) const {
  const auto it = counters.find(counter);
  return it == counters.end() ? counter_info{} : it->second;
}

std::vector<std::string> budgets::exported() const {
  std::vector<std::string> out;
  for (const auto& [name, info] : counters) {
    if (info.exported) out.push_back(name);
  }
  return out;
}

budgets parse_budgets(std::string_view text, std::string_view source) {
  toml::table doc;
  try {
    doc = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw input_error(fmt::format("{}:{}:{}: TOML syntax error: {}", source, e.source().begin.line,
                                  e.source().begin.column, e.description()));
  }
  const reader in(source);
  budgets b;
  b.source = std::string(source);
  b.counters = builtin_counters();
  const toml::array* rules = nullptr;
  for (auto&& [k, v] : doc) {
    const std::string_view key = k.str();
    if (key == "rule") {
      rules = v.as_array();
      if (rules == nullptr) in.fail(v.source(), "rule must be an array of tables: [[rule]]");
    } else if (key == "counters") {
      if (!v.is_table()) in.fail(v.source(), "[counters] must be a table");
      in.counters_of(*v.as_table(), b);
    } else if (key == "baseline") {
      if (!v.is_table()) in.fail(v.source(), "[baseline] must be a table");
      in.baseline_of(*v.as_table(), b.baseline);
    } else {
      in.fail(k.source(),
              fmt::format("unknown key '{}' (known: [[rule]], [counters], [baseline])", key));
    }
  }
  if (rules == nullptr || rules->empty()) {
    throw input_error(
        fmt::format("{}: no [[rule]]: a gate with nothing to check passes "
                    "everything",
                    source));
  }
  // After the whole file: [counters] may come after the rules that use them.
  for (const auto& node : *rules) {
    const auto* t = node.as_table();
    if (t == nullptr) in.fail(node.source(), "rule must be an array of tables: [[rule]]");
    auto [r, interval_given] = in.rule_of(*t);
    if (!interval_given) r.interval = b.info(r.counter).interval;
    b.rules.push_back(std::move(r));
  }
  return b;
}

budgets read_budgets(const std::string& file) {
  return parse_budgets(reports::read_text(file), reports::display_name(file));
}

budgets default_budgets() { return parse_budgets(default_budgets_text(), "reports/budgets.toml"); }

}  // namespace leakbench::gate
