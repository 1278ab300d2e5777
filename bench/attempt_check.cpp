#include "bench/attempt_check.hpp"

#include <fmt/format.h>

#include "reports/results/units.hpp"

namespace leakbench::bench {

std::string attempt_failure(const attempt_expectation& expected, const nlohmann::json& event,
                            std::int64_t payload) {
  const std::string& scenario = expected.scenario;
  const std::string outcome = event.value("outcome", "");
  const std::string raised = event.value("exception", "");
  if (outcome == "skipped") {
    return "Dramatiq skipped the message (after_skip_message): the actor never ran";
  }
  if (outcome == "unprocessed") {
    return "Dramatiq settled the message without processing or skipping it";
  }
  if (outcome != "failed" && outcome != "succeeded") {
    return fmt::format("the worker reported an outcome leakbench does not know: {}", event.dump());
  }
  if (event.contains("check_error")) {
    return fmt::format("the worker could not check the attempt: {}",
                       event.value("check_error", ""));
  }
  if (expected.fails && outcome == "succeeded") {
    return fmt::format("the actor returned ({}) where {} raises {}", event.value("result", "?"),
                       scenario, expected.exception);
  }
  if (!expected.fails && outcome == "failed") {
    return fmt::format("the actor raised {} where {} succeeds", raised, scenario);
  }
  if (expected.fails && raised != expected.exception) {
    return fmt::format("the attempt failed with {}, not the {} that {} raises", raised,
                       expected.exception, scenario);
  }
  if (expected.fails && !event.value("raised_by_actor", false)) {
    return fmt::format("{} did not come from {}'s actor (none of its frames is on the traceback)",
                       raised, scenario);
  }
  if (expected.fails && !event.value("own_message", false)) {
    return fmt::format(
        "{} did not come from this message's attempt (its actor's frames did not "
        "receive this message's token)",
        raised);
  }
  const std::int64_t held = event.value("held_bytes", std::int64_t{-1});
  const std::int64_t needed = expected.held_bytes(payload);
  if (held < needed) {
    const std::string share = expected.held_den == 1
                                  ? fmt::format("{} × P", expected.held_num)
                                  : fmt::format("{}/{} × P", expected.held_num, expected.held_den);
    return fmt::format(
        "at after_process_message the attempt's payload held {} where {} holds at least {} ({})",
        held < 0 ? "nothing it could count" : reports::format_bytes(static_cast<double>(held)),
        scenario, reports::format_bytes(static_cast<double>(needed)), share);
  }
  return "";
}

}  // namespace leakbench::bench
