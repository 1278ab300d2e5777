#include "harness/measure/proc.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness/measure/rss.hpp"

extern char** environ;

namespace lm = leakbench::measure;

namespace {

/// `sleep 30`, killed and reaped when the object goes.
class sleeper {
 public:
  sleeper() {
    char prog[] = "sleep", arg[] = "30";
    char* argv[] = {prog, arg, nullptr};
    if (posix_spawnp(&pid_, "sleep", nullptr, nullptr, argv, environ) != 0) pid_ = -1;
  }
  ~sleeper() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

}  // namespace

TEST(proc, a_process_reading_its_own_threads_sees_itself_running) {
  const auto states = lm::read_thread_states(::getpid());
  ASSERT_TRUE(states);
  EXPECT_GE(states->threads, 1u);
  EXPECT_GE(states->running, 1u) << "the reading thread itself is running";
  EXPECT_FALSE(states->asleep());
}

TEST(proc, a_sleeping_process_is_asleep_and_a_reaped_one_is_gone) {
  sleeper s;
  ASSERT_GT(s.pid(), 0) << "cannot start sleep";
  std::optional<lm::thread_states> states;
  // Asleep once it has started: exec and the dynamic loader run first.
  for (int i = 0;
       i < 500 && !(states = lm::read_thread_states(s.pid()), states && states->asleep()); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(states);
  EXPECT_EQ(states->threads, 1u);
  EXPECT_TRUE(states->asleep());
  const pid_t pid = s.pid();
  s.stop();
  EXPECT_FALSE(lm::read_thread_states(pid));
}

TEST(proc, another_process_rss_and_peak_are_read_through_its_pid) {
  sleeper s;
  ASSERT_GT(s.pid(), 0) << "cannot start sleep";
  const lm::rss_reader reader(s.pid());
  EXPECT_GT(reader.current(), 0);
  EXPECT_GE(lm::peak_rss(s.pid()), reader.current() / 2);
  EXPECT_EQ(lm::clear_refs_of(s.pid()), "/proc/" + std::to_string(s.pid()) + "/clear_refs");
  EXPECT_EQ(lm::clear_refs_of(0), "/proc/self/clear_refs");
}
