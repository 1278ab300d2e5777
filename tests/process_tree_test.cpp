// The helper through which tests find processes: it sees a test's own descendants and nothing
// else, however alike another process looks.
#include "tests/process_tree.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>

#include "tests/process.hpp"

namespace {

namespace lt = leakbench::test;

// A look-alike of a real worker: its command line reads like leakbench's worker (a sleeping
// Python whose arguments name leakbench_worker.py and a scenario).
lt::child_process start_look_alike(const lt::temp_dir& dir) {
  return lt::child_process("/usr/bin/python3",
                           {"-c", "import time; time.sleep(60)", "-u",
                            "/tmp/leakbench-x/worker/leakbench_worker.py", "--scenario", "Single"},
                           "/dev/null", (dir.path() / "out").string(),
                           (dir.path() / "err").string());
}

TEST(process_tree, finds_a_descendant_two_levels_down_by_its_command_line) {
  const lt::temp_dir dir;
  // sh -> sleep: the sleep is the grandchild of this test process.
  lt::child_process parent(
      "/bin/sh", {"-c", "/usr/bin/python3 -c 'import time; time.sleep(60)' --scenario-marker; :"},
      "/dev/null", (dir.path() / "out").string(), (dir.path() / "err").string());
  const auto found = lt::await_descendants(parent.pid(), "--scenario-marker");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].parent, parent.pid());
  EXPECT_TRUE(lt::still_running(found[0]));
  // From this test process both match: the shell (whose -c text holds the marker) and Python.
  std::vector<pid_t> mine;
  for (const auto& p : lt::descendants_running(::getpid(), "--scenario-marker")) {
    mine.push_back(p.pid);
  }
  std::sort(mine.begin(), mine.end());
  std::vector<pid_t> expected = {parent.pid(), found[0].pid};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(mine, expected);
}

TEST(process_tree, never_matches_a_look_alike_that_is_not_a_descendant) {
  const lt::temp_dir dir;
  auto look_alike = start_look_alike(dir);
  // It is found where it does descend from (this test process), so it does look alike...
  const auto seen = lt::await_descendants(::getpid(), "leakbench_worker.py --scenario Single");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].pid, look_alike.pid());
  // ...and never under another root, even one with children of its own.
  lt::child_process other("/bin/sh", {"-c", "sleep 60; :"}, "/dev/null",
                          (dir.path() / "out2").string(), (dir.path() / "err2").string());
  ASSERT_EQ(lt::await_descendants(other.pid(), "sleep 60").size(), 1u);
  EXPECT_TRUE(lt::descendants_running(other.pid(), "--scenario Single").empty());
  EXPECT_TRUE(lt::descendants_running(other.pid(), "leakbench_worker.py").empty());
}

TEST(process_tree, still_running_tells_a_process_from_its_end) {
  const lt::temp_dir dir;
  auto child = start_look_alike(dir);
  const auto p = lt::read_process(child.pid());
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(lt::still_running(*p));
  child.signal(SIGKILL);
  child.wait();
  EXPECT_FALSE(lt::still_running(*p));
}

}  // namespace
