// leakbench --target=dramatiq when the real worker cannot start: one line, a distinct exit code,
// nothing left in the temporary folder, and no wait longer than --attempt_timeout. This
// target's ctest timeout (tests/CMakeLists.txt) is far below any fixed wait of 60 s.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/bench/leakbench_process.hpp"
#include "tests/dramatiq/real_worker.hpp"
#include "tests/process_tree.hpp"

namespace {

namespace lt = leakbench::test;
namespace fs = std::filesystem;

class failed_start : public lt::with_dramatiq {
 protected:
  void SetUp() override {
    with_dramatiq::SetUp();
    if (IsSkipped()) return;
    fs::create_directory(tmp_);
  }
  /// Runs leakbench with its TMPDIR in this test's own folder, so that what it leaves is seen.
  lt::leakbench_result run(std::vector<std::string> args, std::vector<std::string> env = {}) {
    const bool own = std::any_of(env.begin(), env.end(),
                                 [](const std::string& e) { return e.starts_with("TMPDIR="); });
    if (!own) env.push_back("TMPDIR=" + tmp_.string());
    return lt::run_leakbench(std::move(args), dir_.path(), env);
  }
  /// What leakbench left in its temporary folder.
  std::vector<std::string> left_behind() const {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(tmp_)) names.push_back(e.path().string());
    return names;
  }
  /// An executable script in this test's folder: `python3` that runs Debian's with `body` first.
  std::string interpreter(const std::string& name, const std::string& body) const {
    const auto path = dir_.path() / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\nexec /usr/bin/python3 \"$@\"\n";
    fs::permissions(path, fs::perms::owner_all);
    return path.string();
  }
  fs::path tmp_ = dir_.path() / "tmp";
};

using strings = std::vector<std::string>;

TEST_F(failed_start, a_missing_interpreter_is_exit_4_and_leaves_nothing) {
  const auto r = run(
      {"--target=dramatiq", "--python=/nonexistent/python3", "--dramatiq=x=" + commits_->after});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/python3"), std::string::npos) << r.err;
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
  EXPECT_EQ(left_behind(), strings{});
}

TEST_F(failed_start, an_interpreter_without_redis_is_exit_4_and_leaves_nothing) {
  // -S: no site-packages, so no python3-redis.
  const auto python = interpreter("python3", "set -- -S \"$@\"");
  const auto r =
      run({"--target=dramatiq", "--python=" + python, "--dramatiq=x=" + commits_->after});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("redis"), std::string::npos) << r.err;
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
  EXPECT_EQ(left_behind(), strings{});
}

TEST_F(failed_start, a_folder_without_dramatiq_is_exit_4_saying_where_and_leaves_nothing) {
  const auto r = run({"--target=dramatiq", "--python=/usr/bin/python3",
                      "--dramatiq=mine=" + dir_.path().string()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("leakbench: the worker cannot start: variant mine (" + dir_.path().string()),
            std::string::npos)
      << r.err;
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
  EXPECT_EQ(left_behind(), strings{});
}

TEST_F(failed_start, installed_without_dramatiq_is_exit_4_and_leaves_nothing) {
  const auto r = run({"--target=dramatiq", "--python=/usr/bin/python3"}, {"PYTHONPATH="});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("dramatiq"), std::string::npos) << r.err;
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
  EXPECT_EQ(left_behind(), strings{});
}

TEST_F(failed_start, no_redis_server_for_the_private_one_is_exit_3_and_leaves_nothing) {
  const auto r =
      run({"--target=dramatiq", "--python=/usr/bin/python3", "--dramatiq=fixed=" + commits_->after},
          {"PATH=/nonexistent"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("redis-server"), std::string::npos) << r.err;
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
  EXPECT_EQ(left_behind(), strings{});
}

TEST_F(failed_start, a_temporary_folder_that_cannot_be_made_is_exit_4_in_one_line) {
  // Also shows that leakbench makes its folder under TMPDIR, where the tests above look.
  const auto r =
      run({"--target=dramatiq", "--python=/usr/bin/python3", "--dramatiq=fixed=" + commits_->after},
          {"TMPDIR=" + (tmp_ / "missing").string()});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("cannot make a private folder in " + (tmp_ / "missing").string()),
            std::string::npos)
      << r.err;
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
}

TEST_F(failed_start, a_probe_stopped_while_it_starts_fails_at_the_attempt_timeout) {
  // The interpreter stops itself before it runs the probe: only --attempt_timeout ends the wait.
  const auto python = interpreter("python3", "case \"$*\" in *--probe*) kill -STOP $$ ;; esac");
  const auto r = run({"--target=dramatiq", "--python=" + python, "--attempt_timeout=2",
                      "--dramatiq=fixed=" + commits_->after});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("did not answer within 2.0 s (--attempt_timeout)"), std::string::npos)
      << r.err;
  EXPECT_EQ(lt::line_count(r.err), 1) << r.err;
  EXPECT_EQ(left_behind(), strings{});
}

TEST_F(failed_start, a_worker_stopped_while_it_starts_fails_its_benchmark_at_the_attempt_timeout) {
  // The probe runs; the benchmark's worker stops itself before Python starts.
  const auto python = interpreter("python3", "case \"$*\" in *--scenario*) kill -STOP $$ ;; esac");
  lt::leakbench_process p({"--target=dramatiq", "--python=" + python, "--attempt_timeout=2",
                           "--dramatiq=fixed=" + commits_->after, "--benchmark_filter=Single"},
                          dir_.path(), {"TMPDIR=" + tmp_.string()});
  const auto workers = lt::await_descendants(p.pid(), "--scenario Single");
  ASSERT_EQ(workers.size(), 1u) << p.errors();
  const auto r = p.wait();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const auto benches = lt::by_name(r.report);
  ASSERT_EQ(benches.size(), 1u) << r.err;
  EXPECT_NE(benches.at("Single/fixed")
                .value("error_message", "")
                .find("did not answer within 2.0 s (--attempt_timeout)"),
            std::string::npos)
      << benches.at("Single/fixed").dump();
  EXPECT_FALSE(lt::still_running(workers[0])) << "the stopped worker was killed";
  EXPECT_EQ(left_behind(), strings{});
}

TEST_F(failed_start, a_second_sigint_exits_at_once_and_leaves_nothing) {
  lt::leakbench_process p({"--target=dramatiq", "--python=/usr/bin/python3",
                           "--worker_timeout_ms=100", "--dramatiq=fixed=" + commits_->after,
                           "--payload=0", "--retries=100000", "--benchmark_filter=Single"},
                          dir_.path(), {"TMPDIR=" + tmp_.string()});
  const auto workers = lt::await_descendants(p.pid(), "--scenario Single");
  const auto servers = lt::descendants_running(p.pid(), "redis-server");
  ASSERT_EQ(workers.size(), 1u) << p.errors();
  ASSERT_EQ(servers.size(), 1u) << p.errors();
  ASSERT_FALSE(left_behind().empty()) << "the private folder, while it runs";
  p.signal(SIGINT);
  // Two signals sent at once may arrive as one: the second goes once the first was taken.
  for (int i = 0; i < 1000 && p.errors().find("leakbench: interrupted:") == std::string::npos;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(p.errors().find("leakbench: interrupted:"), std::string::npos) << p.errors();
  p.signal(SIGINT);
  const auto r = p.wait();
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_NE(r.err.find("interrupted again: exiting now"), std::string::npos) << r.err;
  EXPECT_FALSE(lt::still_running(workers[0]));
  EXPECT_FALSE(lt::still_running(servers[0]));
  EXPECT_EQ(left_behind(), strings{});
}

}  // namespace
