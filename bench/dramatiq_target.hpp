#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/private_dir.hpp"
#include "bench/private_redis.hpp"
#include "bench/target.hpp"

namespace leakbench::bench {

/// The real worker cannot be set up; what() is one line, `exit_code` leakbench's exit code:
/// 3 the broker cannot be used, 4 the worker cannot start.
class setup_error : public std::runtime_error {
 public:
  setup_error(int code, const std::string& what) : std::runtime_error(what), exit_code(code) {}
  int exit_code;
};

/// What a real worker variant turned out to be, from its probe.
struct variant_info {
  std::string name;
  std::string dir;  ///< as given; empty for `installed`
  std::string dramatiq_version;
  std::string dramatiq_file;
  std::string dramatiq_commit;  ///< empty when none can be found
  std::string python_version;
};

/// Real Dramatiq worker processes (scenarios/dramatiq/), one per benchmark, driven over Redis and
/// measured from outside through /proc: RSS, its peak, the background sampler on the worker's
/// pid. There is no heap counter outside the process (docs/dramatiq.md).
class dramatiq_target final : public target {
 public:
  /// Writes the worker's Python into a private directory, chooses the interpreter, probes every
  /// variant and starts a private redis-server when no --broker is given. Throws setup_error.
  explicit dramatiq_target(const options& opts);
  ~dramatiq_target() override;

  std::vector<std::string> variants() const override;
  run_record run(const scenarios::entry& scenario, const std::string& variant,
                 const options& opts) override;

  const std::vector<variant_info>& info() const { return info_; }
  /// Empties and removes `queue` through Dramatiq's API (`--flush`): what a killed worker left.
  void flush_queue(const variant_info& v, const std::string& queue, const options& opts) const;
  const std::string& python() const { return python_; }
  /// Why that interpreter: "given by --python", "python3 on PATH imports redis and dramatiq", ...
  const std::string& python_reason() const { return python_reason_; }
  /// The environment the workers run with, as far as it concerns their allocator and Python.
  std::string worker_environment_summary() const;

 private:
  private_dir dir_;  // the worker's Python, the socket; first, so that it goes last
  std::string python_;
  std::string python_reason_;
  std::vector<variant_info> info_;
  std::unique_ptr<private_redis> redis_;
  std::string url_;  // what the workers connect to
};

}  // namespace leakbench::bench
