#include "reports/results/series.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>

#include "reports/results/json_text.hpp"

namespace leakbench::reports {
namespace {

constexpr std::string_view k_header = "kind,time_s,retry,rss_bytes,heap_bytes,malloc_heap_bytes";

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    out.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

bool number(std::string_view text, double& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && std::isfinite(out);
}

}  // namespace

std::string series_file_name(std::string_view key) {
  std::string name(key);
  for (auto& c : name) {
    if (c == '/') c = '_';
  }
  return name + ".csv";
}

series read_series(const std::filesystem::path& file) {
  series s;
  s.file = file.string();
  std::ifstream in(file);
  if (!in) throw input_error(fmt::format("{}: cannot read", s.file));
  std::string line;
  std::size_t line_no = 1;
  if (!std::getline(in, line) || line != k_header) {
    throw input_error(
        fmt::format("{}:1: not a leakbench series: expected the header {}", s.file, k_header));
  }
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const auto fail = [&](const std::string& what) {
      return input_error(fmt::format("{}:{}: {}", s.file, line_no, what));
    };
    const auto f = split(line);
    if (f.size() != 6) throw fail(fmt::format("expected 6 fields, found {}", f.size()));
    sample x;
    // The heap fields are empty in a run measured from outside the worker (target dramatiq).
    const auto heap = [](std::string_view text, double& out) {
      if (!text.empty()) return number(text, out);
      out = std::numeric_limits<double>::quiet_NaN();
      return true;
    };
    if (!number(f[1], x.time) || !number(f[3], x.rss) || !heap(f[4], x.heap) ||
        !heap(f[5], x.malloc_heap)) {
      throw fail("a time or a byte count is not a finite number");
    }
    if (f[0] == "retry") {
      double retry = 0;
      if (!number(f[2], retry) || retry != static_cast<double>(s.retries.size())) {
        throw fail(fmt::format("expected retry {}, found '{}'", s.retries.size(), f[2]));
      }
      s.retries.push_back(x);
    } else if (f[0] == "background") {
      s.background.push_back(x);
    } else {
      throw fail(fmt::format("unknown kind '{}': expected retry or background", f[0]));
    }
  }
  if (s.retries.empty()) throw input_error(fmt::format("{}: holds no retry samples", s.file));
  return s;
}

}  // namespace leakbench::reports
