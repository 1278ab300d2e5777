// JUnit XML for CI test reports: one test case per benchmark and rule, repetitions folded in.
#include <fmt/format.h>

#include <map>
#include <ostream>
#include <pugixml.hpp>

#include "reports/gate/outcome.hpp"
#include "reports/gate/text.hpp"

namespace leakbench::gate {
namespace {

struct suite {
  pugi::xml_node node;
  std::size_t tests = 0, failures = 0, skipped = 0;

  void add(const std::string& classname, const std::string& name, bool failed,
           const std::string& type, const std::string& message, const std::string& details,
           bool skip = false, double seconds = 0) {
    auto tc = node.append_child("testcase");
    tc.append_attribute("classname") = printable(classname).c_str();
    tc.append_attribute("name") = printable(name).c_str();
    tc.append_attribute("time") = fmt::format("{:.6f}", seconds).c_str();
    ++tests;
    if (skip) {
      ++skipped;
      tc.append_child("skipped").append_attribute("message") = printable(message).c_str();
    } else if (failed) {
      ++failures;
      auto f = tc.append_child("failure");
      f.append_attribute("type") = type.c_str();
      f.append_attribute("message") = printable(message).c_str();
      f.text() = printable(details, true).c_str();
    } else if (!details.empty()) {
      tc.append_child("system-out").text() = printable(details, true).c_str();
    }
  }
  void close() {
    node.append_attribute("tests") = tests;
    node.append_attribute("failures") = failures;
    node.append_attribute("errors") = 0;
    node.append_attribute("skipped") = skipped;
  }
};

bool cut_short(const reports::run& r, const std::string& key) {
  for (const auto* row : r.repetitions_of(key)) {
    if (row->number("ceiling_hit").value_or(0) > 0) return true;
  }
  return false;
}

void add_checks(suite& s, const outcome& o) {
  // (benchmark, rule) in first-seen order, each with its repetitions' checks.
  using group_key = std::pair<std::string, std::optional<std::size_t>>;
  std::vector<group_key> order;
  std::map<group_key, std::vector<const check*>> groups;
  for (const auto& c : o.eval.checks) {
    const group_key key(c.benchmark, c.rule);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&c);
  }
  for (const auto& key : order) {
    const auto& checks = groups[key];
    verdict v = verdict::not_applicable;
    bool failed = false;
    std::string details, message;
    if (cut_short(*o.results, key.first)) {
      details += fmt::format("{}: cut short at --max_rss (ceiling_hit 1)\n", key.first);
    }
    for (const auto* c : checks) {
      v = worst(v, c->outcome);
      failed = failed || c->fails(o.policy);
      if (!c->reason.empty()) {
        details += fmt::format("{}: {}: {}\n", c->label(), to_string(c->outcome), c->reason);
        if (message.empty()) message = c->reason;
      }
    }
    const check& first = *checks.front();
    const std::string name =
        first.rule ? fmt::format("{} ({})", first.rule_name, first.counter) : first.rule_name;
    s.add(key.first, name, failed, v == verdict::inconclusive ? "inconclusive" : "fail", message,
          details, v == verdict::not_applicable, benchmark_seconds(*o.results, key.first));
  }
}

void add_comparisons(suite& s, const outcome& o) {
  for (const auto& c : o.comparisons) {
    std::string details = to_string(c.kind);
    if (const auto d = c.delta()) {
      details = fmt::format("{}: {} -> {} (change {:+g}, tolerance {:g})", to_string(c.kind),
                            c.before->value, c.now->value, *d, c.tolerance);
    }
    if (!c.note.empty()) details += ": " + c.note;
    s.add(c.benchmark, fmt::format("baseline ({})", c.counter.empty() ? "present" : c.counter),
          o.fails(c), to_string(c.kind), details, details);
  }
}

}  // namespace

void write_junit(std::ostream& out, const outcome& o) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child("testsuites");
  root.append_attribute("name") = "leakgate";

  // A suite per input file: merged reports of several runs keep their cases apart.
  suite checks{root.append_child("testsuite")};
  checks.node.append_attribute("name") = printable("leakgate " + o.results->source).c_str();
  auto props = checks.node.append_child("properties");
  const auto property = [&](const char* name, const std::string& value) {
    auto p = props.append_child("property");
    p.append_attribute("name") = name;
    p.append_attribute("value") = printable(value).c_str();
  };
  property("results", o.results->source);
  property("budgets", o.budgets->source);
  property("inconclusive", o.policy == inconclusive_policy::fail ? "fail" : "pass");
  for (const auto& [key, value] : run_configuration(*o.results)) property(key.c_str(), value);
  add_checks(checks, o);
  checks.close();
  std::size_t tests = checks.tests, failures = checks.failures;
  if (o.baseline != nullptr) {
    property("baseline", o.baseline->source);
    suite base{root.append_child("testsuite")};
    base.node.append_attribute("name") =
        printable(
            fmt::format("leakgate.baseline {} against {}", o.results->source, o.baseline->source))
            .c_str();
    add_comparisons(base, o);
    base.close();
    tests += base.tests;
    failures += base.failures;
  }
  root.append_attribute("tests") = tests;
  root.append_attribute("failures") = failures;
  root.append_attribute("errors") = 0;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
}

}  // namespace leakbench::gate
