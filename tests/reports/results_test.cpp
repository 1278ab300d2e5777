// Reading Google Benchmark JSON: the non-finite literals, names, repetitions, and every way a
// file can be unusable, each one clear line.
#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>
#include "reports/results/date.hpp"
#include "reports/results/severity.hpp"
#include "reports/results/units.hpp"

#include "tests/reports/data.hpp"

namespace lr = leakbench::reports;
using leakbench::test::read_data;
using leakbench::test::recorded_run;

namespace {

/// The input_error a parse of `text` throws, or "" if it parses.
std::string error_of(const std::string& text) {
  try {
    lr::parse_run(text, "f.json");
  } catch (const lr::input_error& e) {
    return e.what();
  }
  return "";
}

/// 1-based line and column of byte `at` in `text`.
std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t at) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

TEST(parse_json, reads_every_non_finite_literal_google_benchmark_writes) {
  const auto j = lr::parse_json(
      R"({"a": NaN, "b": -NaN, "c": nan, "d": -nan, "e": Infinity, "f": -Infinity,
          "g": inf, "h": -inf, "i": [NaN, 1], "j": {"k": inf}})",
      "t");
  for (const char* key : {"a", "b", "c", "d"}) EXPECT_TRUE(std::isnan(j.at(key).get<double>()));
  EXPECT_EQ(j.at("e").get<double>(), INFINITY);
  EXPECT_EQ(j.at("f").get<double>(), -INFINITY);
  EXPECT_EQ(j.at("g").get<double>(), INFINITY);
  EXPECT_EQ(j.at("h").get<double>(), -INFINITY);
  EXPECT_TRUE(std::isnan(j.at("i").at(0).get<double>()));
  EXPECT_EQ(j.at("j").at("k").get<double>(), INFINITY);
}

TEST(parse_json, leaves_the_literals_alone_inside_strings) {
  const auto j = lr::parse_json(R"({"name": "NaN \"inf\" Infinity", "x": NaN})", "t");
  EXPECT_EQ(j.at("name"), "NaN \"inf\" Infinity");
  EXPECT_TRUE(std::isnan(j.at("x").get<double>()));
}

TEST(parse_json, a_syntax_error_names_its_line_and_column_in_the_original_text) {
  // The NaN literals before the error are rewritten internally; the position must not shift.
  const std::string text = "{\"a\": NaN, \"b\": -Infinity,\n  \"c\": NaN, \"d\": @}";
  const std::size_t at = text.find('@');
  const auto [line, column] = line_column(text, at);
  try {
    lr::parse_json(text, "f.json");
    FAIL() << "parsed";
  } catch (const lr::input_error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  fmt::format("f.json: not valid JSON at line {}, column {}", line, column)),
              std::string::npos)
        << e.what();
  }
}

TEST(read_run, reads_a_recorded_leakbench_run) {
  const auto r = recorded_run("clean.json");
  EXPECT_EQ(r.keys().size(), 26u) << "the thirteen scenarios, leaky and fixed";
  EXPECT_EQ(r.keys().front(), "Single/leaky");
  EXPECT_EQ(r.context_value("payload"), "1048576");
  EXPECT_EQ(r.context_number("retries"), 12);
  const auto reps = r.repetitions_of("Nested/fixed");
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0]->name, "Nested/fixed/iterations:12/manual_time");
  EXPECT_TRUE(reps[0]->number("rss_per_retry").has_value());
  EXPECT_TRUE(reps[0]->number("rss_ci95").has_value());
  EXPECT_FALSE(reps[0]->number("no_such_counter").has_value());
}

TEST(read_run, json_on_stdout_reads_as_the_out_file_does) {
  const auto r = recorded_run("stdout.json");
  EXPECT_EQ(r.keys(), (std::vector<std::string>{"Single/leaky", "Single/fixed"}));
  EXPECT_EQ(r.context_value("payload"), "262144");
}

TEST(read_run, repetitions_are_measured_rows_and_aggregates_are_set_apart) {
  const auto r = recorded_run("repetitions.json");
  EXPECT_EQ(r.keys(), (std::vector<std::string>{"Single/leaky", "Single/fixed", "Nested/leaky",
                                                "Nested/fixed"}));
  std::size_t aggregates = 0, nan_counters = 0;
  for (const auto& row : r.rows) {
    if (!row.aggregate) continue;
    ++aggregates;
    for (const auto& [k, v] : row.numbers) nan_counters += std::isnan(v);
  }
  EXPECT_EQ(aggregates, 16u) << "mean, median, stddev, cv of four benchmarks";
  EXPECT_EQ(nan_counters, 0u) << "strict JSON: a cv of a zero mean is left out, not NaN";
  for (const auto& key : r.keys()) {
    const auto reps = r.repetitions_of(key);
    ASSERT_EQ(reps.size(), 3u) << key;
    for (std::int64_t i = 0; i < 3; ++i) EXPECT_EQ(reps[i]->repetition_index, i) << key;
  }
}

TEST(read_run, infinite_intervals_read_as_infinity) {
  const auto r = recorded_run("legacy_infinity_intervals.json");  // as an older leakbench wrote
  const auto* row = r.repetitions_of("Single/leaky").at(0);
  EXPECT_EQ(row->number("retries"), 2);
  EXPECT_EQ(row->number("rss_ci95"), INFINITY);
}

TEST(read_run, an_errored_benchmark_keeps_its_message) {
  const auto r = recorded_run("errored.json");
  const auto* row = r.repetitions_of("Nested/leaky").at(0);
  EXPECT_TRUE(row->error_occurred);
  EXPECT_NE(row->error_message.find("memory ceiling"), std::string::npos);
  EXPECT_FALSE(r.repetitions_of("Single/fixed").at(0)->error_occurred);
}

TEST(benchmark_key, drops_google_benchmarks_run_attributes_but_not_threads) {
  EXPECT_EQ(lr::benchmark_key("Nested/fixed/iterations:20/manual_time"), "Nested/fixed");
  EXPECT_EQ(lr::benchmark_key("Nested/fixed"), "Nested/fixed");
  EXPECT_EQ(lr::benchmark_key("BM_x/8/min_time:0.500/repeats:3/real_time/threads:2"),
            "BM_x/8/threads:2");
  EXPECT_EQ(lr::benchmark_key("BM_y/process_time"), "BM_y");
  EXPECT_EQ(lr::benchmark_key("iterations:3"), "iterations:3") << "the function name stays";
}

TEST(read_run, empty_input_is_one_clear_error) {
  EXPECT_EQ(error_of(""), "f.json: the file is empty, expected Google Benchmark JSON");
  EXPECT_EQ(error_of(" \n\t\n"), "f.json: the file is empty, expected Google Benchmark JSON");
}

TEST(read_run, a_truncated_file_says_so_with_where_it_ends) {
  const std::string text = read_data("runs/clean.json");
  for (const double fraction : {0.001, 0.1, 0.33, 0.5, 0.9, 0.999}) {
    const auto cut = static_cast<std::size_t>(static_cast<double>(text.size()) * fraction);
    const std::string e = error_of(text.substr(0, cut));
    EXPECT_TRUE(e.starts_with("f.json: the JSON ends early, at line ")) << cut << ": " << e;
    EXPECT_TRUE(e.ends_with("(truncated?)")) << e;
  }
}

TEST(read_run, malformed_json_names_the_line_and_column) {
  // After the Infinity literals an older leakbench wrote: they are counted as written.
  const std::string original = read_data("runs/legacy_infinity_intervals.json");
  const std::size_t at = original.find("\"rss_r2\"", original.find("Infinity"));
  ASSERT_NE(at, std::string::npos);
  std::string text = original.substr(0, at);
  text += '}';
  text.append(original, at);
  const auto [line, column] = line_column(text, at);
  EXPECT_TRUE(error_of(text).starts_with(
      fmt::format("f.json: not valid JSON at line {}, column {}: ", line, column)))
      << error_of(text);
}

TEST(read_run, json_from_another_tool_is_refused) {
  EXPECT_EQ(error_of(read_data("runs/other_tool.json")),
            "f.json: not Google Benchmark JSON: no \"benchmarks\" array (top-level keys: fileApi, "
            "generators, serverMode, tls, version)");
  EXPECT_EQ(error_of("[1, 2]"),
            "f.json: not Google Benchmark JSON: the top level is an array, expected an object "
            "with \"context\" and \"benchmarks\"");
  EXPECT_EQ(error_of(R"({"benchmarks": 3})").substr(0, 50),
            "f.json: not Google Benchmark JSON: no \"benchmarks\"");
  EXPECT_EQ(error_of(R"({"benchmarks": [{"x": 1}]})"), "f.json: benchmark #1 has no \"name\"");
}

TEST(read_run, a_run_without_results_is_refused) {
  EXPECT_EQ(error_of(R"({"context": {}, "benchmarks": []})"),
            "f.json: holds no benchmark results (did --benchmark_filter match nothing?)");
}

TEST(read_run, a_missing_file_is_one_line) {
  try {
    lr::read_run("/nonexistent/run.json");
    FAIL();
  } catch (const lr::input_error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/run.json: cannot read: No such file or directory");
  }
}

TEST(units, parses_sizes_with_binary_units_and_decimals) {
  EXPECT_EQ(lr::parse_size("64KiB"), 65536u);
  EXPECT_EQ(lr::parse_size("1.5 MiB"), 1572864u);
  EXPECT_EQ(lr::parse_size("1.5MiB"), 1572864u);
  EXPECT_EQ(lr::parse_size("1 MiB"), 1048576u);
  EXPECT_EQ(lr::parse_size("512"), 512u);
  EXPECT_EQ(lr::parse_size("512B"), 512u);
  EXPECT_EQ(lr::parse_size("0B"), 0u);
  EXPECT_EQ(lr::parse_size("0.5KiB"), 512u);
  EXPECT_EQ(lr::parse_size(".25KiB"), 256u);
  EXPECT_EQ(lr::parse_size("2GiB"), 2ull << 30);
  EXPECT_EQ(lr::parse_size("3TiB"), 3ull << 40);
  EXPECT_EQ(lr::parse_size("18446744073709551615"), 18446744073709551615ull);
}

TEST(units, refuses_every_other_size_with_a_one_line_reason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "'' is not a size: expected e.g. 64KiB or 1.5 MiB (B, KiB, MiB, GiB, TiB)"},
      {"KiB", "'KiB' is not a size: expected e.g. 64KiB or 1.5 MiB (B, KiB, MiB, GiB, TiB)"},
      {"64KB", "'64KB' has an unknown unit 'KB': use B, KiB, MiB, GiB or TiB (1024-based)"},
      {"64 kib", "'64 kib' has an unknown unit 'kib': use B, KiB, MiB, GiB or TiB (1024-based)"},
      {"1  MiB", "'1  MiB' has an unknown unit ' MiB': use B, KiB, MiB, GiB or TiB (1024-based)"},
      {"1e3", "'1e3' has an unknown unit 'e3': use B, KiB, MiB, GiB or TiB (1024-based)"},
      {"0.3KiB", "'0.3KiB' is not a whole number of bytes (307.2 B)"},
      {"1.5", "'1.5' is not a whole number of bytes (1.5 B)"},
      {"-1KiB", "'-1KiB' is not a size: a size has no sign"},
      {"+1KiB", "'+1KiB' is not a size: a size has no sign"},
      {"18446744073709551616", "'18446744073709551616' is too large: sizes stop at 2^64 - 1 bytes"},
      {"16777216TiB", "'16777216TiB' is too large: sizes stop at 2^64 - 1 bytes"},
      {"99999999999999999999999KiB",
       "'99999999999999999999999KiB' is too large: sizes stop at 2^64 - 1 bytes"},
      {"1.0000000000000001KiB", "'1.0000000000000001KiB' has too many decimals (at most 15)"},
  };
  ASSERT_EQ(cases.size(), 14u);
  for (const auto& [text, says] : cases) {
    try {
      lr::parse_size(text);
      ADD_FAILURE() << text << " parsed";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), says);
    }
  }
}

TEST(units, a_unit_is_chosen_for_the_range_it_shows) {
  EXPECT_EQ(lr::unit_for(0).name, "B");
  EXPECT_EQ(lr::unit_for(1023).name, "B");
  EXPECT_EQ(lr::unit_for(4.1 * 1024).name, "KiB");
  EXPECT_EQ(lr::unit_for(-4 * 1048576.0).name, "MiB");
  EXPECT_EQ(lr::unit_for(4 * 1048576.0).bytes, 1048576.0);
}

TEST(units, formats_bytes_with_four_significant_digits) {
  EXPECT_EQ(lr::format_bytes(512), "512 B");
  EXPECT_EQ(lr::format_bytes(-0.3), "0 B");
  EXPECT_EQ(lr::format_bytes(16384), "16 KiB");
  EXPECT_EQ(lr::format_bytes(943718.4), "921.6 KiB");
  EXPECT_EQ(lr::format_bytes(1054867), "1.006 MiB");
  EXPECT_EQ(lr::format_bytes(-65536), "-64 KiB");
  EXPECT_EQ(lr::format_number(12), "12");
  EXPECT_EQ(lr::format_number(0.99512), "0.995");
  EXPECT_EQ(lr::format_number(NAN), "nan");
}

TEST(parse_date, reads_google_benchmarks_dates_at_the_moment_they_name) {
  EXPECT_EQ(lr::parse_date("1970-01-01T00:00:00+00:00"), 0);
  EXPECT_EQ(lr::parse_date("2026-12-02T02:03:23+00:00"), 1796177003);
  EXPECT_EQ(lr::parse_date("2026-12-02T02:03:23Z"), 1796177003);
  // One moment in three zones.
  EXPECT_EQ(lr::parse_date("2026-12-02T07:03:23+05:00"), 1796177003);
  EXPECT_EQ(lr::parse_date("2026-12-01T23:33:23-02:30"), 1796177003);
  for (const char* bad : {"", "2026-12-02", "2026-12-02T02:03:23", "2026-13-02T02:03:23+00:00",
                          "2026-02-30T02:03:23+00:00", "2026-12-02T02:03:23+0000",
                          "2026-12-02 02:03:23+00:00", "2026-12-02T02:03:-3+00:00"}) {
    EXPECT_FALSE(lr::parse_date(bad)) << bad;
  }
}

TEST(severity, none_only_where_the_growth_cannot_be_told_from_nothing) {
  const double p = 1 << 20;
  EXPECT_EQ(lr::classify(2048, 0, p), lr::severity::none) << "below one page";
  EXPECT_EQ(lr::classify(8192, 0, p), lr::severity::low);
  EXPECT_EQ(lr::classify(0.02 * p, 0.03 * p, p), lr::severity::none) << "interval holds 0";
  EXPECT_EQ(lr::classify(32 * 1024, 300, 4 * p), lr::severity::low)
      << "32 KiB per retry at 4 MiB: the leak leakgate fails";
  EXPECT_EQ(lr::classify(0.5 * p, 0, p), lr::severity::critical);
  EXPECT_EQ(lr::classify(2 * p, 0, p), lr::severity::catastrophic);
  EXPECT_EQ(lr::classify(p, 0, 0), lr::severity::unknown);
  EXPECT_EQ(lr::classify(NAN, 0, p), lr::severity::unknown);
  // What a budget fails is never none.
  EXPECT_EQ(lr::classify(512, 300, p, true), lr::severity::low);
  EXPECT_EQ(lr::classify(0.5 * p, 0, p, true), lr::severity::critical);
  EXPECT_STREQ(lr::to_string(lr::severity::unknown), "n/a");
}
