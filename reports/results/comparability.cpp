#include "reports/results/comparability.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <map>
#include <set>
#include <string_view>

namespace leakbench::reports {
namespace {

struct key_rule {
  std::string_view key;
  std::string_view missing;  ///< what a run without the key ran with; empty: unknown
};

// What a retry retains depends on these: runs that differ in one are not comparable.
constexpr std::array<key_rule, 7> k_refused = {{{"payload", ""},
                                                {"gc", "off"},
                                                {"inject_leak", "0"},
                                                {"concurrency", ""},
                                                {"depth", ""},
                                                {"target", "model"},
                                                {"app", "(none)"}}};

// These change nothing a retry retains, but a reader comparing the runs must see them.
constexpr std::array<std::string_view, 4> k_shown = {"leakbench_version", "python", "broker",
                                                     "retries"};

/// The value of `key` in `r`, or `missing` when absent.
std::optional<std::string> value_of(const run& r, std::string_view key, std::string_view missing) {
  if (auto v = r.context_value(key)) return v;
  if (missing.empty()) return std::nullopt;
  return std::string(missing);
}

bool same(const run& a, const run& b, std::string_view key, const std::string& x,
          const std::string& y) {
  const auto m = a.context_number(key), n = b.context_number(key);
  return m && n ? *m == *n : x == y;  // "1048576" and "1048576.0" are one payload
}

/// The per-variant keys of a real-Dramatiq run that identify what ran.
bool is_variant_identity(std::string_view key) {
  return key.starts_with("dramatiq.") &&
         (key.ends_with(".version") || key.ends_with(".commit") || key.ends_with(".python"));
}

/// The context entries of `r` whose key starts with `prefix` or ends with `suffix`.
std::map<std::string, std::string> entries(const run& r, std::string_view prefix,
                                           std::string_view suffix) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : r.context) {
    if ((!prefix.empty() && key.starts_with(prefix)) ||
        (!suffix.empty() && key.ends_with(suffix))) {
      out[key] = value;
    }
  }
  return out;
}

[[noreturn]] void refuse(const run& now, const run& before, std::string_view what,
                         const std::string& a, const std::string& b) {
  throw input_error(fmt::format(
      "{}: ran with {} {}, but {} with {}: per-retry growth is not comparable; record the "
      "baseline with the same configuration",
      before.source, what, b, now.source, a));
}

/// An app's runs compare only with the same messages and, per variant, the same broker class.
void check_app(const run& now, const run& before) {
  const auto mine = entries(now, "message.", ""), theirs = entries(before, "message.", "");
  if (mine != theirs) {
    const auto list = [](const std::map<std::string, std::string>& m) {
      std::vector<std::string> items;
      for (const auto& [key, value] : m) items.push_back(value);
      return items.empty() ? std::string("no messages") : fmt::format("{}", fmt::join(items, "; "));
    };
    refuse(now, before, "the messages", list(mine), list(theirs));
  }
  const auto brokers = entries(before, "", ".broker_class");
  for (const auto& [key, value] : entries(now, "", ".broker_class")) {
    if (const auto it = brokers.find(key); it != brokers.end() && it->second != value) {
      refuse(now, before, key, value, it->second);
    }
  }
}

}  // namespace

std::vector<difference> check_comparable(const run& now, const run& before) {
  check_app(now, before);
  for (const auto& [key, missing] : k_refused) {
    const auto a = value_of(now, key, missing), b = value_of(before, key, missing);
    if (a && b && !same(now, before, key, *a, *b)) {
      throw input_error(fmt::format(
          "{}: ran with {}={}, but {} with {}={}: per-retry growth is not comparable; record "
          "the baseline with the same configuration",
          before.source, key, *b, now.source, key, *a));
    }
  }
  std::vector<difference> out;
  const auto show = [&](std::string_view key) {
    const auto a = now.context_value(key), b = before.context_value(key);
    if ((a || b) && !(a && b && same(now, before, key, *a, *b))) {
      out.push_back({std::string(key), a.value_or("(none)"), b.value_or("(none)")});
    }
  };
  for (const auto key : k_shown) show(key);
  std::set<std::string, std::less<>> variant_keys;
  for (const auto* r : {&now, &before}) {
    for (const auto& [key, value] : r->context) {
      if (is_variant_identity(key)) variant_keys.insert(key);
    }
  }
  for (const auto& key : variant_keys) show(key);
  return out;
}

std::string describe_differences(const std::vector<difference>& d) {
  std::vector<std::string> parts;
  for (const auto& x : d) parts.push_back(fmt::format("{} {} → {}", x.key, x.before, x.now));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace leakbench::reports
