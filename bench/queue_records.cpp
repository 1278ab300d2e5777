#include "bench/queue_records.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/output_file.hpp"

namespace leakbench::bench {
namespace {

/// Field 22 of /proc/PID/stat, or nothing if the process is gone.
std::optional<std::uint64_t> start_time_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22 && rest >> field; ++i) {
  }
  std::uint64_t t = 0;
  if (!(rest >> t)) return std::nullopt;
  return t;
}

std::filesystem::path file_of(const std::string& queue) {
  return queue_records_dir() / (queue + ".json");
}

}  // namespace

std::filesystem::path queue_records_dir() {
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    return std::filesystem::path(state) / "leakbench" / "queues";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr && *home != '\0' ? home : "/tmp") / ".local" /
         "state" / "leakbench" / "queues";
}

queue_record this_run(std::string queue, std::string broker_url, std::string app) {
  const int pid = static_cast<int>(::getpid());
  return {std::move(queue), std::move(broker_url), std::move(app), pid,
          start_time_of(pid).value_or(0)};
}

void record_queue(const queue_record& r) {
  std::error_code ec;
  std::filesystem::create_directories(queue_records_dir(), ec);
  const nlohmann::json j = {{"queue", r.queue},
                            {"broker_url", r.broker_url},
                            {"app", r.app},
                            {"pid", r.pid},
                            {"start_time", r.start_time}};
  const auto path = file_of(r.queue);
  if (!std::filesystem::exists(path)) std::ofstream(path).close();  // created 0600 below
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  common::write_output(path, j.dump() + "\n");
}

void forget_queue(const std::string& queue) {
  std::error_code ec;
  std::filesystem::remove(file_of(queue), ec);
}

std::vector<queue_record> leftover_queues(const std::string& broker_url, const std::string& app) {
  std::vector<queue_record> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(queue_records_dir(), ec)) {
    if (e.path().extension() != ".json") continue;
    std::ifstream in(e.path());
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    queue_record r{j.value("queue", ""), j.value("broker_url", ""), j.value("app", ""),
                   j.value("pid", 0), j.value("start_time", std::uint64_t{0})};
    if (r.queue.empty() || r.broker_url != broker_url || r.app != app) continue;
    if (r.pid > 0 && start_time_of(r.pid) == r.start_time) continue;  // still running
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace leakbench::bench
