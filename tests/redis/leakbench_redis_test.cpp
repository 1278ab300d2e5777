// leakbench with --broker=redis://... against a redis-server of the test's own.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <future>
#include <thread>

#include "harness/measure/sanitizer.hpp"
#include "tests/bench/leakbench_process.hpp"
#include "tests/redis/broker_fixture.hpp"
#include "tests/redis/redis_server.hpp"

namespace lt = leakbench::test;
using namespace std::chrono_literals;

namespace {

constexpr double k_payload = 2 << 20;

/// leakbench running Concurrent/fixed at 64 KiB on `server` for `retries` rounds.
lt::leakbench_process concurrent_run(const lt::redis_server& server, const lt::temp_dir& dir,
                                     int retries) {
  return lt::leakbench_process(
      {"--payload=64KiB", fmt::format("--retries={}", retries),
       "--benchmark_filter=Concurrent/fixed", fmt::format("--broker={}", server.url())},
      dir.path());
}

/// Waits until a key matching `pattern` exists. The default, the in-flight registry a consumer
/// writes, means a benchmark is mid-run (start-up's connection probe writes a heartbeat only).
void wait_for_keys(const lt::redis_server& server,
                   const std::string& pattern = "leakbench:*:inflight") {
  auto c = server.connect();
  while (c.command({"KEYS", pattern}).elements.empty()) std::this_thread::sleep_for(5ms);
}

}  // namespace

TEST(leakbench_redis, reports_the_same_growth_as_the_memory_broker) {
  lt::redis_server server;
  lt::temp_dir dir;
  const std::vector<std::string> common = {"--payload=2MiB", "--retries=10"};
  auto with = [&](const std::string& broker) {
    auto args = common;
    args.push_back(fmt::format("--broker={}", broker));
    auto r = lt::run_leakbench(args, dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  };
  const auto memory = with("memory");
  const auto redis = with(server.url());
  ASSERT_FALSE(memory.report.is_null());
  ASSERT_FALSE(redis.report.is_null());
  EXPECT_EQ(redis.report.at("context").at("broker"), fmt::format("{}/0", server.url()));
  const auto m = lt::by_name(memory.report), r = lt::by_name(redis.report);
  ASSERT_EQ(m.size(), 26u);
  ASSERT_EQ(r.size(), 26u);
  for (const auto& [name, a] : m) {
    const auto& b = r.at(name);
    EXPECT_FALSE(b.value("error_occurred", false)) << name << ": " << b.value("error_message", "");
    // The heap counter is exact: only the brokers' own bookkeeping may differ, by bytes.
    EXPECT_NEAR(a.at("heap_per_retry"), b.at("heap_per_retry"), 0.001 * k_payload) << name;
    EXPECT_EQ(a.at("label"), b.at("label")) << name << ": the same paths hold the same data";
    if (!leakbench::measure::k_sanitized_malloc) {
      const double noise =
          a.at("rss_ci95").get<double>() + b.at("rss_ci95").get<double>() + 0.01 * k_payload;
      EXPECT_NEAR(a.at("rss_per_retry"), b.at("rss_per_retry"), noise) << name;
    }
  }
  auto c = server.connect();
  EXPECT_EQ(c.command({"DBSIZE"}).integer, 0) << "leakbench left keys behind";
}

TEST(leakbench_redis, runs_and_cleans_up_through_a_unix_socket) {
  lt::redis_server server;
  lt::temp_dir dir;
  const auto r =
      lt::run_leakbench({"--payload=64KiB", "--retries=3", "--benchmark_filter=Single/fixed",
                         "--broker=" + server.unix_url("", 2)},
                        dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.report.is_null()) << r.err;
  EXPECT_EQ(r.report.at("context").at("broker"), server.unix_url("", 2));
  EXPECT_FALSE(r.report.at("benchmarks").at(0).value("error_occurred", false));
  auto c = server.connect();
  c.command({"SELECT", "2"});
  c.command({"ZADD", "leakbench:00000000000000ee:heartbeats", "0", "dead"});
  const auto cleanup =
      lt::run_process(LEAKBENCH_EXE, {"--redis_cleanup=" + server.unix_url("", 2)}, dir.path());
  EXPECT_EQ(cleanup.exit_code, 0) << cleanup.err;
  EXPECT_NE(cleanup.out.find("removed leakbench:00000000000000ee: 1 keys"), std::string::npos)
      << cleanup.out;
  EXPECT_EQ(c.command({"DBSIZE"}).integer, 0);
}

TEST(leakbench_redis, unreachable_server_is_one_line_and_exit_code_3) {
  int port = 0;
  {
    lt::redis_server server;
    port = server.port();
  }
  lt::temp_dir dir;
  const auto r =
      lt::run_leakbench({fmt::format("--broker=redis://127.0.0.1:{}", port)}, dir.path());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(": unreachable (cannot connect"), std::string::npos) << r.err;
  EXPECT_TRUE(r.report.is_null()) << "nothing may run";
}

TEST(leakbench_redis, exit_code_3_names_why_the_broker_cannot_be_used) {
  lt::redis_server locked({"--requirepass", "s3cret"});
  lt::redis_server full;
  lt::fill_to_maxmemory(full);
  const lt::closing_listener killing;
  lt::temp_dir dir;
  const std::pair<std::string, std::string> cases[] = {
      {locked.url("wrong-pass"),
       fmt::format("leakbench: redis://:***@127.0.0.1:{}/0: authentication refused (WRONGPASS "
                   "invalid username-password pair or user is disabled.)\n",
                   locked.port())},
      {full.url(), fmt::format("leakbench: {}/0: out of memory (OOM command not allowed when "
                               "used memory > 'maxmemory'.",
                               full.url())},
      {killing.url(), fmt::format("leakbench: {}/0: killed connection (PING ", killing.url())},
  };
  for (const auto& [url, line] : cases) {
    const auto r = lt::run_leakbench({"--broker=" + url}, dir.path());
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_TRUE(r.err.starts_with(line)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.find("wrong-pass"), std::string::npos) << r.err;
    EXPECT_TRUE(r.report.is_null()) << "nothing may run";
  }
  EXPECT_EQ(full.connect().command({"DBSIZE"}).integer, 1) << "only the filler is left";
}

TEST(leakbench_redis, a_set_up_that_fails_part_way_leaves_no_keys) {
  // The probe's recovery fails (ZRANGEBYSCORE) after its heartbeat was written.
  lt::redis_server server({"--rename-command", "ZRANGEBYSCORE", ""});
  lt::temp_dir dir;
  const auto r = lt::run_leakbench({"--broker=" + server.url()}, dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(server.connect().command({"DBSIZE"}).integer, 0) << "set-up left its keys";
}

TEST(leakbench_redis, server_death_mid_run_ends_the_benchmark_with_an_error) {
  lt::redis_server server;
  lt::temp_dir dir;
  // About 20 s of work if nothing went wrong: the server dies long before the end.
  auto run = concurrent_run(server, dir, 1000);
  wait_for_keys(server);
  std::this_thread::sleep_for(100ms);
  server.stop();
  const auto r = run.wait();  // a hang here shows as the test's timeout
  EXPECT_EQ(r.exit_code, 1) << r.err;
  ASSERT_FALSE(r.report.is_null()) << r.err;
  const auto& b = r.report.at("benchmarks").at(0);
  EXPECT_TRUE(b.value("error_occurred", false));
  EXPECT_NE(b.value("error_message", "").find("broker failed"), std::string::npos) << b.dump();
  // Its keys could not be removed: the one line names the prefix and how to remove it later.
  EXPECT_NE(r.err.find("leakbench: redis: left the keys of leakbench:"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("--redis_cleanup=" + server.url() + "/0"), std::string::npos) << r.err;
}

TEST(leakbench_redis, a_connection_killed_under_the_start_up_probe_does_not_fail_the_run) {
  lt::redis_server server;
  lt::temp_dir dir;
  auto admin = server.connect();
  admin.command({"CLIENT", "PAUSE", "60000", "WRITE"});
  auto run = lt::leakbench_process({"--payload=64KiB", "--retries=3",
                                    "--benchmark_filter=Single/fixed", "--broker=" + server.url()},
                                   dir.path());
  // The probe's first write (its heartbeat) is held, and its connection killed under it.
  EXPECT_EQ(lt::kill_clients_held_in_a_write(admin), 1);
  const auto r = run.wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.report.is_null()) << r.err;
  EXPECT_EQ(r.report.at("benchmarks").size(), 1u);
  EXPECT_EQ(admin.command({"DBSIZE"}).integer, 0) << "leakbench left keys behind";
}

namespace {

/// Runs Concurrent/fixed on `server` and, once its keys exist, does `fault` from outside.
template <class Fault>
lt::leakbench_result run_with_fault(lt::redis_server& server, const lt::temp_dir& dir,
                                    Fault fault) {
  auto run = concurrent_run(server, dir, 150);
  wait_for_keys(server);
  std::this_thread::sleep_for(300ms);
  fault();
  return run.wait();
}

}  // namespace

TEST(leakbench_redis, connections_killed_mid_run_recover_or_fail_with_the_cause_never_hang) {
  lt::redis_server server;
  lt::temp_dir dir;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_with_fault(server, dir, [&] {
    auto admin = server.connect();
    EXPECT_GE(admin.command({"CLIENT", "KILL", "TYPE", "normal"}).integer, 1);
  });
  // A hang waits out 120 s per round; this run takes a few seconds either way.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
  ASSERT_FALSE(r.report.is_null()) << r.err;
  const auto& b = r.report.at("benchmarks").at(0);
  if (b.value("error_occurred", false)) {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(b.value("error_message", "").find("broker failed: "), std::string::npos) << b.dump();
  } else {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(b.at("retries"), 150) << "recovered: every retry ran";
  }
  auto c = server.connect();
  EXPECT_EQ(c.command({"DBSIZE"}).integer, 0) << "leakbench left keys behind";
}

TEST(leakbench_redis, a_server_stalled_past_the_io_timeout_fails_the_run_and_leaves_no_keys) {
  lt::redis_server server({"--enable-debug-command", "local"});
  lt::temp_dir dir;
  std::future<void> stall;
  const auto r = run_with_fault(server, dir, [&] {
    stall = std::async(std::launch::async, [&] {
      auto admin = server.connect();
      admin.blocking_command({"DEBUG", "SLEEP", "5"}, 10000ms);
    });
  });
  stall.get();
  ASSERT_FALSE(r.report.is_null()) << r.err;
  const auto& b = r.report.at("benchmarks").at(0);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(b.value("error_message", "").find("Resource temporarily unavailable"),
            std::string::npos)
      << "the I/O timeout, not the server's wake-up, ended it: " << b.dump();
  EXPECT_EQ(r.err.find("left the keys"), std::string::npos) << r.err;
  auto c = server.connect();
  EXPECT_EQ(c.command({"DBSIZE"}).integer, 0) << "closing retried until the server answered";
}

TEST(leakbench_redis, sigterm_mid_run_removes_the_keys_and_completes_the_json) {
  lt::redis_server server;
  lt::temp_dir dir;
  auto run = concurrent_run(server, dir, 100000);
  wait_for_keys(server);
  run.signal(SIGTERM);
  const auto r = run.wait();
  EXPECT_EQ(r.exit_code, 143) << r.err;
  ASSERT_FALSE(r.report.is_null()) << "the JSON was cut off: " << r.err;
  const auto& b = r.report.at("benchmarks").at(0);
  EXPECT_NE(b.value("error_message", "").find("interrupted by SIGTERM after"), std::string::npos)
      << b.dump();
  EXPECT_EQ(server.connect().command({"DBSIZE"}).integer, 0)
      << "the interrupted benchmark left its keys";
}

TEST(leakbench_redis, redis_cleanup_removes_what_a_killed_run_left_and_keeps_live_runs) {
  lt::redis_server server;
  lt::temp_dir dir;
  {
    auto run = concurrent_run(server, dir, 100000);
    wait_for_keys(server, "leakbench:*:inflight:*");
    run.signal(SIGKILL);  // nothing runs after this: its keys stay
    run.wait();
  }
  auto c = server.connect();
  const auto left = c.command({"KEYS", "leakbench:*:heartbeats"}).elements;
  ASSERT_EQ(left.size(), 1u);
  const std::string dead =
      left[0].str.substr(0, left[0].str.size() - std::string(":heartbeats").size());
  // Its heartbeats as they will be a minute later; and a live run of someone else's.
  const long long now_ms = std::stoll(c.command({"TIME"}).elements.at(0).str) * 1000;
  for (const auto& w : c.command({"ZRANGE", dead + ":heartbeats", "0", "-1"}).elements) {
    c.command({"ZADD", dead + ":heartbeats", std::to_string(now_ms - 60000), w.str});
  }
  const std::string live = "leakbench:00000000000000aa";
  c.command({"ZADD", live + ":heartbeats", std::to_string(now_ms), "someone"});
  c.command({"RPUSH", live + ":queue:default", "{}"});
  c.command({"SET", "not_leakbench", "1"});

  const auto r = lt::run_process(LEAKBENCH_EXE, {"--redis_cleanup=" + server.url()}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("removed " + dead + ": "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kept (alive) " + live + ": 2 keys"), std::string::npos) << r.out;
  EXPECT_TRUE(c.command({"KEYS", dead + ":*"}).elements.empty());
  EXPECT_EQ(c.command({"KEYS", live + ":*"}).elements.size(), 2u);
  EXPECT_EQ(c.command({"EXISTS", "not_leakbench"}).integer, 1);

  const auto unreachable =
      lt::run_process(LEAKBENCH_EXE, {"--redis_cleanup=redis://127.0.0.1:1"}, dir.path());
  EXPECT_EQ(unreachable.exit_code, 3);
  EXPECT_NE(unreachable.err.find("cannot connect"), std::string::npos) << unreachable.err;
}
