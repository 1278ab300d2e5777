// leakbench drives real workers through Dramatiq's public API only, and fails a benchmark whose
// attempt did not do its work. The Dramatiq copies here are the commits' own, changed by the
// test the way an upgrade could change them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "tests/bench/leakbench_process.hpp"
#include "tests/dramatiq/real_worker.hpp"
#include "tests/redis/redis_server.hpp"

namespace {

namespace lt = leakbench::test;
namespace fs = std::filesystem;

class public_api : public lt::with_dramatiq {
 protected:
  /// A copy of the commit in `from` (its folder name, for the commit, kept), with `file` under
  /// the package changed from `before` to `after` (every occurrence); fails the test if
  /// `before` is not there.
  std::string changed_copy(const std::string& from, const std::string& name,
                           const std::string& file, const std::string& before,
                           const std::string& after) {
    const fs::path to = dir_.path() / name / fs::path(from).filename();
    fs::create_directories(to.parent_path());
    fs::copy(from, to, fs::copy_options::recursive);
    const fs::path path = to / "dramatiq" / file;
    std::string text = lt::slurp(path);
    EXPECT_NE(text.find(before), std::string::npos) << before << " not in " << path;
    for (auto at = text.find(before); at != std::string::npos;
         at = text.find(before, at + after.size())) {
      text.replace(at, before.size(), after);
    }
    std::ofstream(path, std::ios::trunc) << text;
    return to.string();
  }
  /// leakbench on `variants` (NAME=DIR) through `server`, Single only unless `filter`.
  lt::leakbench_result run(const std::vector<std::string>& variants, const lt::redis_server& server,
                           const std::string& filter = "Single", int retries = 4) {
    std::vector<std::string> args = {"--target=dramatiq",
                                     "--python=/usr/bin/python3",
                                     "--worker_timeout_ms=100",
                                     "--payload=1MiB",
                                     "--retries=" + std::to_string(retries),
                                     "--attempt_timeout=30",
                                     "--broker=" + server.url(),
                                     "--benchmark_filter=" + filter};
    for (const auto& v : variants) args.push_back("--dramatiq=" + v);
    return lt::run_leakbench(args, dir_.path());
  }
  /// The keys left on `server`: Dramatiq's heartbeat of the namespace only.
  static void expect_only_the_heartbeat_left(lt::redis_server& server) {
    auto c = server.connect();
    std::set<std::string> keys;
    for (const auto& k : c.command({"KEYS", "*"}).elements) keys.insert(k.str);
    EXPECT_EQ(keys, std::set<std::string>{"leakbench-dramatiq:__heartbeats__"});
  }
};

/// The error of `name`, after checking it failed.
std::string error_of(const lt::leakbench_result& r, const std::string& name) {
  const auto benches = lt::by_name(r.report);
  if (!benches.contains(name)) return "no benchmark " + name + ": " + r.err;
  EXPECT_TRUE(benches.at(name).value("error_occurred", false)) << benches.at(name).dump();
  return benches.at(name).value("error_message", "");
}

TEST_F(public_api, an_age_limit_that_skips_every_message_fails_the_benchmark_on_both_commits) {
  lt::redis_server server;
  const std::string change_from = "max_age: Optional[int] = None",
                    change_to = "max_age: Optional[int] = -1";
  const auto before = changed_copy(commits_->before, "skip-before", "middleware/age_limit.py",
                                   change_from, change_to);
  const auto after = changed_copy(commits_->after, "skip-after", "middleware/age_limit.py",
                                  change_from, change_to);
  const auto r = run({"leaky=" + before, "fixed=" + after}, server);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  for (const char* name : {"Single/leaky", "Single/fixed"}) {
    EXPECT_NE(
        error_of(r, name).find(
            "retry 1: Dramatiq skipped the message (after_skip_message): the actor never ran"),
        std::string::npos)
        << error_of(r, name);
  }
  expect_only_the_heartbeat_left(server);
}

TEST_F(public_api, decoding_that_drops_kwargs_fails_the_benchmark_naming_the_type_error) {
  lt::redis_server server;
  const auto copy = changed_copy(
      commits_->after, "no-kwargs", "message.py", "fields[\"args\"] = tuple(fields[\"args\"])",
      "fields[\"args\"] = tuple(fields[\"args\"]); fields[\"kwargs\"] = {}");
  const auto r = run({"fixed=" + copy}, server);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto why = error_of(r, "Single/fixed");
  EXPECT_NE(why.find("retry 1: the attempt failed with TypeError, not the Failure that Single "
                     "raises; the worker's stderr: "),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("missing 1 required positional argument: 'payload'"), std::string::npos)
      << why;
  expect_only_the_heartbeat_left(server);
}

TEST_F(public_api, an_actor_that_raises_without_its_payload_fails_the_payload_check) {
  lt::redis_server server;
  const auto copy = changed_copy(
      commits_->after, "no-payload", "worker.py", "res = actor(*message.args, **message.kwargs)",
      "res = actor(*message.args, **{**message.kwargs, \"payload\": 0})");
  const auto r = run({"fixed=" + copy}, server);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto why = error_of(r, "Single/fixed");
  EXPECT_NE(why.find("retry 1: at after_process_message the attempt's payload held 0 B where "
                     "Single holds at least 1 MiB (1 × P)"),
            std::string::npos)
      << why;
  expect_only_the_heartbeat_left(server);
}

TEST_F(public_api, a_renamed_key_inside_dramatiq_is_measured_as_the_commit_itself) {
  // How Dramatiq lays out its keys is its own business: leakbench names none of them.
  lt::redis_server server;
  const auto copy = changed_copy(commits_->after, "renamed", "brokers/redis/dispatch.lua",
                                 "\".msgs\"", "\".messages\"");
  const auto r = run({"fixed=" + commits_->after, "renamed=" + copy}, server,
                     "Single|Nested|LargeResult|DelBeforeRaise", 8);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = lt::by_name(r.report);
  ASSERT_EQ(benches.size(), 8u);
  for (const char* scenario : {"Single", "Nested", "LargeResult", "DelBeforeRaise"}) {
    SCOPED_TRACE(scenario);
    const auto& fixed = benches.at(std::string(scenario) + "/fixed");
    const auto& renamed = benches.at(std::string(scenario) + "/renamed");
    EXPECT_FALSE(renamed.value("error_occurred", false)) << renamed.dump();
    EXPECT_EQ(renamed.at("label"), fixed.at("label"));
    EXPECT_EQ(renamed.at("retries"), 8);
  }
  const lt::temp_dir gate_dir;
  // Inconclusive passes, as for every short real-worker run today (docs/dramatiq.md).
  const auto gate = lt::run_process(
      LEAKGATE_EXE, {(dir_.path() / "out.json").string(), "--inconclusive=pass"}, gate_dir.path());
  EXPECT_EQ(gate.exit_code, 0) << gate.out << gate.err;
  EXPECT_NE(gate.out.find("Single/renamed"), std::string::npos) << gate.out;
  expect_only_the_heartbeat_left(server);
}

}  // namespace
