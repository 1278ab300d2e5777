// What a real worker's attempt must do: the shipped table (docs/attempts.md) and the check of
// each `attempt` event against it.
#include "bench/attempt_check.hpp"

#include <gtest/gtest.h>

#include <set>

#include "scenarios/scenario.hpp"

namespace {

namespace lb = leakbench::bench;
using json = nlohmann::json;
constexpr std::int64_t k_p = 4 << 20;

TEST(attempt_table, has_one_row_for_every_registered_scenario_and_no_other) {
  std::set<std::string> registered, rows;
  for (const auto& e : leakbench::scenarios::all()) registered.insert(e.name);
  for (const auto& row : lb::attempt_table()) {
    EXPECT_TRUE(rows.insert(row.scenario).second) << "twice: " << row.scenario;
  }
  ASSERT_EQ(registered.size(), 13u);
  EXPECT_EQ(rows, registered);
}

TEST(attempt_table, reads_outcome_exception_and_held_share) {
  const auto* single = lb::find_attempt("Single");
  ASSERT_NE(single, nullptr);
  EXPECT_TRUE(single->fails);
  EXPECT_EQ(single->exception, "Failure");
  EXPECT_EQ(single->held_bytes(k_p), k_p);
  const auto* concurrent = lb::find_attempt("Concurrent");
  ASSERT_NE(concurrent, nullptr);
  EXPECT_EQ(concurrent->held_bytes(k_p), k_p / 2);
  const auto* large = lb::find_attempt("LargeResult");
  ASSERT_NE(large, nullptr);
  EXPECT_FALSE(large->fails);
  EXPECT_EQ(large->exception, "");
  EXPECT_EQ(lb::find_attempt("NoSuchScenario"), nullptr);
}

TEST(attempt_table, refuses_a_bad_row_in_one_line) {
  const auto parse = [](const std::string& row) {
    return lb::parse_attempt_table(
        "<!-- attempts:begin -->\n| s | o | e | h |\n|---|---|---|---|\n" + row +
        "\n<!-- attempts:end -->");
  };
  EXPECT_EQ(parse("| X | fails | E | 3/4 |").at(0).held_bytes(4), 3);
  for (const char* bad :
       {"| X | maybe | E | 1 |", "| X | fails | - | 1 |", "| X | succeeds | E | 1 |",
        "| X | fails | E | x |", "| X | fails | E | 1/0 |", "| X | fails | E |"}) {
    try {
      parse(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(lb::parse_attempt_table("no markers"), std::invalid_argument);
}

json failed(const std::string& exception, std::int64_t held) {
  return {{"event", "attempt"}, {"outcome", "failed"},     {"exception", exception},
          {"held_bytes", held}, {"raised_by_actor", true}, {"own_message", true},
          {"settled", "nack"}};
}

TEST(attempt_check, passes_the_attempt_the_table_describes) {
  EXPECT_EQ(lb::attempt_failure(*lb::find_attempt("Single"), failed("Failure", k_p), k_p), "");
  EXPECT_EQ(lb::attempt_failure(*lb::find_attempt("DelBeforeRaise"), failed("Failure", 0), k_p),
            "");
  const json ok = {{"outcome", "succeeded"}, {"result", "Payload"}, {"held_bytes", k_p}};
  EXPECT_EQ(lb::attempt_failure(*lb::find_attempt("LargeResult"), ok, k_p), "");
}

TEST(attempt_check, names_each_way_an_attempt_can_miss_its_work) {
  const auto& single = *lb::find_attempt("Single");
  const auto why = [&](const json& event) { return lb::attempt_failure(single, event, k_p); };
  EXPECT_EQ(why({{"outcome", "skipped"}}),
            "Dramatiq skipped the message (after_skip_message): the actor never ran");
  EXPECT_EQ(why(failed("TypeError", 0)),
            "the attempt failed with TypeError, not the Failure that Single raises");
  EXPECT_EQ(why({{"outcome", "succeeded"}, {"result", "NoneType"}}),
            "the actor returned (NoneType) where Single raises Failure");
  EXPECT_EQ(why(failed("Failure", 0)),
            "at after_process_message the attempt's payload held 0 B where Single holds at least "
            "4 MiB (1 × P)");
  auto foreign = failed("Failure", k_p);
  foreign["raised_by_actor"] = false;
  EXPECT_NE(why(foreign).find("did not come from Single's actor"), std::string::npos);
  auto stale = failed("Failure", k_p);
  stale["own_message"] = false;
  EXPECT_NE(why(stale).find("did not come from this message's attempt"), std::string::npos);
  EXPECT_EQ(lb::attempt_failure(*lb::find_attempt("LargeResult"), failed("ValueError", k_p), k_p),
            "the actor raised ValueError where LargeResult succeeds");
  EXPECT_NE(why({{"outcome", "unprocessed"}}).find("without processing"), std::string::npos);
  EXPECT_NE(why({{"outcome", "failed"}, {"check_error", "KeyError: x"}}).find("KeyError: x"),
            std::string::npos);
}

}  // namespace
