#include "reports/results/run.hpp"

#include "reports/results/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace leakbench::reports {
namespace {

using json = nlohmann::json;

bool is_run_attribute(std::string_view part) {
  for (std::string_view prefix : {"iterations:", "repeats:", "min_time:", "min_warmup_time:"}) {
    if (part.starts_with(prefix)) return true;
  }
  return part == "manual_time" || part == "real_time" || part == "process_time";
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return fmt::format("{}", v.get<double>());
  return v.dump();
}

std::string describe_kind(const json& j) {
  switch (j.type()) {
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    default:
      return "a number";
  }
}

std::string key_list(const json& object) {
  std::string keys;
  for (const auto& [k, v] : object.items()) {
    if (!keys.empty()) keys += ", ";
    keys += k;
    if (keys.size() > 60) return keys + ", ...";
  }
  return keys.empty() ? "none" : keys;
}

benchmark_row parse_row(const json& b, std::size_t index, std::string_view source) {
  if (!b.is_object()) {
    throw input_error(fmt::format("{}: benchmark #{} is {}, expected an object", source, index + 1,
                                  describe_kind(b)));
  }
  const auto name = b.find("name");
  if (name == b.end() || !name->is_string()) {
    throw input_error(fmt::format("{}: benchmark #{} has no \"name\"", source, index + 1));
  }
  benchmark_row row;
  row.name = name->get<std::string>();
  const auto text = [&](const char* field) {
    const auto it = b.find(field);
    return it != b.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string run_name = text("run_name");
  row.key = benchmark_key(run_name.empty() ? row.name : run_name);
  row.aggregate = text("run_type") == "aggregate";
  row.aggregate_name = text("aggregate_name");
  row.error_message = text("error_message");
  row.label = text("label");
  row.time_unit = text("time_unit");
  const auto error = b.find("error_occurred");
  row.error_occurred = error != b.end() && error->is_boolean() && error->get<bool>();
  for (const auto& [k, v] : b.items()) {
    if (v.is_number()) row.numbers.emplace(k, v.get<double>());
  }
  if (const auto r = row.number("repetition_index")) row.repetition_index = std::llround(*r);
  if (const auto r = row.number("repetitions")) row.repetitions = std::llround(*r);
  return row;
}

}  // namespace

std::optional<double> benchmark_row::number(std::string_view field) const {
  const auto it = numbers.find(field);
  if (it == numbers.end()) return std::nullopt;
  return it->second;
}

std::optional<double> benchmark_row::seconds() const {
  const auto t = number("real_time"), n = number("iterations");
  if (!t || !n || !std::isfinite(*t * *n)) return std::nullopt;
  const double unit = time_unit == "ns"   ? 1e-9
                      : time_unit == "us" ? 1e-6
                      : time_unit == "s"  ? 1
                                          : 1e-3;  // Google Benchmark's default for leakbench
  return *t * *n * unit;
}

std::optional<std::string> run::context_value(std::string_view key) const {
  const auto it = context.find(key);
  if (it == context.end()) return std::nullopt;
  return it->second;
}

std::optional<double> run::context_number(std::string_view key) const {
  const auto v = context_value(key);
  if (!v || v->empty()) return std::nullopt;
  double d = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), d);
  if (ec != std::errc{} || end != v->data() + v->size()) return std::nullopt;
  return d;
}

std::vector<const benchmark_row*> run::measured() const {
  std::vector<const benchmark_row*> out;
  for (const auto& r : rows) {
    if (!r.aggregate) out.push_back(&r);
  }
  return out;
}

std::vector<std::string> run::keys() const {
  std::vector<std::string> out;
  for (const auto* r : measured()) {
    if (std::find(out.begin(), out.end(), r->key) == out.end()) out.push_back(r->key);
  }
  return out;
}

std::vector<const benchmark_row*> run::repetitions_of(std::string_view key) const {
  std::vector<const benchmark_row*> out;
  for (const auto* r : measured()) {
    if (r->key == key) out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    return a->repetition_index < b->repetition_index;
  });
  return out;
}

std::string run::target() const { return context_value("target").value_or("model"); }

bool is_heap_counter(std::string_view counter) {
  return counter.starts_with("heap_") || counter == "reclaimed";
}

std::vector<std::string> describe_configuration(const run& r) {
  std::vector<std::string> parts;
  if (const auto v = r.context_value("leakbench_version")) {
    parts.push_back(
        fmt::format("leakbench {} at {}", *v, r.context_value("git_commit").value_or("?")));
  }
  if (const auto d = r.context_value("date")) parts.push_back(*d);
  if (const auto p = r.context_number("payload")) parts.push_back("payload " + format_bytes(*p));
  for (const char* key : {"retries", "warmup", "gc", "broker", "concurrency", "depth"}) {
    if (const auto v = r.context_value(key)) parts.push_back(fmt::format("{} {}", key, *v));
  }
  parts.push_back("inject_leak " + format_bytes(r.context_number("inject_leak").value_or(0)));
  parts.push_back("target " + r.target());
  return parts;
}

std::vector<dramatiq_variant> dramatiq_variants(const run& r) {
  std::vector<dramatiq_variant> out;
  constexpr std::string_view k_prefix = "dramatiq.";
  for (const auto& [key, value] : r.context) {  // in key order: by name
    if (!key.starts_with(k_prefix)) continue;
    const auto dot = key.rfind('.');
    if (dot <= k_prefix.size()) continue;
    const std::string name = key.substr(k_prefix.size(), dot - k_prefix.size());
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& x) { return x.name == name; });
    if (it == out.end()) it = out.insert(out.end(), {.name = name});
    const std::string_view field = std::string_view(key).substr(dot + 1);
    auto& v = *it;
    if (field == "version") v.version = value;
    if (field == "commit") v.commit = value;
    if (field == "python") v.python = value;
    if (field == "dir") v.dir = value;
  }
  return out;
}

std::string describe_variants(const run& r) {
  std::string out;
  for (const auto& v : dramatiq_variants(r)) {
    out += fmt::format("{}{}: Dramatiq {}", out.empty() ? "" : ", ", v.name,
                       v.version.empty() ? "?" : v.version);
    if (!v.commit.empty()) out += " at " + v.commit;
    if (!v.python.empty()) out += fmt::format(" (Python {})", v.python);
  }
  return out;
}

std::string benchmark_key(std::string_view run_name) {
  std::string key;
  std::size_t start = 0;
  bool first = true;
  while (start <= run_name.size()) {
    const auto slash = std::min(run_name.find('/', start), run_name.size());
    const std::string_view part = run_name.substr(start, slash - start);
    if (first || !is_run_attribute(part)) {
      if (!first) key += '/';
      key += part;
    }
    first = false;
    start = slash + 1;
  }
  return key;
}

run parse_run(std::string_view text, std::string_view source) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw input_error(fmt::format("{}: the file is empty, expected Google Benchmark JSON", source));
  }
  const json j = parse_json(text, source);
  if (!j.is_object()) {
    throw input_error(
        fmt::format("{}: not Google Benchmark JSON: the top level is {}, expected an object "
                    "with \"context\" and \"benchmarks\"",
                    source, describe_kind(j)));
  }
  const auto benchmarks = j.find("benchmarks");
  if (benchmarks == j.end() || !benchmarks->is_array()) {
    throw input_error(
        fmt::format("{}: not Google Benchmark JSON: no \"benchmarks\" array (top-level keys: {})",
                    source, key_list(j)));
  }
  run r;
  r.source = std::string(source);
  if (const auto ctx = j.find("context"); ctx != j.end() && ctx->is_object()) {
    for (const auto& [k, v] : ctx->items()) {
      if (!v.is_structured()) r.context.emplace(k, scalar_text(v));
    }
  }
  std::set<std::pair<std::string, std::int64_t>> seen;
  for (std::size_t i = 0; i < benchmarks->size(); ++i) {
    auto row = parse_row((*benchmarks)[i], i, source);
    if (!row.aggregate && !seen.emplace(row.key, row.repetition_index).second) {
      throw input_error(fmt::format("{}: benchmark {} repetition {} appears twice", source, row.key,
                                    row.repetition_index));
    }
    r.rows.push_back(std::move(row));
  }
  if (r.measured().empty()) {
    throw input_error(fmt::format(
        "{}: holds no benchmark results (did --benchmark_filter match nothing?)", source));
  }
  return r;
}

run read_run(const std::string& file) { return parse_run(read_text(file), display_name(file)); }

}  // namespace leakbench::reports
