#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace leakbench::bench {

/// A queue leakbench declared on a broker that outlives it: written before its worker starts,
/// removed once the queue is flushed. What is left was a killed run's.
struct queue_record {
  std::string queue;
  std::string broker_url;        ///< masked: records hold no password
  std::string app;               ///< the app's spec, or "" for leakbench's own broker
  int pid = 0;                   ///< the leakbench that declared it
  std::uint64_t start_time = 0;  ///< of that leakbench, to tell it from a later one on its pid
};

/// The records' folder: $XDG_STATE_HOME/leakbench/queues, or ~/.local/state/leakbench/queues.
std::filesystem::path queue_records_dir();

/// Writes `r` (mode 0600) before its queue is declared; throws common::output_error.
void record_queue(const queue_record& r);

/// Removes the record of `queue` (it was flushed).
void forget_queue(const std::string& queue);

/// The records whose leakbench is no longer running, on `broker_url` for `app`.
std::vector<queue_record> leftover_queues(const std::string& broker_url, const std::string& app);

/// A record for `queue` on this leakbench's pid.
queue_record this_run(std::string queue, std::string broker_url, std::string app);

}  // namespace leakbench::bench
