#include "bench/gbench_flags.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <optional>

#include "common/output_file.hpp"

namespace leakbench::bench {
namespace {

/// The value of `--name=value`, or of a bare `--name` (as Google Benchmark reads booleans).
std::optional<std::string_view> value_of(std::string_view arg, std::string_view name,
                                         bool bare_allowed) {
  if (!arg.starts_with(name)) return std::nullopt;
  const auto rest = arg.substr(name.size());
  if (rest.empty() && bare_allowed) return std::string_view("true");
  if (!rest.starts_with('=')) return std::nullopt;
  return rest.substr(1);
}

void one_of(std::string_view flag, std::string_view value,
            std::initializer_list<std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += '|';
    list.append(a);
  }
  throw usage_error(fmt::format("{}={}: expected {}", flag, value, list));
}

bool boolean(std::string_view flag, std::string_view v) {
  // Google Benchmark's own spellings of true and false.
  for (auto t : {"true", "yes", "1", "t", "y", "on"}) {
    if (v == t) return true;
  }
  for (auto f : {"false", "no", "0", "f", "n", "off"}) {
    if (v == f) return false;
  }
  throw usage_error(fmt::format("{}={}: expected true or false", flag, v));
}

}  // namespace

std::vector<std::string> gbench_arguments(const std::vector<std::string_view>& args) {
  std::vector<std::string> kept;
  for (const auto arg : args) {
    if (value_of(arg, "--benchmark_out", false) || value_of(arg, "--benchmark_out_format", false)) {
      continue;
    }
    kept.emplace_back(arg);
  }
  return kept;
}

early_flags check_early_flags(const std::vector<std::string_view>& args) {
  early_flags out;
  for (const auto arg : args) {
    if (arg == "--help" || arg == "-h") out.help = true;
    if (arg == "--version") out.version = true;
    for (std::string_view flag : {"--benchmark_min_time", "--benchmark_min_warmup_time"}) {
      if (value_of(arg, flag, false)) {
        throw usage_error(fmt::format(
            "{}: leakbench runs each benchmark exactly --retries times, each retry measured and "
            "its first --warmup left out of the fit; give --retries or --warmup instead",
            flag));
      }
    }
    for (std::string_view flag :
         {"--benchmark_counters_tabular", "--benchmark_display_aggregates_only",
          "--benchmark_report_aggregates_only", "--benchmark_enable_random_interleaving"}) {
      if (auto v = value_of(arg, flag, true)) {
        const bool on = boolean(flag, *v);
        if (flag == "--benchmark_counters_tabular") out.tabular = on;
      }
    }
    if (auto v = value_of(arg, "--benchmark_time_unit", false)) {
      one_of("--benchmark_time_unit", *v, {"ns", "us", "ms", "s"});
      out.time_unit = true;
    } else if (auto c = value_of(arg, "--benchmark_color", true)) {
      if (*c != "auto") {  // auto, or true/false and their kin
        try {
          boolean("--benchmark_color", *c);
        } catch (const usage_error&) {
          throw usage_error(fmt::format("--benchmark_color={}: expected auto, true or false", *c));
        }
      }
      out.color = *c;
    } else if (auto n = value_of(arg, "--v", false)) {
      int level = 0;
      const auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), level);
      if (ec != std::errc{} || end != n->data() + n->size()) {
        throw usage_error(fmt::format("--v={}: expected a whole number", *n));
      }
    }
    if (auto v = value_of(arg, "--benchmark_format", false)) {
      one_of("--benchmark_format", *v, {"console", "json", "csv"});
      out.format = *v;
    } else if (auto v2 = value_of(arg, "--benchmark_out_format", false)) {
      one_of("--benchmark_out_format", *v2, {"json", "console", "csv"});
      out.out_format = *v2;
    } else if (auto v3 = value_of(arg, "--benchmark_repetitions", false)) {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(v3->data(), v3->data() + v3->size(), n);
      if (ec != std::errc{} || end != v3->data() + v3->size() || n < 1 || n > 1000) {
        throw usage_error(
            fmt::format("--benchmark_repetitions={}: expected a whole number from 1 "
                        "to 1000",
                        *v3));
      }
      out.repetitions = n;
    } else if (auto v4 = value_of(arg, "--benchmark_out", false)) {
      if (v4->empty()) throw usage_error("--benchmark_out=: expected a file name");
      out.out = true;
      out.out_path = std::string(*v4);
      // Where it lands: a link is written through, staged beside its final target.
      std::filesystem::path path;
      try {
        path = common::resolve_links(std::filesystem::path(*v4));
      } catch (const common::output_error& e) {
        throw usage_error(fmt::format("--benchmark_out={}: {}", *v4, e.reason()));
      }
      const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
      std::error_code ec;
      const auto status = std::filesystem::status(path, ec);
      if (std::filesystem::is_directory(status)) {
        throw usage_error(fmt::format("--benchmark_out={}: is a directory, not a file", *v4));
      }
      if (std::filesystem::exists(status) && ::access(path.c_str(), W_OK) != 0) {
        throw usage_error(
            fmt::format("--benchmark_out={}: cannot write it: {}", *v4, std::strerror(errno)));
      }
      const bool regular = !common::own_fd(path) && (!std::filesystem::exists(status) ||
                                                     std::filesystem::is_regular_file(status));
      // A regular file is replaced through a temporary file beside it: its folder must be
      // writable. Anything else (a FIFO, /dev/stdout) is written in place.
      if (regular &&
          (!std::filesystem::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0)) {
        throw usage_error(
            fmt::format("--benchmark_out={}: cannot write in {}: no such writable "
                        "directory",
                        *v4, dir.string()));
      }
    } else if (auto v5 = value_of(arg, "--benchmark_list_tests", true)) {
      out.list_tests = boolean("--benchmark_list_tests", *v5);
    }
  }
  return out;
}

}  // namespace leakbench::bench
