// Setting up the real-worker target: the worker's Python, the interpreter, each variant's
// probe (and the app's, with --app), and a private redis-server unless a broker is given.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include "bench/dramatiq_target.hpp"
#include "bench/dramatiq_worker.hpp"
#include "bench/embedded_file.hpp"
#include "bench/queue_records.hpp"
#include "harness/brokers/redis_url.hpp"

namespace leakbench::bench {
namespace {

/// `program` as PATH finds it, for messages; the name itself if it is not found.
std::string on_path(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string_view rest = path != nullptr ? path : "";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
  }
  return program;
}

/// Empty if `python` imports `modules`; else why not, in a few words.
std::string cannot_import(const std::string& python, const std::string& modules) {
  try {
    spawn_options so;
    so.argv = {python, "-c", "import " + modules};
    so.pipe_stderr = true;
    child_process child(so);
    const std::string err = read_all(child.stderr_fd());
    const int status = child.wait();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
    const auto last = err.find_last_not_of('\n');
    const auto line_start = err.rfind('\n', last);
    std::string last_line = err.substr(line_start == std::string::npos ? 0 : line_start + 1,
                                       last == std::string::npos ? 0 : last - line_start);
    return last_line.empty() ? child_process::describe(status) : last_line;
  } catch (const std::system_error& e) {
    return e.code().message();
  }
}

/// The private folder, or setup_error 4 saying why there is none.
private_dir make_private_dir() {
  try {
    return private_dir();
  } catch (const std::system_error& e) {
    throw setup_error(4, e.what());
  }
}

}  // namespace

worker_launch dramatiq_target::launch_for(const variant_info& v,
                                          std::vector<std::string> args) const {
  worker_launch launch{python_, (dir_.path() / "worker").string(), v.dir, std::move(args), v.paths};
  // Half the attempt's time for the broker to answer at start-up: its exit 3 comes first.
  launch.args.insert(launch.args.end(),
                     {"--connect-timeout", fmt::format("{:g}", connect_timeout_.count() / 2.0)});
  if (!v.dir.empty()) launch.args.insert(launch.args.end(), {"--expect-dir", v.dir});
  if (app_) {
    launch.args.insert(launch.args.end(), {"--app", *app_});
    if (!v.paths.empty()) {
      launch.args.insert(launch.args.end(),
                         {"--expect-app-under", fmt::format("{}", fmt::join(v.paths, ":"))});
    }
  } else if (!url_.empty()) {  // empty while probing: a probe connects nowhere
    launch.args.insert(launch.args.end(), {"--url", url_});
  }
  return launch;
}

// Every wait below follows --attempt_timeout: a worker stopped while it starts fails as soon
// as one that hangs mid-run would. dir_ is a member: a constructor that throws removes it.
dramatiq_target::dramatiq_target(const options& opts)
    : dir_(make_private_dir()), app_(opts.app), connect_timeout_(opts.attempt_timeout) {
  const auto scripts = dir_.path() / "worker";
  std::filesystem::create_directories(scripts);
  for (const auto& f : worker_files()) {
    std::ofstream out(scripts / std::string(f.name));
    out << f.text;
    if (!out) throw setup_error(4, fmt::format("cannot write {}", (scripts / f.name).string()));
  }
  const bool needs_installed = std::any_of(opts.dramatiq.begin(), opts.dramatiq.end(),
                                           [](const auto& v) { return v.dir.empty(); });
  const std::string modules = needs_installed ? "redis, dramatiq" : "redis";
  if (opts.python) {
    python_ = *opts.python;
    python_reason_ = "given by --python";
  } else {
    std::string why_not;
    for (const std::string& candidate : {std::string("python3"), std::string("/usr/bin/python3")}) {
      const std::string where = on_path(candidate);
      const std::string reason = cannot_import(where, modules);
      if (reason.empty()) {
        python_ = where;
        python_reason_ = fmt::format(
            "{}{} imports {}", why_not,
            candidate == "python3" ? "python3 on PATH (" + where + ")" : where, modules);
        break;
      }
      why_not += fmt::format("{} cannot import {} ({}); ",
                             candidate == "python3" ? "python3 on PATH (" + where + ")" : where,
                             modules, reason);
    }
    if (python_.empty()) {
      throw setup_error(4, fmt::format("the worker cannot start: {}install python3-redis (and "
                                       "dramatiq), or give --python=PATH",
                                       why_not));
    }
  }
  // The probes first: a variant that cannot start needs no server.
  for (const auto& v : opts.dramatiq) probe_variant(v, opts);
  check_messages(opts);
  if (app_ || opts.redis) {  // a broker that outlives leakbench: what killed runs left on it
    if (!app_) url_ = opts.broker_url;
    flush_leftovers(opts);
    return;
  }
  try {
    redis_ = std::make_unique<private_redis>(dir_.path(), opts.attempt_timeout);
  } catch (const std::exception& e) {
    throw setup_error(3, e.what());
  }
  url_ = redis_->url();
}

void dramatiq_target::probe_variant(const dramatiq_variant& v, const options& opts) {
  if (!v.dir.empty() && !std::filesystem::is_directory(v.dir)) {
    throw setup_error(4, fmt::format("the worker cannot start: --dramatiq={}={}: no such directory",
                                     v.name, v.dir));
  }
  for (const auto& path : v.paths) {
    if (!std::filesystem::is_directory(path)) {
      throw setup_error(4, fmt::format("the worker cannot start: --variant={}: {}: no such "
                                       "directory",
                                       v.name, path));
    }
  }
  variant_info info{v.name, v.dir, v.paths};
  try {
    const auto p = dramatiq_worker::probe(launch_for(info, {"--probe"}), opts.attempt_timeout);
    info.dramatiq_version = p.value("dramatiq_version", "");
    info.dramatiq_file = p.value("dramatiq_file", "");
    info.dramatiq_commit =
        p["dramatiq_commit"].is_string() ? p["dramatiq_commit"].get<std::string>() : "";
    info.python_version = p.value("python_version", "");
    info.broker_class = p.value("broker_class", "");
    info.broker_url = p.value("broker_url", "");
    info.app_file = p.value("app_file", "");
    info.asyncio_added = p.value("asyncio_added", false);
    if (p.contains("actors")) info.actors = p.at("actors").get<std::vector<std::string>>();
  } catch (const std::exception& e) {  // worker_error, or the interpreter cannot run
    const auto* failed = dynamic_cast<const worker_error*>(&e);
    const bool broker = failed != nullptr && failed->code == 3;
    const std::string where = !v.paths.empty() ? fmt::format("{}", fmt::join(v.paths, ":"))
                              : v.dir.empty()  ? std::string("installed")
                                               : v.dir;
    throw setup_error(broker ? 3 : 4,
                      fmt::format("{}: variant {} ({}, python {}): {}",
                                  broker ? "the broker cannot be used" : "the worker cannot start",
                                  v.name, where, python_, e.what()));
  }
  info_.push_back(std::move(info));
}

void dramatiq_target::check_messages(const options& opts) const {
  for (const auto& m : opts.messages) {
    for (const auto& v : info_) {
      if (std::find(v.actors.begin(), v.actors.end(), m.actor) == v.actors.end()) {
        throw setup_error(
            2,
            fmt::format("--message={}: the app ({}) declares no actor '{}'; it "
                        "declares: {}",
                        m.actor, v.name, m.actor,
                        v.actors.empty() ? "none" : fmt::format("{}", fmt::join(v.actors, ", "))));
      }
    }
  }
}

bool dramatiq_target::flush_queue(const variant_info& v, const std::string& queue,
                                  const options& opts) const {
  try {
    dramatiq_worker flusher(launch_for(v, {"--flush", "--queue", queue}));
    return flusher.next_event(opts.attempt_timeout).value("event", "") == "flushed";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "leakbench: cannot flush queue %s on %s: %s\n", queue.c_str(),
                 broker_of(v).c_str(), e.what());
    return false;
  }
}

std::string dramatiq_target::broker_of(const variant_info& v) const {
  return app_ ? v.broker_url : brokers::redis_url::mask(url_);
}

void dramatiq_target::flush_leftovers(const options& opts) const {
  std::set<std::string> done;
  for (const auto& v : info_) {
    const std::string broker = broker_of(v);
    if (!done.insert(broker).second) continue;
    for (const auto& left : leftover_queues(broker, app_.value_or(""))) {
      if (!flush_queue(v, left.queue, opts)) continue;
      forget_queue(left.queue);
      std::fprintf(stderr,
                   "leakbench: removed queue %s, which a killed leakbench (pid %d) left on %s\n",
                   left.queue.c_str(), left.pid, broker.c_str());
    }
  }
}

}  // namespace leakbench::bench
