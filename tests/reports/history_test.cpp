// The dashboard over many runs: ordered by the moment each ran (its date with its time zone)
// and commit, a step where a run leaked more, a gap where a run lacks a benchmark, only
// comparable leakbench runs accepted, and one unit per quantity.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <pugixml.hpp>
#include <regex>

#include "reports/report/history.hpp"
#include "reports/results/units.hpp"
#include "tests/files.hpp"
#include "tests/reports/golden.hpp"

namespace fs = std::filesystem;
namespace lr = leakbench::reports;
namespace rp = leakbench::report;
namespace lt = leakbench::test;

namespace {

/// A recorded run's text with its context's date replaced by `date`.
std::string dated(const std::string& recorded, const std::string& date) {
  std::string text = lt::read_data("runs/" + recorded);
  const std::string key = "\"date\": \"";
  const auto at = text.find(key) + key.size();
  text.replace(at, text.find('"', at) - at, date);
  return text;
}

/// `text` with the first `counter` of benchmark `key` raised by `by`.
std::string grown(std::string text, const std::string& key, const std::string& counter, double by) {
  const std::string field = "\"" + counter + "\": ";
  const auto at = text.find(field, text.find("\"" + key + "/")) + field.size();
  const auto end = text.find(',', at);
  text.replace(at, end - at, fmt::format("{:.17g}", std::stod(text.substr(at, end - at)) + by));
  return text;
}

/// A folder "runs" holding the given files.
fs::path runs_folder(const lt::temp_dir& dir,
                     const std::vector<std::pair<std::string, std::string>>& files) {
  const fs::path runs = dir.path() / "runs";
  fs::create_directories(runs);
  for (const auto& [name, text] : files) std::ofstream(runs / name) << text;
  return runs;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string error_of(const fs::path& p) {
  try {
    rp::build_history(p);
  } catch (const lr::input_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(history, orders_runs_by_the_moment_they_ran_and_shows_a_step_and_a_gap) {
  lt::temp_dir dir;
  // The dates' texts sort against the moments on purpose, and so do the file names: 00:00Z,
  // 01:00Z and 02:30Z, written in three time zones.
  const auto runs =
      runs_folder(dir, {{"c.json", dated("single_only.json", "2026-12-02T05:00:00+05:00")},
                        {"b.json", dated("clean.json", "2026-12-02T01:00:00+00:00")},
                        {"a.json", grown(dated("clean.json", "2026-12-01T23:30:00-03:00"),
                                         "Nested/fixed", "rss_per_retry", 64 * 1024)}});
  const auto files = rp::build_history(runs);
  const std::string& page = files.at("index.html");
  const auto at_c = page.find("c.json"), at_b = page.find("b.json"), at_a = page.find("a.json");
  ASSERT_NE(at_a, std::string::npos);
  EXPECT_LT(at_c, at_b);
  EXPECT_LT(at_b, at_a);

  // Nested/fixed: in runs 2 and 3 only (a gap at 1); run 3 leaked 64 KiB more per retry.
  const std::string& svg = files.at("Nested_fixed_rss_per_retry.svg");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(svg.c_str()));
  EXPECT_EQ(count(svg, "<title>Nested/fixed, run "), 2u) << "no marker where the run lacks it";
  EXPECT_EQ(count(svg, "<title>Nested/fixed, run 1 "), 0u);
  const auto clean = lt::recorded_run("clean.json");
  const double after = *clean.repetitions_of("Nested/fixed")[0]->number("rss_per_retry") + 65536;
  EXPECT_NE(svg.find(fmt::format("run 3 (2026-12-01T23:30:00-03:00, {}, a.json): {} ± ",
                                 *clean.context_value("git_commit"), lr::format_bytes(after))),
            std::string::npos)
      << svg;
  // Single/leaky is in all three: three markers and error bars.
  EXPECT_EQ(count(files.at("Single_leaky_rss_per_retry.svg"), "<title>Single/leaky, run "), 3u);
  EXPECT_EQ(files.size(), 1 + clean.keys().size() * 2);
  // What html-validate's recommended preset asked of the page: scoped headers, plain ids.
  EXPECT_FALSE(std::regex_search(page, std::regex("<th(?=[ >])(?![^>]*scope=)")));
  std::size_t ids = 0;
  static const std::regex id(R"re(id="([^"]*)")re");
  for (std::sregex_iterator it(page.begin(), page.end(), id), end; it != end; ++it) {
    ++ids;
    EXPECT_TRUE(std::regex_match((*it)[1].str(), std::regex("[A-Za-z][A-Za-z0-9_-]*"))) << (*it)[1];
  }
  EXPECT_EQ(ids, clean.keys().size()) << "one per benchmark";
}

TEST(history, each_quantity_is_drawn_in_the_unit_its_range_asks_for) {
  lt::temp_dir dir;
  const auto runs = runs_folder(dir, {{"a.json", lt::read_data("runs/clean.json")}});
  const auto files = rp::build_history(runs);
  // Nested/leaky grows about 2 MiB per retry: MiB, not 2050 KiB; Nested/fixed next to nothing.
  EXPECT_NE(files.at("Nested_leaky_rss_per_retry.svg").find(">rss_per_retry (MiB)<"),
            std::string::npos);
  const auto clean = lt::recorded_run("clean.json");  // kept: the rows point into it
  const auto* fixed = clean.repetitions_of("Nested/fixed")[0];
  const double top = std::abs(*fixed->number("rss_per_retry")) + *fixed->number("rss_ci95");
  EXPECT_NE(files.at("Nested_fixed_rss_per_retry.svg")
                .find(fmt::format(">rss_per_retry ({})<", lr::unit_for(top).name)),
            std::string::npos);
  EXPECT_NE(files.at("Nested_leaky_peak_rss.svg").find(">peak_rss (MiB)<"), std::string::npos);
}

TEST(history, runs_that_cannot_be_compared_are_refused_by_key_and_both_values) {
  lt::temp_dir dir;
  const auto runs = runs_folder(dir, {{"a.json", lt::read_data("runs/clean.json")},
                                      {"b.json", lt::read_data("runs/gc_every_5.json")}});
  const std::string e = error_of(runs);
  EXPECT_NE(e.find("ran with gc=off, but "), std::string::npos) << e;
  EXPECT_NE(e.find(" with gc=every:5: per-retry growth is not comparable"), std::string::npos) << e;
  lt::temp_dir other;
  const auto payloads = runs_folder(other, {{"a.json", lt::read_data("runs/clean.json")},
                                            {"b.json", lt::read_data("runs/stdout.json")}});
  EXPECT_NE(error_of(payloads).find("payload="), std::string::npos) << error_of(payloads);
}

TEST(history, shows_the_target_and_each_variants_dramatiq_version_and_commit) {
  lt::temp_dir dir;
  const auto runs = runs_folder(dir, {{"d.json", lt::dramatiq_run_text()}});
  const auto page = rp::build_history(runs).at("index.html");
  EXPECT_NE(page.find("<td class=\"name\">dramatiq</td>"), std::string::npos) << page;
  EXPECT_NE(page.find("installed: Dramatiq 1.17.1 at 4b3ef1a (Python 3.11.2)"), std::string::npos);
  EXPECT_NE(page.find("leaky: Dramatiq 1.15.0 (Python 3.11.2)"), std::string::npos);
}

TEST(history, the_same_runs_give_the_same_files) {
  lt::temp_dir dir;
  const auto runs = runs_folder(dir, {{"reps.json", lt::read_data("runs/repetitions_series.json")},
                                      {"single.json", lt::read_data("runs/single_only.json")}});
  const auto files = rp::build_history(runs);
  EXPECT_EQ(files, rp::build_history(runs));
  lt::expect_golden(files, "history");
}

TEST(history, a_folder_without_leakbench_runs_is_one_clear_error) {
  lt::temp_dir dir;
  EXPECT_EQ(error_of(dir.path() / "none"), (dir.path() / "none").string() + ": no such folder");
  EXPECT_EQ(error_of(dir.path()),
            dir.path().string() + ": holds no .json file (leakbench --benchmark_out=F.json)");
  const auto runs = runs_folder(dir, {{"a.json", lt::read_data("runs/clean.json")},
                                      {"b.json", lt::read_data("runs/other_tool.json")}});
  EXPECT_EQ(error_of(runs), (runs / "b.json").string() +
                                ": not Google Benchmark JSON: no \"benchmarks\" array (top-level "
                                "keys: fileApi, generators, serverMode, tls, version)");
}
