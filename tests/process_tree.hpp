#pragma once

// The one way tests find processes: among the descendants of a process the test started, never
// by a name or command line across the machine (another run's worker, a look-alike, a shared
// redis-server must stay untouched).
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/files.hpp"

namespace leakbench::test {

/// A process as /proc shows it; `start_time` tells it from a later one given the same pid.
struct process_info {
  pid_t pid = 0;
  pid_t parent = 0;
  char state = '?';  ///< R, S, D, T, Z...
  std::uint64_t start_time = 0;
  std::string command_line;  ///< arguments joined by spaces
};

/// /proc/PID as a process_info, or nothing if it has gone.
inline std::optional<process_info> read_process(pid_t pid) {
  const auto dir = std::filesystem::path("/proc") / std::to_string(pid);
  const std::string stat = slurp(dir / "stat");
  const auto close = stat.rfind(')');  // the name in parentheses may hold anything
  if (close == std::string::npos) return std::nullopt;
  process_info p;
  p.pid = pid;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  rest >> p.state >> p.parent;
  for (int i = 5; i < 22 && rest >> field; ++i) {
  }
  rest >> p.start_time;  // field 22
  p.command_line = slurp(dir / "cmdline");
  for (auto& ch : p.command_line) {
    if (ch == '\0') ch = ' ';
  }
  while (!p.command_line.empty() && p.command_line.back() == ' ') p.command_line.pop_back();
  return p;
}

/// The living processes descended from `root` (its children, theirs, ...), `root` excluded;
/// zombies left out.
inline std::vector<process_info> descendants(pid_t root) {
  std::multimap<pid_t, process_info> by_parent;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (auto p = read_process(std::stoi(name))) by_parent.emplace(p->parent, *p);
  }
  std::vector<process_info> out;
  std::vector<pid_t> todo = {root};
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    const auto [first, last] = by_parent.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      todo.push_back(it->second.pid);
      if (it->second.state != 'Z') out.push_back(it->second);
    }
  }
  return out;
}

/// The descendants of `root` whose command line holds `needle`.
inline std::vector<process_info> descendants_running(pid_t root, std::string_view needle) {
  std::vector<process_info> out;
  for (auto& p : descendants(root)) {
    if (p.command_line.find(needle) != std::string::npos) out.push_back(std::move(p));
  }
  return out;
}

/// The descendants of `root` whose command line holds `needle`, waited for up to `within`
/// (empty if none came: the caller asserts).
inline std::vector<process_info> await_descendants(
    pid_t root, std::string_view needle,
    std::chrono::milliseconds within = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    auto found = descendants_running(root, needle);
    if (!found.empty() || std::chrono::steady_clock::now() > deadline) return found;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// True while that very process (pid and start time) lives and is not a zombie.
inline bool still_running(const process_info& p) {
  const auto now = read_process(p.pid);
  return now && now->start_time == p.start_time && now->state != 'Z';
}

/// Sends `sig` to that very process, only while it still runs (by pid and start time): never to
/// a later process that was given its pid. False if it had ended.
inline bool signal_process(const process_info& p, int sig) {
  return still_running(p) && ::kill(p.pid, sig) == 0;
}

}  // namespace leakbench::test
