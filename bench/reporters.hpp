#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "bench/gbench_flags.hpp"

namespace leakbench::bench {

/// Hands every report to two reporters: what the console shows, and what goes into the
/// --benchmark_out file (written by leakbench afterwards, whole or not at all).
class tee_reporter final : public benchmark::BenchmarkReporter {
 public:
  tee_reporter(benchmark::BenchmarkReporter& display, benchmark::BenchmarkReporter* file)
      : display_(display), file_(file) {}
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  benchmark::BenchmarkReporter& display_;
  benchmark::BenchmarkReporter* file_;
};

/// A stream buffer that passes lines on to `out` except those starting with one of `drop`:
/// Google Benchmark's own lines leakbench says otherwise (the DEBUG build warning, which says
/// nothing of a memory measurement; "Failed to match any benchmarks", said once by leakbench).
class line_filter final : public std::streambuf {
 public:
  line_filter(std::ostream& out, std::vector<std::string> drop)
      : out_(out), drop_(std::move(drop)) {}
  ~line_filter() override { flush_line(); }

 protected:
  int overflow(int c) override;
  int sync() override;

 private:
  void flush_line();
  std::ostream& out_;
  std::vector<std::string> drop_;
  std::string line_;
};

/// Google Benchmark's reporter for `format` (console, json, csv), JSON strictly; a console
/// without colour when `color` is false.
std::unique_ptr<benchmark::BenchmarkReporter> make_gbench_reporter(const std::string& format,
                                                                   bool color, bool tabular);

/// The run's configuration in one line, for the console: "leakbench 0.1.0 (1a2b3c4) · model ·
/// payload 32 MiB · 20 retries, warm-up 2 · gc off · broker memory", with the variants' Dramatiq
/// versions for real workers.
std::string describe_run(const std::map<std::string, std::string>& context,
                         const std::vector<std::string>& variants);

/// Whether Google Benchmark's console should colour its output on standard output: per
/// --benchmark_color, auto meaning a terminal and no NO_COLOR.
bool use_color(const early_flags& early);

}  // namespace leakbench::bench
