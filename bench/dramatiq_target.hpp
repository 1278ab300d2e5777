#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/dramatiq_worker.hpp"
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
  std::string dir;                 ///< --dramatiq's folder as given; empty otherwise
  std::vector<std::string> paths;  ///< --variant's PYTHONPATH prefix
  std::string dramatiq_version;
  std::string dramatiq_file;
  std::string dramatiq_commit;  ///< empty when none can be found
  std::string python_version;
  std::string broker_class;         ///< the broker's module.class
  std::string broker_url;           ///< where it connects, password masked
  std::string app_file;             ///< with --app: where the app's module was imported from
  bool asyncio_added = false;       ///< with --app: leakbench added AsyncIO, which it lacked
  std::vector<std::string> actors;  ///< with --app: the app's own actors
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
  /// False (said on stderr) if it could not.
  bool flush_queue(const variant_info& v, const std::string& queue, const options& opts) const;
  /// Where `v`'s worker connects, password masked.
  std::string broker_of(const variant_info& v) const;
  /// The app's spec, with --app.
  const std::optional<std::string>& app() const { return app_; }
  const std::string& python() const { return python_; }
  /// Why that interpreter: "given by --python", "python3 on PATH imports redis and dramatiq", ...
  const std::string& python_reason() const { return python_reason_; }
  /// The environment the workers run with, as far as it concerns their allocator and Python.
  std::string worker_environment_summary() const;

 private:
  /// How to start the worker (or its probe, or its flush) for `v` with `args`: the variant's
  /// paths, its package's folder, and the app or leakbench's own broker.
  worker_launch launch_for(const variant_info& v, std::vector<std::string> args) const;
  /// Probes `v` (and the app in it) and adds it to info_; throws setup_error 3 or 4.
  void probe_variant(const dramatiq_variant& v, const options& opts);
  /// Every --message names an actor each variant's app declares; setup_error 2 if not.
  void check_messages(const options& opts) const;
  /// Flushes the queues killed runs left on this run's brokers (queue_records.hpp).
  void flush_leftovers(const options& opts) const;

  private_dir dir_;  // the worker's Python, the socket; first, so that it goes last
  std::optional<std::string> app_;
  std::chrono::seconds connect_timeout_;  // --attempt_timeout
  std::string python_;
  std::string python_reason_;
  std::vector<variant_info> info_;
  std::unique_ptr<private_redis> redis_;
  std::string url_;  // what the workers connect to
};

}  // namespace leakbench::bench
