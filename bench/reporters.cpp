#include "bench/reporters.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "reports/results/units.hpp"

#include "bench/strict_json_reporter.hpp"

namespace leakbench::bench {

bool tee_reporter::ReportContext(const Context& context) {
  bool ok = display_.ReportContext(context);
  if (file_ != nullptr) ok = file_->ReportContext(context) && ok;
  return ok;
}

void tee_reporter::ReportRuns(const std::vector<Run>& runs) {
  display_.ReportRuns(runs);
  if (file_ != nullptr) file_->ReportRuns(runs);
}

void tee_reporter::Finalize() {
  display_.Finalize();
  if (file_ != nullptr) file_->Finalize();
}

int line_filter::overflow(int c) {
  if (c == traits_type::eof()) return 0;
  line_ += static_cast<char>(c);
  if (c == '\n') flush_line();
  return c;
}

int line_filter::sync() {
  out_.flush();
  return 0;
}

void line_filter::flush_line() {
  if (line_.empty()) return;
  bool dropped = false;
  for (const auto& d : drop_) dropped = dropped || line_.starts_with(d);
  if (!dropped) out_ << line_;
  line_.clear();
}

std::unique_ptr<benchmark::BenchmarkReporter> make_gbench_reporter(const std::string& format,
                                                                   bool color, bool tabular) {
  if (format == "json") return std::make_unique<strict_json_reporter>();
  if (format == "csv") {
    // Deprecated in Google Benchmark 1.7, still its --benchmark_format=csv: kept while it is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
  }
  int opts = benchmark::ConsoleReporter::OO_None;
  if (color) opts |= benchmark::ConsoleReporter::OO_Color;
  if (tabular) opts |= benchmark::ConsoleReporter::OO_Tabular;
  return std::make_unique<benchmark::ConsoleReporter>(
      static_cast<benchmark::ConsoleReporter::OutputOptions>(opts));
}

std::string describe_run(const std::map<std::string, std::string>& context,
                         const std::vector<std::string>& variants) {
  const auto at = [&](const char* key) {
    const auto it = context.find(key);
    return it == context.end() ? std::string() : it->second;
  };
  const auto bytes = [](const std::string& n) {
    return n.empty() ? n : reports::format_bytes(std::stod(n));
  };
  std::vector<std::string> parts = {
      fmt::format("leakbench {} ({})", at("leakbench_version"), at("git_commit")),
      at("target"),
      "payload " + bytes(at("payload")),
      fmt::format("{} retries, warm-up {}", at("retries"), at("warmup")),
      "gc " + at("gc"),
      "broker " + at("broker")};
  if (at("inject_leak") != "0" && !at("inject_leak").empty()) {
    parts.push_back(fmt::format("injected leak {} per attempt", bytes(at("inject_leak"))));
  }
  // Within the console's columns: a part that would cross them starts an indented line.
  constexpr std::size_t k_columns = 120;
  const auto columns = [](const std::string& text) {  // UTF-8: count the leading bytes only
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  };
  std::string line;
  std::size_t width = 0;
  for (const auto& part : parts) {
    if (line.empty()) {
      line = part;
      width = columns(part);
    } else if (width + 3 + columns(part) > k_columns) {
      line += "\n  " + part;
      width = 2 + columns(part);
    } else {
      line += " · " + part;
      width += 3 + columns(part);
    }
  }
  if (at("target") == "dramatiq") {
    for (const auto& v : variants) {
      const auto commit = at(("dramatiq." + v + ".commit").c_str());
      line += fmt::format(
          "\n  {}: Dramatiq {}{} on Python {}", v, at(("dramatiq." + v + ".version").c_str()),
          commit.empty() ? "" : " (" + commit + ")", at(("dramatiq." + v + ".python").c_str()));
    }
  }
  return line;
}

bool use_color(const early_flags& early) {
  if (early.color != "auto") {
    for (const char* yes : {"true", "yes", "1", "t", "y", "on"}) {
      if (early.color == yes) return true;
    }
    return false;
  }
  const char* no_color = std::getenv("NO_COLOR");
  return ::isatty(STDOUT_FILENO) == 1 && (no_color == nullptr || *no_color == '\0');
}

}  // namespace leakbench::bench
