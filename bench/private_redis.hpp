#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "bench/child_process.hpp"

namespace leakbench::bench {

/// A redis-server of leakbench's own for real workers: Debian's, on a Unix socket in a private
/// directory (no TCP port), persistence off, stopped by pid when the object goes (and killed
/// with leakbench, whatever kills it).
class private_redis {
 public:
  /// Starts it in `dir` and waits up to `timeout` until it answers; throws
  /// brokers::broker_error with one line (redis-server missing, or not answering) if it cannot.
  private_redis(const std::filesystem::path& dir, std::chrono::seconds timeout);
  ~private_redis();
  private_redis(const private_redis&) = delete;
  private_redis& operator=(const private_redis&) = delete;

  /// `unix:///dir/redis.sock`.
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<child_process> server_;
  std::string url_;
};

}  // namespace leakbench::bench
