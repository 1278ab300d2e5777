// leakreport's report of one run: the numbers are the JSON's, the charts are well-formed SVG
// with hover text and escaped names, the same input gives the same files, and every bad input
// is one clear error.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <pugixml.hpp>
#include <regex>

#include "reports/report/html.hpp"
#include "reports/report/output_dir.hpp"
#include "reports/report/run_report.hpp"
#include "reports/report/summary.hpp"
#include "reports/results/series.hpp"
#include "reports/results/units.hpp"
#include "tests/files.hpp"
#include "tests/reports/golden.hpp"
#include "tests/reports/report_of.hpp"

namespace fs = std::filesystem;
namespace lr = leakbench::reports;
namespace rp = leakbench::report;
namespace lt = leakbench::test;
using lt::data_path;
using lt::input_error_of;
using lt::recorded_run;
using lt::report_of;

namespace {

/// The data-value attributes of the summary row of `benchmark`, in column order.
std::vector<double> row_values(const std::string& html, const std::string& benchmark) {
  const auto start = html.find("data-benchmark=\"" + benchmark + "\"");
  EXPECT_NE(start, std::string::npos) << benchmark;
  const std::string row = html.substr(start, html.find("</tr>", start) - start);
  std::vector<double> values;
  static const std::regex value(R"re(data-value="([^"]+)")re");
  for (std::sregex_iterator it(row.begin(), row.end(), value), end; it != end; ++it) {
    values.push_back(std::stod((*it)[1]));
  }
  return values;
}

}  // namespace

TEST(run_report, the_summary_numbers_are_the_jsons_to_the_last_digit) {
  const auto run = recorded_run("clean.json");
  const auto files = report_of(run, "clean");
  const std::string& html = files.at("index.html");
  ASSERT_EQ(run.keys().size(), 26u);
  for (const auto& key : run.keys()) {
    const auto* row = run.repetitions_of(key).at(0);
    std::vector<double> expected;
    for (const char* counter :
         {"rss_start", "rss_end", "peak_rss", "rss_per_retry", "expected_per_retry", "rss_ci95",
          "rss_r2", "retained", "reclaimed"}) {
      expected.push_back(*row->number(counter));
    }
    EXPECT_EQ(row_values(html, key), expected) << key;
  }
  // The Markdown shows the same values, rounded the same way.
  const std::string& md = files.at("summary.md");
  const auto* nested = run.repetitions_of("Nested/leaky").at(0);
  EXPECT_NE(md.find(fmt::format("| {} | 2 MiB | ± {} |",
                                lr::format_bytes(*nested->number("rss_per_retry")),
                                lr::format_bytes(*nested->number("rss_ci95")))),
            std::string::npos)
      << md;
  // Four significant digits: 2 MiB and a few KiB reads "2.01 MiB" or "2.009 MiB", never more.
  EXPECT_TRUE(lr::format_bytes(*nested->number("rss_per_retry")).starts_with("2.0"));
}

TEST(run_report, severity_follows_the_payload_multiples) {
  const auto scenarios = rp::summarize(recorded_run("clean.json"));
  std::map<std::string, std::string> level;
  for (const auto& s : scenarios) {
    for (const auto& v : s.variants) level[v.key] = rp::to_string(v.level);
  }
  EXPECT_EQ(level["Single/leaky"], "critical");
  EXPECT_EQ(level["Nested/leaky"], "catastrophic");
  EXPECT_EQ(level["Concurrent/leaky"], "catastrophic") << "5 x P/2 = 2.5P";
  EXPECT_EQ(level["LargeResult/leaky"], "none");
  std::size_t fixed = 0;
  for (const auto& [key, l] : level) {
    if (key.ends_with("/fixed")) {
      ++fixed;
      EXPECT_EQ(l, "none") << key;
    }
  }
  EXPECT_GE(fixed, 7u);
  const auto files = report_of(recorded_run("clean.json"));
  EXPECT_NE(files.at("index.html").find("catastrophic at 2P and above"), std::string::npos)
      << "the thresholds are stated under the table";
  EXPECT_NE(files.at("summary.md").find("catastrophic at 2P and above"), std::string::npos);
}

TEST(run_report, the_html_has_scoped_headers_and_ids_without_slashes) {
  const auto b = leakbench::gate::default_budgets();
  const auto run = recorded_run("clean.json");
  std::size_t pages = 0;
  for (const auto& [name, page] : rp::build_run_report({.results = &run, .budgets = &b})) {
    if (!name.ends_with(".html")) continue;
    ++pages;
    static const std::regex th("<th(?=[ >])(?![^>]*scope=)"), id(R"re(id="([^"]*)")re");
    EXPECT_FALSE(std::regex_search(page, th)) << "a <th> without scope";
    std::size_t ids = 0;
    for (std::sregex_iterator it(page.begin(), page.end(), id), end; it != end; ++it) {
      ++ids;
      EXPECT_TRUE(std::regex_match((*it)[1].str(), std::regex("[A-Za-z][A-Za-z0-9_-]*")))
          << (*it)[1];
    }
    EXPECT_EQ(ids, rp::summarize(run).size()) << "one per scenario";
    const auto title = page.substr(page.find("<title>") + 7);
    EXPECT_LE(title.find("</title>"), 70u) << "html-validate's long-title";
  }
  EXPECT_EQ(pages, 1u);
}

TEST(run_report, every_chart_is_well_formed_svg_with_hover_text_on_every_sample) {
  const auto run = recorded_run("clean.json");
  const auto files = report_of(run, "clean");
  std::size_t svgs = 0;
  for (const auto& [name, content] : files) {
    if (!name.ends_with(".svg")) continue;
    ++svgs;
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(content.c_str())) << name;
    const auto svg = doc.child("svg");
    EXPECT_STREQ(svg.attribute("xmlns").value(), "http://www.w3.org/2000/svg") << name;
    for (const char* label : {"RSS (MiB)"}) {
      EXPECT_NE(content.find(label), std::string::npos) << name << ": an axis title with its unit";
    }
    EXPECT_NE(content.find(name.ends_with("_time.svg") ? "time since the benchmark started (s)"
                                                       : ">retry<"),
              std::string::npos)
        << name;
    // One hoverable marker per retry sample of each variant: the start plus 12 retries.
    std::size_t hover = 0;
    for (const auto& node : svg.select_nodes("//*[@class='pt']/title")) {
      (void)node;
      ++hover;
    }
    EXPECT_EQ(hover, 2u * 13) << name;
    if (name.starts_with("Single_")) {
      EXPECT_NE(content.find("<title>Single/leaky, retry 12"), std::string::npos) << name;
    }
  }
  EXPECT_EQ(svgs, 26u) << "a time chart and a retry chart per scenario";
  // The page embeds the same charts it writes beside itself.
  for (const auto& [name, content] : files) {
    if (name.ends_with(".svg")) {
      EXPECT_NE(files.at("index.html").find(content), std::string::npos) << name;
    }
  }
}

TEST(run_report, names_from_the_file_are_escaped_everywhere) {
  // The recorded run, with one benchmark renamed as a hostile file could name it.
  std::string text = lt::read_data("runs/single_only.json");
  for (std::size_t at; (at = text.find("Single/leaky")) != std::string::npos;) {
    text.replace(at, 12, R"(<script>x</script>&\"q\"/leaky)");
  }
  const auto run = lr::parse_run(text, "hostile<b>.json");
  const auto files = rp::build_run_report({.results = &run});
  ASSERT_EQ(files.size(), 4u) << "index.html, summary.md, the retry chart of each scenario";
  for (const auto& [name, content] : files) {
    EXPECT_EQ(content.find("<script"), std::string::npos) << name;
    EXPECT_EQ(content.find("<b>"), std::string::npos) << name;
    if (name.ends_with(".svg")) {
      pugi::xml_document doc;
      EXPECT_TRUE(doc.load_string(content.c_str())) << name;
    }
  }
  EXPECT_NE(files.at("index.html").find("&lt;script&gt;x&lt;/script&gt;&amp;&quot;q&quot;"),
            std::string::npos);
  EXPECT_TRUE(files.count("_script_x__script___q__retries.svg")) << "a safe file name";
}

TEST(run_report, without_series_the_retry_chart_comes_from_the_json_and_the_page_says_so) {
  const auto run = recorded_run("clean.json");
  const auto files = report_of(run);
  ASSERT_EQ(files.size(), 2 + rp::summarize(run).size()) << "a retry chart per scenario";
  for (const auto& [name, content] : files) {
    EXPECT_FALSE(name.ends_with("_time.svg")) << name << ": no time view without samples";
  }
  const std::string& page = files.at("index.html");
  EXPECT_NE(page.find("RSS over time needs the samples leakbench writes with "
                      "<code>--series_out=DIR</code>"),
            std::string::npos);
  // Each variant: its start and end from the JSON, hoverable, and its fitted line.
  const std::string& svg = files.at("Nested_retries.svg");
  const auto* leaky = run.repetitions_of("Nested/leaky").at(0);
  EXPECT_NE(svg.find(fmt::format("<title>Nested/leaky, retry 0: {:.2f} MiB</title>",
                                 *leaky->number("rss_start") / 1048576)),
            std::string::npos);
  EXPECT_NE(svg.find(fmt::format("<title>Nested/leaky, retry 12: {:.2f} MiB</title>",
                                 *leaky->number("rss_end") / 1048576)),
            std::string::npos);
  EXPECT_NE(svg.find("leaky fit"), std::string::npos);
}

TEST(run_report, says_what_holds_each_benchmarks_memory_as_leakbench_found_it) {
  const auto run = recorded_run("workarounds.json");
  const auto scenarios = rp::summarize(run);
  std::map<std::string, std::string> held;
  for (const auto& s : scenarios) {
    for (const auto& v : s.variants) held[v.key] = v.held;
  }
  EXPECT_EQ(held.at("MetadataOnly/leaky"),
            "retains 1.0 MiB per exception via exc.__traceback__ -> frame metadata_only() local "
            "'data'");
  EXPECT_EQ(held.at("RaiseFromNone/leaky"),
            "retains 1.0 MiB per exception via exc.__context__.payload");
  EXPECT_EQ(held.at("DelBeforeRaise/leaky"),
            "retains only the exception's own objects, no data block");
  EXPECT_EQ(held.at("DelBeforeRaise/fixed"), "retains nothing");
  const auto files = report_of(run);
  EXPECT_NE(files.at("index.html")
                .find("<p class=\"held\">RaiseFromNone/leaky: retains 1.0 MiB per exception via "
                      "exc.__context__.payload</p>"),
            std::string::npos);
  EXPECT_NE(files.at("index.html").find("local &#39;data&#39;"), std::string::npos)
      << "the path is escaped like every name";
  const std::string& md = files.at("summary.md");
  const auto section = md.find("\n## What holds the memory\n\n- MetadataOnly/leaky: ");
  ASSERT_NE(section, std::string::npos) << md;
  EXPECT_NE(md.find("\n- RaiseFromNone/leaky: retains 1.0 MiB per exception via "
                    "exc.\\_\\_context\\_\\_.payload\n",
                    section),
            std::string::npos)
      << md;
  // A run from before leakbench named the paths (kept as a legacy input) says nothing of them.
  EXPECT_EQ(
      report_of(recorded_run("legacy_without_paths.json")).at("summary.md").find("What holds"),
      std::string::npos);
}

TEST(run_report, a_gc_run_says_why_its_lines_are_saw_teeth) {
  const auto run = recorded_run("gc_every_5.json");
  const auto files = report_of(run, "gc_every_5");
  EXPECT_NE(files.at("index.html").find("collected cycles every 5 finished attempts"),
            std::string::npos);
  // The samples themselves: RSS falls back at every fifth retry of the leaky variant.
  const auto samples = lr::read_series(data_path("series/gc_every_5/Single_leaky.csv"));
  ASSERT_EQ(samples.retries.size(), 21u);
  for (std::size_t i = 5; i < samples.retries.size(); i += 5) {
    EXPECT_LT(samples.retries[i].rss, samples.retries[i - 1].rss - 3.5 * 1048576) << i;
  }
}

TEST(run_report, the_baseline_reads_as_one_before_and_after_table) {
  // A baseline of the same configuration: clean.json's half of repetitions_series.json's
  // config is not it, so the clean run against itself with Single/fixed grown by 64 KiB.
  const auto now = recorded_run("clean.json");
  auto before = now;
  before.source = "before.json";
  before.context["retries"] = "16";  // shown, not refused
  for (auto& row : before.rows) {
    if (row.key == "Single/fixed") row.numbers["rss_per_retry"] += 65536;
  }
  const auto files = report_of(now, nullptr, &before);
  const std::string& html = files.at("index.html");
  EXPECT_NE(html.find("<h2>Against the baseline</h2>"), std::string::npos);
  const auto* a = before.repetitions_of("Single/fixed").at(0);
  const auto* b = now.repetitions_of("Single/fixed").at(0);
  const double delta = *b->number("rss_per_retry") - *a->number("rss_per_retry");
  EXPECT_NE(html.find(fmt::format("data-value=\"{:.17g}\"", delta)), std::string::npos);
  EXPECT_NE(files.at("summary.md").find("## Against the baseline"), std::string::npos);
  EXPECT_NE(files.at("summary.md")
                .find("The baseline ran otherwise (compared all the same): "
                      "retries 16 → 12"),
            std::string::npos)
      << files.at("summary.md");
  auto injected = now;
  injected.context["inject_leak"] = "65536";
  EXPECT_NE(input_error_of([&] { report_of(now, nullptr, &injected); }).find("inject_leak=65536"),
            std::string::npos);
}

TEST(run_report, the_same_input_gives_the_same_files) {
  const auto run = recorded_run("single_only.json"), baseline = recorded_run("clean.json");
  const auto files = report_of(run, "single_only", &baseline);
  EXPECT_EQ(files, report_of(run, "single_only", &baseline));
  lt::expect_golden(files, "single_only");
}

TEST(run_report, bad_inputs_are_one_clear_error) {
  const auto run = recorded_run("clean.json");
  EXPECT_EQ(input_error_of(
                [&] { rp::build_run_report({.results = &run, .series = "/nonexistent/series"}); }),
            "/nonexistent/series: no such folder (--series names leakbench's --series_out "
            "folder)");
  lt::temp_dir empty;
  EXPECT_TRUE(
      input_error_of([&] { rp::build_run_report({.results = &run, .series = empty.path()}); })
          .ends_with("holds no series file of clean.json (expected e.g. "
                     "Single_leaky.csv): is it this run's --series_out?"));
  const auto other = recorded_run("cache_bench.json");
  EXPECT_EQ(input_error_of([&] { rp::build_run_report({.results = &other}); }),
            "cache_bench.json: no benchmark carries leakbench's rss_per_retry counter: not a "
            "leakbench run");
  std::ofstream(empty.path() / "Single_leaky.csv") << "kind,time_s,retry,rss_bytes,heap_bytes,"
                                                      "malloc_heap_bytes\nretry,0.1,0,1,2\n";
  EXPECT_EQ(
      input_error_of([&] { rp::build_run_report({.results = &run, .series = empty.path()}); }),
      (empty.path() / "Single_leaky.csv").string() + ":2: expected 6 fields, found 5");
}

TEST(write_report, replaces_a_previous_report_whole_and_leaves_nothing_behind_on_failure) {
  lt::temp_dir dir;
  const fs::path out = dir.path() / "report";
  rp::write_report(out, {{"index.html", rp::html_page("one", "")}, {"a.svg", "a"}});
  rp::write_report(out, {{"index.html", rp::html_page("two", "")}, {"b.svg", "b"}});
  EXPECT_FALSE(fs::exists(out / "a.svg")) << "replaced whole";
  EXPECT_EQ(lt::slurp(out / "index.html"), rp::html_page("two", ""));

  // An index.html leakreport did not write is someone's page: refused, kept.
  const fs::path site = dir.path() / "site";
  fs::create_directories(site);
  std::ofstream(site / "index.html") << "<!DOCTYPE html><title>my site</title>";
  try {
    rp::write_report(site, {{"index.html", rp::html_page("x", "")}});
    ADD_FAILURE() << "replaced";
  } catch (const rp::output_error& e) {
    EXPECT_NE(std::string(e.what()).find("its index.html was not written by leakreport"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(lt::slurp(site / "index.html"), "<!DOCTYPE html><title>my site</title>");
  fs::remove_all(site);
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) entries += e.exists();
  EXPECT_EQ(entries, 1u) << "no staging folder left";

  // A folder with other files in it is not a report to replace.
  const fs::path mine = dir.path() / "mine";
  fs::create_directories(mine);
  std::ofstream(mine / "notes.txt") << "keep";
  EXPECT_THROW(rp::write_report(mine, {{"index.html", "x"}}), rp::output_error);
  EXPECT_EQ(lt::slurp(mine / "notes.txt"), "keep");
  // Below a file: nothing can be made, nothing is left.
  std::ofstream(dir.path() / "file") << "x";
  EXPECT_THROW(rp::write_report(dir.path() / "file" / "report", {{"index.html", "x"}}),
               rp::output_error);
  std::size_t after = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) after += e.exists();
  EXPECT_EQ(after, 3u) << "report, mine, file";
}
