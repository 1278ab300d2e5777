#include "harness/measure/proc.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace leakbench::measure {
namespace {

/// The state letter of a /proc/<pid>/task/<tid>/stat line: the field after the last ')', since
/// the command name in parentheses may itself hold spaces and parentheses.
char state_of(std::string_view stat) {
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 >= stat.size()) return '?';
  return stat[close + 2];
}

}  // namespace

std::optional<thread_states> read_thread_states(int pid, const std::vector<int>& ignore) {
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  std::filesystem::directory_iterator it(tasks, ec);
  if (ec) return std::nullopt;
  thread_states out;
  for (const auto& task : it) {
    const int fd = ::open((task.path() / "stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // the thread ended between the listing and the read
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n <= 0) continue;
    const std::string_view stat(buf, static_cast<std::size_t>(n));
    const char state = state_of(stat);
    if (state == 'Z' || state == 'X') return std::nullopt;  // exited, not yet reaped
    int tid = 0;
    const auto name = task.path().filename().string();
    std::from_chars(name.data(), name.data() + name.size(), tid);
    if (std::find(ignore.begin(), ignore.end(), tid) != ignore.end()) continue;
    ++out.threads;
    if (state == 'R' || state == 'D') {
      ++out.running;
      out.busy.push_back(tid);
    }
  }
  if (out.threads == 0) return std::nullopt;
  return out;
}

}  // namespace leakbench::measure
