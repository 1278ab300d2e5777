// leakreport beside the gate and on the inputs a user brings: verdicts that agree with
// leakgate's, a series per repetition, series that must be this run's, a real-Dramatiq run.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "reports/gate/budgets.hpp"
#include "reports/report/run_report.hpp"
#include "reports/report/summary.hpp"
#include "reports/results/series.hpp"
#include "tests/files.hpp"
#include "tests/reports/data.hpp"
#include "tests/reports/report_of.hpp"

namespace lr = leakbench::reports;
namespace rp = leakbench::report;
namespace lt = leakbench::test;
using lt::data_path;
using lt::input_error_of;
using lt::recorded_run;
using lt::report_of;

TEST(run_report, a_benchmark_the_gate_fails_is_never_shown_with_severity_none) {
  const auto b = leakbench::gate::default_budgets();
  // The injected leak fails every fixed benchmark; a heap leak of 2 KiB per retry, edited into
  // clean.json, fails Single/fixed's heap rule while its RSS shows nothing.
  lr::run heap_only = recorded_run("clean.json");
  for (auto& row : heap_only.rows) {
    if (row.key == "Single/fixed") row.numbers["heap_per_retry"] = 2048;
  }
  const auto injected = recorded_run("inject_64KiB.json");
  for (const lr::run* run : {&injected, static_cast<const lr::run*>(&heap_only)}) {
    const auto e = leakbench::gate::evaluate(*run, b);
    std::size_t failed = 0;
    for (const auto& s : rp::summarize(*run, &e)) {
      for (const auto& v : s.variants) {
        if (v.verdict != "FAIL") continue;
        ++failed;
        EXPECT_NE(v.level, rp::severity::none) << run->source << " " << v.key;
        EXPECT_FALSE(v.verdict_why.empty()) << v.key;
      }
    }
    EXPECT_GE(failed, 1u) << run->source;
  }
  const auto files = rp::build_run_report({.results = &heap_only, .budgets = &b});
  const auto& md = files.at("summary.md");
  EXPECT_NE(md.find("| severity | verdict |"), std::string::npos) << md;
  EXPECT_NE(md.find("| low | FAIL |"), std::string::npos) << md;
  EXPECT_NE(files.at("index.html").find("title=\"fixed: the heap does not grow per retry: 2 KiB"),
            std::string::npos);
}

TEST(run_report, a_benchmark_that_grows_is_not_said_to_retain_nothing) {
  // leakbench's label on a fixed variant with an injected leak: no exception holds anything
  // ("retains nothing"); set here, since the recording predates labels. It grows anyway.
  auto run = recorded_run("inject_64KiB.json");
  std::size_t labelled = 0;
  for (auto& row : run.rows) {
    if (row.key == "Single/fixed") {
      row.label = "retains nothing";
      ++labelled;
    }
  }
  ASSERT_EQ(labelled, 1u);
  const auto md = report_of(run).at("summary.md");
  EXPECT_NE(md.find("- Single/fixed: retains nothing held by an exception, yet RSS grows "),
            std::string::npos)
      << md;
}

TEST(run_report, draws_every_repetitions_series) {
  const auto run = recorded_run("repetitions_series.json");
  const auto reps = run.repetitions_of("Single/leaky").size();
  ASSERT_GE(reps, 2u);
  const auto files = report_of(run, "repetitions_series");
  const auto& svg = files.at("Single_retries.svg");
  const auto retries =
      static_cast<std::size_t>(*run.repetitions_of("Single/leaky")[0]->number("retries"));
  for (std::size_t i = 0; i < reps; ++i) {
    EXPECT_NE(svg.find(fmt::format(">leaky #{}<", i)), std::string::npos) << i;
    EXPECT_NE(svg.find(fmt::format("<title>Single/leaky #{}, retry {}", i, retries)),
              std::string::npos)
        << i;
  }
  EXPECT_TRUE(files.count("Single_time.svg"));
}

TEST(run_report, series_of_another_run_are_refused) {
  // Same benchmarks and retries, another run: its first RSS sample is not this JSON's rss_start.
  const auto single = recorded_run("single_only.json");
  const std::string other = input_error_of([&] { report_of(single, "clean"); });
  EXPECT_NE(other.find("the series is from another run"), std::string::npos) << other;
  // Fewer retries than the series holds.
  const auto small = recorded_run("stdout.json");
  const std::string retries = input_error_of([&] { report_of(small, "single_only"); });
  EXPECT_NE(retries.find("holds 12 retries, but stdout.json ran Single/leaky with 6"),
            std::string::npos)
      << retries;
}

TEST(run_report, a_run_measured_from_outside_is_drawn_and_tabulated_in_rss_only) {
  const auto run = lr::parse_run(lt::dramatiq_run_text(), "dramatiq.json");
  lt::temp_dir series;
  for (const auto* row : run.measured()) {
    // leakbench's header, the heap fields empty; 13 retry samples from rss_start to rss_end.
    std::ofstream out(series.path() / lr::series_file_name(row->key));
    out << "kind,time_s,retry,rss_bytes,heap_bytes,malloc_heap_bytes\n";
    const double start = *row->number("rss_start"), end = *row->number("rss_end");
    for (int i = 0; i <= 12; ++i) {
      out << fmt::format("retry,{:.6f},{},{:.0f},,\n", 0.1 * i, i, start + (end - start) * i / 12);
    }
    out << "background,0.05,,47000000,,\n";
  }
  const auto b = leakbench::gate::default_budgets();
  const auto files =
      rp::build_run_report({.results = &run, .series = series.path(), .budgets = &b});
  const auto& md = files.at("summary.md");
  EXPECT_EQ(md.find("reclaimed"), std::string::npos) << "no heap column";
  EXPECT_NE(md.find("target dramatiq"), std::string::npos);
  EXPECT_NE(md.find("installed: Dramatiq 1.17.1 at 4b3ef1a (Python 3.11.2)"), std::string::npos)
      << md;
  EXPECT_NE(md.find("RSS only, no heap counter"), std::string::npos);
  EXPECT_NE(md.find("| installed |"), std::string::npos);
  EXPECT_TRUE(files.count("Single_time.svg"));
  EXPECT_NE(files.at("Single_retries.svg").find("<title>Single/installed, retry 12"),
            std::string::npos);
}
