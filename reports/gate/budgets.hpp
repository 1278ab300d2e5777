#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace leakbench::gate {

/// Which side of its limit a rule keeps a counter on.
enum class bound { max, min };

/// A rule's limit: an absolute amount, a fraction of another counter of the same benchmark
/// ("90% expected" is 0.9 of expected_per_retry), or both added ("105% expected + 64KiB").
/// Never negative, never infinite or NaN.
struct limit {
  double amount = 0;    ///< the absolute part: bytes or a plain number
  double fraction = 0;  ///< of the counter `of`, when it is set
  std::string of;       ///< the counter the fraction is of; empty for an absolute limit
  std::string text;     ///< as written in the budgets file

  /// The limit for a benchmark whose counter `of` is `of_value` (ignored without `of`).
  double resolve(double of_value) const { return amount + (of.empty() ? 0 : fraction * of_value); }
};

/// `counter op value`: a rule applies only to benchmarks where every condition holds.
struct condition {
  std::string counter;
  std::string op;  ///< one of < <= > >= == !=
  double value = 0;
  std::string text;

  /// Whether `v` satisfies the condition.
  bool holds(double v) const;
};

/// One [[rule]] of a budgets file.
struct rule {
  std::string name;     ///< as given, or "<counter> <= <limit>"
  std::string pattern;  ///< ECMAScript regex, searched in the benchmark name
  std::regex regex;
  std::string counter;
  bound kind = bound::max;
  gate::limit limit;
  std::string interval;  ///< counter holding the value's 95% half-width; empty: exact value
  std::vector<condition> when;
  bool optional = false;  ///< matching no benchmark is not an error
  std::size_t line = 0;   ///< in the budgets file

  /// Whether the rule names benchmark `key`.
  bool matches(const std::string& key) const { return std::regex_search(key, regex); }
};

/// What leakgate knows of a counter: leakbench's are built in, [counters.NAME] adds or changes.
struct counter_info {
  bool bytes = false;     ///< shown with binary units, exported with unit "bytes"
  std::string interval;   ///< counter holding the 95% half-width of this one, if any
  bool exported = false;  ///< written to the dashboard exports
};

/// How a run is compared with a baseline run ([baseline]).
struct baseline_policy {
  std::vector<std::string> counters = {"rss_per_retry", "heap_per_retry"};
  double abs_tolerance = 8 * 1024;  ///< bytes (or the counter's unit)
  double rel_tolerance = 0.05;      ///< of the baseline's value
  bool missing_fails = false;       ///< a benchmark only in the baseline fails the gate
};

/// A parsed budgets file.
struct budgets {
  std::string source;  ///< the file, as named in messages
  std::vector<rule> rules;
  std::map<std::string, counter_info, std::less<>> counters;
  baseline_policy baseline;

  /// What is known of `counter`; a default (plain number, no interval) if nothing.
  counter_info info(std::string_view counter) const;
  /// The counters written to the dashboard exports, in name order.
  std::vector<std::string> exported() const;
};

/// Parses budgets from TOML `text`; `source` names it in errors. Throws reports::input_error
/// with "<source>:<line>: ..." for a TOML syntax error, an unknown key, a bad regex, limit or
/// condition.
budgets parse_budgets(std::string_view text, std::string_view source);

/// parse_budgets on the content of `file`.
budgets read_budgets(const std::string& file);

/// The shipped reports/budgets.toml, built into leakgate.
std::string_view default_budgets_text();

/// parse_budgets(default_budgets_text()).
budgets default_budgets();

}  // namespace leakbench::gate
