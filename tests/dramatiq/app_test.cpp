// A team's own Dramatiq app under leakbench (--app): the tests' app in tests/dramatiq/apps/, one
// checkout whose middleware keeps every failed exception and one with the fix, on a Redis of the
// tests' own. Each test skips, saying why, where Dramatiq's archives, redis or redis-server lack.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <set>
#include <thread>

#include "tests/bench/leakbench_process.hpp"
#include "tests/dramatiq/real_worker.hpp"
#include "tests/redis/redis_server.hpp"

namespace {

namespace lt = leakbench::test;
constexpr double k_mib = 1 << 20;
const std::string k_apps = LEAKBENCH_TEST_APPS;

class own_app : public lt::with_dramatiq {
 protected:
  void SetUp() override {
    with_dramatiq::SetUp();
    if (IsSkipped()) return;
    server_.emplace();
  }
  /// leakbench --app on the tests' app, its broker on this test's redis-server (or `url`).
  lt::leakbench_result run(std::vector<std::string> args, const std::string& url = "",
                           const std::string& more_path = "") {
    // Dramatiq as a team installs it: on the interpreter's path, after each variant's paths.
    args.insert(args.begin(),
                {"--target=dramatiq", "--python=/usr/bin/python3", "--worker_timeout_ms=100"});
    return lt::run_leakbench(args, dir_.path(),
                             {"SHOP_BROKER_URL=" + (url.empty() ? server_->url() : url),
                              "PYTHONPATH=" + commits_->after + more_path});
  }
  /// How many keys name `queue`, but for Dramatiq's record of a killed worker's unacked
  /// message (`__acks__.<worker>.<queue>`): Dramatiq's own, which its maintenance requeues once
  /// that worker's heartbeat is older than the timeout, and which no public API removes.
  std::size_t left(const std::string& queue) {
    std::size_t n = 0;
    for (const auto& k : keys()) {
      n += k.find(queue) != std::string::npos && k.find(":__acks__.") == std::string::npos;
    }
    return n;
  }
  std::set<std::string> keys() {
    auto c = server_->connect();
    std::set<std::string> out;
    for (const auto& k : c.command({"KEYS", "*"}).elements) out.insert(k.str);
    return out;
  }
  std::optional<lt::redis_server> server_;
};

TEST_F(own_app, a_middleware_that_keeps_exceptions_fails_the_gate_and_its_fix_passes) {
  const auto r = run({"--app=shop.tasks", "--variant=keeping=" + k_apps + "/keeping",
                      "--variant=fixed=" + k_apps + "/fixed", "--payload=1MiB", "--retries=8",
                      "--message=render_invoice:[17, 1048576]",
                      "--message=fetch_catalog:{\"args\": [1048576]}", "--message=ping",
                      "--benchmark_filter=^(Single|render_invoice|fetch_catalog|ping)/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = lt::by_name(r.report);
  ASSERT_EQ(benches.size(), 8u) << r.err;
  const auto& ctx = r.report.at("context");
  EXPECT_EQ(ctx.at("app"), "shop.tasks");
  EXPECT_EQ(ctx.at("dramatiq.keeping.app_file"), k_apps + "/keeping/shop/tasks.py");
  EXPECT_EQ(ctx.at("dramatiq.fixed.broker_class"), "dramatiq.brokers.redis.RedisBroker");
  EXPECT_EQ(ctx.at("dramatiq.fixed.asyncio_added"), "yes");
  EXPECT_EQ(ctx.at("message.render_invoice"),
            "render_invoice {\"args\":[17,1048576],\"kwargs\":{}}");
  for (const char* name : {"Single", "render_invoice", "fetch_catalog"}) {
    SCOPED_TRACE(name);
    const auto& keeping = benches.at(std::string(name) + "/keeping");
    const auto& fixed = benches.at(std::string(name) + "/fixed");
    EXPECT_EQ(keeping.at("expected_per_retry"), 0) << "an app is expected to retain nothing";
    EXPECT_NEAR(keeping.at("rss_per_retry").get<double>(), k_mib, 0.03 * k_mib);
    EXPECT_LT(fixed.at("rss_per_retry").get<double>(), 64 * 1024);
    EXPECT_EQ(keeping.at("attempts_failed"), 8);
    EXPECT_EQ(fixed.at("attempts_failed"), 8);
  }
  const auto& ping = benches.at("ping/fixed");
  EXPECT_EQ(ping.at("attempts_succeeded"), 8);
  EXPECT_EQ(ping.at("attempts_failed"), 0);
  EXPECT_EQ(ping.at("app_enqueued"), 8) << "each ping sends an audit message of the app's";
  // The gate fails the keeping checkout on every failing benchmark, and passes the fix.
  const lt::temp_dir gate_dir;
  const auto gate = lt::run_process(
      LEAKGATE_EXE, {(dir_.path() / "out.json").string(), "--inconclusive=pass"}, gate_dir.path());
  EXPECT_EQ(gate.exit_code, 1) << gate.out;
  for (const char* failing :
       {"Single/keeping ", "render_invoice/keeping ", "fetch_catalog/keeping "}) {
    EXPECT_NE(gate.out.find(std::string(failing)), std::string::npos) << gate.out;
  }
  std::istringstream rows(gate.out);
  std::size_t fails = 0;
  for (std::string row; std::getline(rows, row);) {
    if (row.find(" FAIL ") == std::string::npos) continue;
    ++fails;
    EXPECT_NE(row.find("/keeping "), std::string::npos) << row;
  }
  EXPECT_GE(fails, 3u) << gate.out;
  // leakbench's queues are gone; the app's own audit messages are where the app sent them.
  for (const auto& k : keys()) EXPECT_EQ(k.find("leakbench"), std::string::npos) << k;
  EXPECT_TRUE(keys().contains("dramatiq:audit")) << "the app's own queue";
}

TEST_F(own_app, a_message_already_waiting_on_the_apps_queue_is_still_there_after_the_run) {
  auto c = server_->connect();
  c.command({"RPUSH", "dramatiq:invoices", "waiting-id"});
  c.command({"HSET", "dramatiq:invoices.msgs", "waiting-id", "{}"});
  const auto r = run({"--app=shop.tasks", "--variant=fixed=" + k_apps + "/fixed", "--payload=64KiB",
                      "--retries=4", "--message=render_invoice:[1, 65536]",
                      "--benchmark_filter=^render_invoice/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(c.command({"LRANGE", "dramatiq:invoices", "0", "-1"}).elements.size(), 1u);
  EXPECT_EQ(c.command({"HGET", "dramatiq:invoices.msgs", "waiting-id"}).str, "{}");
}

TEST_F(own_app, bad_messages_and_apps_get_one_line_and_their_exit_code) {
  const std::string fixed = "--variant=fixed=" + k_apps + "/fixed";
  struct bad_case {
    std::vector<std::string> args;
    int exit_code;
    std::string says;
    std::string url = "";
    std::string more_path = "";
  };
  const std::vector<bad_case> cases = {
      {{"--app=shop.tasks", fixed, "--message=render_pdf"},
       2,
       "declares no actor 'render_pdf'; it declares: audit, fetch_catalog, ping, render_invoice"},
      {{"--app=shop.tasks", fixed, "--message=render_invoice:"}, 2, "followed by no JSON"},
      {{"--app=shop.tasks", fixed, "--message=render_invoice:[17,"}, 2, "are not JSON"},
      {{"--app=shop.broken", fixed},
       4,
       "cannot import the app shop.broken: ModuleNotFoundError: No module named "
       "'shop.no_such_module'"},
      {{"--app=shop.stub", fixed},
       4,
       "the app's broker is a dramatiq.brokers.stub.StubBroker: leakbench drives Dramatiq's "
       "RedisBroker and RabbitmqBroker only"},
      // The app imports, but from the user's PYTHONPATH, not from the variant's checkout.
      {{"--app=shop.tasks", "--variant=elsewhere=" + dir_.path().string()},
       4,
       "the app shop.tasks was imported from " + k_apps +
           "/fixed/shop/tasks.py, not from under "
           "its variant's paths " +
           dir_.path().string(),
       "",
       ":" + k_apps + "/fixed"},
      {{"--app=shop.tasks", fixed},
       3,
       "cannot reach the broker at redis://user:***@127.0.0.1:1/0",
       "redis://user:secret@127.0.0.1:1/0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.says);
    auto args = c.args;
    args.push_back("--benchmark_filter=^Single/");
    const auto r = run(args, c.url, c.more_path);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
    EXPECT_EQ(r.err.find("secret"), std::string::npos) << "a password never reaches a log";
  }
}

TEST_F(own_app, a_queue_a_killed_run_left_is_flushed_by_the_next_run_on_that_broker) {
  const std::vector<std::string> args = {"--target=dramatiq",
                                         "--python=/usr/bin/python3",
                                         "--worker_timeout_ms=100",
                                         "--app=shop.tasks",
                                         "--variant=fixed=" + k_apps + "/fixed",
                                         "--payload=64KiB",
                                         "--benchmark_filter=^Single/"};
  const std::vector<std::string> env = {"SHOP_BROKER_URL=" + server_->url(),
                                        "PYTHONPATH=" + commits_->after};
  const auto records = dir_.path() / "state" / "leakbench" / "queues";
  std::string queue;
  {
    auto long_run = args;
    long_run.push_back("--retries=100000");
    lt::leakbench_process p(long_run, dir_.path(), env);
    for (int i = 0; i < 3000 && queue.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::error_code ec;
      for (const auto& e : std::filesystem::directory_iterator(records, ec)) {
        queue = e.path().stem().string();
      }
    }
    ASSERT_FALSE(queue.empty()) << "no queue record: " << p.errors();
    // Killed once its queue holds something (the dead letters of its first attempts).
    for (int i = 0; i < 3000 && left(queue) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    p.signal(SIGKILL);
    p.wait();
  }
  ASSERT_GT(left(queue), 0u) << "the killed run's queue " << queue << " (its dead letters)";
  auto short_run = args;
  short_run.push_back("--retries=3");
  const auto r = lt::run_leakbench(short_run, dir_.path(), env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("leakbench: removed queue " + queue + ", which a killed leakbench (pid "),
            std::string::npos)
      << r.err;
  EXPECT_EQ(left(queue), 0u);
  EXPECT_FALSE(std::filesystem::exists(records / (queue + ".json")));
}

TEST_F(own_app, cyclic_garbage_of_the_apps_own_is_said_first_with_its_size_per_attempt) {
  const auto r = run({"--app=shop.tasks,shop.cycles", "--variant=fixed=" + k_apps + "/fixed",
                      "--payload=64KiB", "--retries=6", "--message=build_tree:[65536]",
                      "--message=ping", "--benchmark_filter=^(build_tree|ping)/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = lt::by_name(r.report);
  const std::string label = benches.at("build_tree/fixed").at("label");
  EXPECT_TRUE(
      label.starts_with("makes 64.1 KiB of cyclic garbage per attempt, which --gc=off "
                        "keeps (--gc=python shows what production keeps)"))
      << label;
  EXPECT_EQ(benches.at("ping/fixed").at("label"), "retains nothing");
}

TEST_F(own_app, an_app_actor_named_like_a_scenario_gets_a_benchmark_of_its_own) {
  const auto r =
      run({"--app=shop.tasks,shop.clash", "--variant=fixed=" + k_apps + "/fixed", "--payload=64KiB",
           "--retries=4", "--message=Single:[1]", "--benchmark_filter=^Single"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto benches = lt::by_name(r.report);
  ASSERT_EQ(benches.size(), 2u) << r.err;
  EXPECT_EQ(benches.at("Single/fixed").at("attempts_failed"), 4) << "the scenario ran";
  EXPECT_EQ(benches.at("Single#2/fixed").at("attempts_failed"), 4) << "the app's actor ran";
  EXPECT_EQ(r.report.at("context").at("message.Single#2"), "Single {\"args\":[1],\"kwargs\":{}}");
}

TEST_F(own_app, a_broker_without_retries_is_measured_all_the_same) {
  const auto r = run({"--app=shop.bare", "--variant=fixed=" + k_apps + "/fixed", "--payload=64KiB",
                      "--retries=4", "--benchmark_filter=^Single/"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lt::by_name(r.report).at("Single/fixed").at("attempts_failed"), 4);
}

TEST_F(own_app, a_broker_that_accepts_and_never_answers_is_exit_3_within_the_timeout) {
  // A socket that listens (the kernel accepts the connection) and never reads or writes.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "redis://user:secret@127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const auto r = run({"--app=shop.tasks", "--variant=fixed=" + k_apps + "/fixed",
                      "--attempt_timeout=4", "--benchmark_filter=^Single/"},
                     url);
  ::close(fd);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("did not answer within 2 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("redis://user:***@127.0.0.1:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("secret"), std::string::npos);
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
}

TEST_F(own_app, a_busy_thread_is_left_out_by_its_system_name_too) {
  const auto r = run({"--app=shop.tasks,shop.native", "--variant=fixed=" + k_apps + "/fixed",
                      "--payload=64KiB", "--retries=4", "--attempt_timeout=10",
                      "--ignore_threads=busyc", "--benchmark_filter=^Single/"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(lt::by_name(r.report).at("Single/fixed").value("error_occurred", false))
      << lt::by_name(r.report).at("Single/fixed").dump();
}

TEST_F(own_app, a_thread_that_never_sleeps_is_named_and_can_be_left_out) {
  const std::vector<std::string> args = {"--app=shop.tasks,shop.poller",
                                         "--variant=fixed=" + k_apps + "/fixed",
                                         "--payload=64KiB",
                                         "--retries=4",
                                         "--attempt_timeout=3",
                                         "--benchmark_filter=^Single/"};
  const auto stuck = run(args);
  EXPECT_EQ(stuck.exit_code, 1) << stuck.err;
  const auto why = lt::by_name(stuck.report).at("Single/fixed").value("error_message", "");
  EXPECT_NE(why.find("the worker did not fall quiet after start-up within 3 s (--attempt_timeout): "
                     "still running: 'catalog-poller' (thread "),
            std::string::npos)
      << why;
  auto ignoring = args;
  ignoring.push_back("--ignore_threads=catalog-poller");
  const auto r = run(ignoring);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(lt::by_name(r.report).at("Single/fixed").value("error_occurred", false));
}

}  // namespace
