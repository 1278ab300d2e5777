// leakgate as a CI pipeline runs it: exit codes, one line per bad input, the exports on disk;
// and the gate on a real leakbench run, with and without an injected leak.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "harness/measure/sanitizer.hpp"
#include "reports/gate/decide.hpp"
#include "tests/process.hpp"
#include "tests/reports/data.hpp"

namespace fs = std::filesystem;
namespace lt = leakbench::test;
namespace lr = leakbench::reports;
using lt::data_path;

namespace {

class leakgate : public ::testing::Test {
 protected:
  lt::process_result gate(std::vector<std::string> args, const std::string& in = "") {
    return lt::run_process(LEAKGATE_EXE, std::move(args), dir_.path(), in);
  }
  lt::process_result leakbench(std::vector<std::string> args) {
    return lt::run_process(LEAKBENCH_EXE, std::move(args), dir_.path());
  }
  std::string file(const std::string& name) const { return (dir_.path() / name).string(); }
  lt::temp_dir dir_;
};

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

std::string run(const char* name) { return data_path(std::string("runs/") + name); }

/// The summary line leakgate prints for recorded run `name` under the shipped budgets.
std::string summary_of(const char* name) {
  namespace lg = leakbench::gate;
  const auto e = lg::evaluate(lt::recorded_run(name), lg::default_budgets());
  return fmt::format("{} checks: {} pass, {} FAIL, {} inconclusive", e.checked(),
                     e.count(lg::verdict::pass), e.count(lg::verdict::fail),
                     e.count(lg::verdict::inconclusive));
}

}  // namespace

TEST_F(leakgate, passes_a_clean_run_with_exit_code_0) {
  const auto r = gate({run("clean.json")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  const std::string summary = summary_of("clean.json");
  EXPECT_TRUE(summary.ends_with(" pass, 0 FAIL, 0 inconclusive")) << summary;
  EXPECT_NE(r.out.find(summary), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.ends_with("-> PASS\n"));
  EXPECT_EQ(r.out.find('\033'), std::string::npos) << "no colour when stdout is not a terminal";
}

TEST_F(leakgate, fails_an_injected_leak_with_exit_code_1) {
  const auto r = gate({run("inject_64KiB.json")});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("note: this run injected a leak of 64 KiB per attempt"), std::string::npos);
  EXPECT_NE(r.out.find(summary_of("inject_64KiB.json")), std::string::npos) << r.out;
  EXPECT_TRUE(r.out.ends_with("-> FAIL\n"));
}

TEST_F(leakgate, shows_heap_rules_on_a_run_without_a_heap_as_not_applicable_rows) {
  std::ofstream(file("dramatiq.json")) << lt::dramatiq_run_text();
  const auto r = gate({file("dramatiq.json")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Single/installed  heap_per_retry  -"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not applicable: a dramatiq run has no heap counter"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("4 checks: 4 pass, 0 FAIL, 0 inconclusive (--inconclusive=fail: they "
                       "fail); 3 not applicable -> PASS"),
            std::string::npos)
      << r.out;
  // Gated by heap rules alone, the same run checks nothing: refused.
  std::ofstream(file("heap.toml"))
      << "[[rule]]\nmatch = \".\"\ncounter = \"heap_per_retry\"\nmax = \"1KiB\"\n";
  const auto heap = gate({file("dramatiq.json"), "--budgets", file("heap.toml")});
  EXPECT_EQ(heap.exit_code, 2) << heap.out << heap.err;
  EXPECT_NE(heap.err.find("the gate checks nothing in " + file("dramatiq.json") +
                          ": 2 rows are not applicable (a dramatiq run has no heap counter)"),
            std::string::npos)
      << heap.err;
}

TEST_F(leakgate, reads_the_run_from_standard_input) {
  const auto r = gate({"-"}, run("stdout.json"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("leakgate: <stdin>: 2 benchmarks")) << r.out;
}

TEST_F(leakgate, inconclusive_fails_or_passes_as_asked) {
  // A limit on the slope itself: inside its own interval, whatever the recording.
  // The first fixed benchmark with a positive slope and some scatter (a limit is never negative).
  const auto results = lt::recorded_run("clean.json");
  const lr::benchmark_row* row = nullptr;
  for (const auto* r : results.measured()) {
    if (!row && r->key.ends_with("/fixed") && *r->number("rss_per_retry") > 0 &&
        *r->number("rss_ci95") > 0) {
      row = r;
    }
  }
  ASSERT_NE(row, nullptr) << "the recording has no such fixed benchmark";
  {
    std::ofstream out(file("on_the_slope.toml"));
    out << "[[rule]]\nmatch = \"^" << row->key
        << "$\"\ncounter = \"rss_per_retry\"\nmax = " << *row->number("rss_per_retry") << "\n";
  }
  const auto strict = gate({run("clean.json"), "--budgets", file("on_the_slope.toml")});
  EXPECT_EQ(strict.exit_code, 1) << strict.out << strict.err;
  EXPECT_NE(strict.out.find("inconclusive (fails)"), std::string::npos) << strict.out;
  EXPECT_NE(strict.out.find("retries (now 12) would decide it"), std::string::npos) << strict.out;
  const auto lenient =
      gate({run("clean.json"), "--budgets", file("on_the_slope.toml"), "--inconclusive=pass"});
  EXPECT_EQ(lenient.exit_code, 0) << lenient.out << lenient.err;
  EXPECT_NE(lenient.out.find("inconclusive (passes)"), std::string::npos) << lenient.out;
}

TEST_F(leakgate, a_baseline_regression_fails_and_an_improvement_passes) {
  // clean.json with Single/fixed's RSS slope grown by 64 KiB: a candidate of the same config.
  auto grown = lt::read_data("runs/clean.json");
  const std::string field = "\"rss_per_retry\": ";
  const auto at = grown.find(field, grown.find("\"Single/fixed")) + field.size();
  const auto end = grown.find(',', at);
  grown.replace(at, end - at, fmt::format("{}", std::stod(grown.substr(at, end - at)) + 65536));
  std::ofstream(file("grown.json")) << grown;
  const auto worse = gate({file("grown.json"), "--baseline", run("clean.json"), "--budgets",
                           data_path("budgets/every_form.toml")});
  EXPECT_NE(worse.out.find("regression FAIL"), std::string::npos) << worse.out;
  EXPECT_EQ(worse.exit_code, 1);
  const auto better = gate({run("clean.json"), "--baseline", file("grown.json")});
  EXPECT_EQ(better.exit_code, 0) << better.out << better.err;
  EXPECT_NE(better.out.find("improvement"), std::string::npos);
  EXPECT_NE(better.out.find("baseline: 0 regressions, "), std::string::npos) << better.out;
}

TEST_F(leakgate, a_benchmark_gone_from_the_results_fails_only_when_asked) {
  const auto warn = gate({run("single_only.json"), "--baseline", run("clean.json")});
  EXPECT_EQ(warn.exit_code, 0) << warn.out << warn.err;
  const auto gone = lt::recorded_run("clean.json").keys().size() -
                    lt::recorded_run("single_only.json").keys().size();
  ASSERT_GT(gone, 0u);
  EXPECT_NE(warn.out.find(fmt::format("{} gone", gone)), std::string::npos) << warn.out;
  // every_form.toml sets missing = "fail" and names Nested, which single_only.json lacks.
  {
    std::ofstream out(file("missing_fails.toml"));
    out << "[[rule]]\nmatch = \"/fixed$\"\ncounter = \"heap_per_retry\"\nmax = \"1KiB\"\n"
           "[baseline]\nmissing = \"fail\"\n";
  }
  const auto strict = gate({run("single_only.json"), "--baseline", run("clean.json"), "--budgets",
                            file("missing_fails.toml")});
  EXPECT_EQ(strict.exit_code, 1) << strict.out << strict.err;
  EXPECT_NE(strict.out.find("gone FAIL"), std::string::npos) << strict.out;
}

TEST_F(leakgate, writes_every_export_and_only_whole_files) {
  const auto r =
      gate({run("inject_64KiB.json"), "--baseline", run("inject_64KiB.json"), "--markdown",
            file("gate.md"), "--junit", file("gate.xml"), "--bencher", file("bmf.json"),
            "--github-action-benchmark", file("gab.json"), "--openmetrics", file("gate.prom")});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const char* f : {"gate.md", "gate.xml", "bmf.json", "gab.json", "gate.prom"}) {
    EXPECT_GT(fs::file_size(file(f)), 100u) << f;
  }
  std::size_t leftovers = 0;
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    const auto name = e.path().filename().string();  // a temporary file is hidden, or was .tmp.
    leftovers += name.starts_with(".") || name.find(".tmp") != std::string::npos;
  }
  EXPECT_EQ(leftovers, 0u);
}

TEST_F(leakgate, an_export_to_a_symlink_or_a_fifo_is_written_through_not_replaced) {
  const auto plain = gate({run("clean.json"), "--markdown", file("plain.md")});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const std::string markdown = lt::slurp(file("plain.md"));
  ASSERT_GT(markdown.size(), 100u);

  // gate.md -> history/gate.md: the target gets the summary, the link stays a link.
  fs::create_directories(file("history"));
  std::ofstream(file("history/gate.md")) << "old";
  fs::create_symlink("history/gate.md", file("gate.md"));
  const auto linked = gate({run("clean.json"), "--markdown", file("gate.md")});
  ASSERT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_TRUE(fs::is_symlink(file("gate.md")));
  EXPECT_EQ(lt::slurp(file("history/gate.md")), markdown);

  // A FIFO, as /dev/stdout piped would be: written into, still a FIFO. The test holds the read
  // end open (without blocking), so leakgate's open does not wait; the summary fits the pipe.
  ASSERT_EQ(::mkfifo(file("fifo").c_str(), 0600), 0);
  const int reader = ::open(file("fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(reader, 0);
  const auto piped = gate({run("clean.json"), "--markdown", file("fifo")});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(reader, buf, sizeof(buf))) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(reader);
  EXPECT_EQ(got, markdown);
  struct stat st {};
  ASSERT_EQ(::lstat(file("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    left.push_back(e.path().filename().string());
  }
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"fifo", "gate.md", "history", "plain.md", "stderr.txt",
                                            "stdout.txt"}));
}

TEST_F(leakgate, bad_input_is_one_line_and_exit_code_2) {
  {
    std::ofstream(file("empty.json"));
    const std::string clean = lt::read_data("runs/clean.json");
    std::ofstream(file("truncated.json")) << clean.substr(0, clean.size() / 2);
    std::ofstream(file("malformed.json")) << "{\"context\": {}, \"benchmarks\": [}";
    // A canary on benchmarks expected to keep nothing: its `when` leaves every one out.
    std::ofstream(file("excluded.toml"))
        << "[[rule]]\nmatch = \"^LargeResult/leaky$\"\ncounter = \"rss_per_retry\"\nmin = "
           "\"90% expected\"\nwhen = \"expected_per_retry > 0\"\n";
  }
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{file("empty.json")}, "the file is empty"},
      {{file("truncated.json")}, "the JSON ends early"},
      {{file("malformed.json")}, "not valid JSON at line 1, column 32"},
      {{run("other_tool.json")}, "not Google Benchmark JSON"},
      {{file("no_such.json")}, "cannot read: No such file or directory"},
      {{run("clean.json"), "--budgets", data_path("budgets/syntax_error.toml")},
       "syntax_error.toml:6:"},
      {{run("clean.json"), "--budgets", data_path("budgets/no_match.toml")}, "names no benchmark"},
      {{run("cache_bench.json")}, "no rule names any benchmark in"},
      {{run("clean.json"), "--budgets", file("excluded.toml")},
       "excluded.toml: the gate checks nothing in "},
      {{run("clean.json"), "--baseline", run("errored.json")}, "not comparable"},
      {{run("clean.json"), "--baseline", run("inject_64KiB.json")},
       "with inject_leak=65536, but " + run("clean.json") + " with inject_leak=0"},
      {{run("clean.json"), "--inconclusive=sometimes"}, "--inconclusive"},
      {{run("clean.json"), "--frobnicate"}, "--frobnicate"},
      {{}, "RESULTS is required"},
      {{run("clean.json"), "--junit", "/nonexistent/dir/gate.xml"},
       "cannot write /nonexistent/dir/gate.xml: No such file or directory"},
  };
  for (const auto& [args, says] : cases) {
    const auto r = gate(args);
    const std::string what = args.empty() ? "(no arguments)" : args.back();
    EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1u) << what << ": " << r.err;
    EXPECT_TRUE(r.err.starts_with("leakgate: ")) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << what << ": " << r.err;
  }
}

TEST_F(leakgate, prints_its_builtin_budgets_and_help) {
  const auto budgets = gate({"--print-budgets"});
  EXPECT_EQ(budgets.exit_code, 0);
  EXPECT_EQ(budgets.out, lt::read_data("../../reports/budgets.toml"));
  const auto help = gate({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--budgets", "--baseline", "--inconclusive", "--markdown", "--junit",
                           "--bencher", "--github-action-benchmark", "--openmetrics"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
}

// The gate on a real run: an injected leak must fail every fixed benchmark, a clean run pass.
// Sanitizers inflate RSS, so there only the heap rules (exact under them too) are kept.
TEST_F(leakgate, catches_a_leak_injected_into_a_real_leakbench_run) {
  std::vector<std::string> budgets;
  if (leakbench::measure::k_sanitized_malloc) {
    std::ofstream(file("heap.toml"))
        << "[[rule]]\nmatch = \"/fixed$\"\ncounter = \"heap_per_retry\"\nmax = \"1KiB\"\n";
    budgets = {"--budgets", file("heap.toml")};
  }
  const std::vector<std::string> config = {"--payload=1MiB", "--retries=12",
                                           "--benchmark_out_format=json"};
  auto clean = config, injected = config;
  clean.push_back("--benchmark_out=" + file("clean.json"));
  injected.push_back("--benchmark_out=" + file("injected.json"));
  injected.push_back("--inject_leak=64KiB");
  ASSERT_EQ(leakbench(clean).exit_code, 0);
  ASSERT_EQ(leakbench(injected).exit_code, 0);

  auto args = budgets;
  args.insert(args.begin(), file("clean.json"));
  const auto pass = gate(args);
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;

  args[0] = file("injected.json");
  args.push_back("--junit");
  args.push_back(file("gate.xml"));
  const auto fail = gate(args);
  EXPECT_EQ(fail.exit_code, 1) << fail.out << fail.err;
  const std::string xml = lt::slurp(file("gate.xml"));
  for (const char* scenario : {"Single", "Nested", "Concurrent", "LargeResult", "DeepTraceback",
                               "Generator", "ContextManager"}) {
    // Every fixed benchmark has a failing heap rule, whatever else fails with it.
    const std::string testcase =
        fmt::format("classname=\"{}/fixed\" name=\"{}\"", scenario,
                    budgets.empty() ? "fixed: the heap does not grow per retry (heap_per_retry)"
                                    : "heap_per_retry &lt;= 1KiB (heap_per_retry)");
    const auto at = xml.find(testcase);
    ASSERT_NE(at, std::string::npos) << testcase;
    const std::string body = xml.substr(at, xml.find("</testcase>", at) - at);
    EXPECT_NE(body.find("<failure type=\"fail\""), std::string::npos) << body;
  }
}
