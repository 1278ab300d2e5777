// The real-worker target: setting it up (the worker's Python, the interpreter, the variants,
// Redis) and running one benchmark against a fresh worker process.
#include "bench/dramatiq_target.hpp"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "bench/attempt_check.hpp"
#include "bench/attempt_table.hpp"
#include "bench/dramatiq_worker.hpp"
#include "bench/embedded_file.hpp"
#include "bench/retry_loop.hpp"
#include "harness/measure/proc.hpp"
#include "harness/measure/rss.hpp"
#include "harness/measure/sampler.hpp"

namespace leakbench::bench {
namespace {

namespace lm = measure;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto k_poll = milliseconds(1);

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

/// Waits until every thread of `pid` is asleep on two reads `k_poll` apart, draining the
/// worker's stderr meanwhile; false at the deadline.
bool wait_quiescent(dramatiq_worker& w, int pid, clock::time_point deadline) {
  bool once = false;
  for (;;) {
    w.check_alive();
    const auto states = lm::read_thread_states(pid);
    if (!states) w.check_alive();  // gone: say how
    if (states && states->asleep()) {
      if (once) return true;
      once = true;
    } else {
      once = false;
    }
    if (clock::now() > deadline) return false;
    std::this_thread::sleep_for(k_poll);
  }
}

/// A queue of leakbench's own for one benchmark: `leakbench_` and 16 random hex digits.
std::string fresh_queue_name() {
  std::random_device rd;
  const std::uint64_t bits = (std::uint64_t{rd()} << 32) | rd();
  return fmt::format("leakbench_{:016x}", bits);
}

std::string gc_mode(const options& opts) {
  if (opts.python_gc) return "python";
  return opts.gc.every > 0 ? "every" : "off";
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

// Every wait below follows --attempt_timeout: a worker stopped while it starts fails as soon
// as one that hangs mid-run would. dir_ is a member: a constructor that throws removes it.
dramatiq_target::dramatiq_target(const options& opts) : dir_(make_private_dir()) {
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
  for (const auto& v : opts.dramatiq) {
    if (!v.dir.empty() && !std::filesystem::is_directory(v.dir)) {
      throw setup_error(
          4, fmt::format("the worker cannot start: --dramatiq={}={}: no such directory", v.name,
                         v.dir));
    }
    worker_launch probe{python_, scripts.string(), v.dir, {"--probe"}};
    if (!v.dir.empty()) probe.args.insert(probe.args.end(), {"--expect-dir", v.dir});
    try {
      const auto p = dramatiq_worker::probe(probe, opts.attempt_timeout);
      info_.push_back(
          {v.name, v.dir, p.value("dramatiq_version", ""), p.value("dramatiq_file", ""),
           p["dramatiq_commit"].is_string() ? p["dramatiq_commit"].get<std::string>() : "",
           p.value("python_version", "")});
    } catch (const std::exception& e) {  // worker_error, or the interpreter cannot run
      throw setup_error(
          4, fmt::format("the worker cannot start: variant {} ({}, python {}): {}", v.name,
                         v.dir.empty() ? "installed" : v.dir, python_, e.what()));
    }
  }
  if (opts.redis) {
    url_ = opts.broker_url;
  } else {
    try {
      redis_ = std::make_unique<private_redis>(dir_.path(), opts.attempt_timeout);
    } catch (const std::exception& e) {
      throw setup_error(3, e.what());
    }
    url_ = redis_->url();
  }
}

dramatiq_target::~dramatiq_target() = default;  // the server stops before its folder goes

std::vector<std::string> dramatiq_target::variants() const {
  std::vector<std::string> names;
  for (const auto& v : info_) names.push_back(v.name);
  return names;
}

std::string dramatiq_target::worker_environment_summary() const {
  std::string out;
  for (const char* name :
       {"GLIBC_TUNABLES", "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_",
        "MALLOC_TOP_PAD_", "PYTHONMALLOC", "LD_PRELOAD"}) {
    if (const char* v = std::getenv(name))
      out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, v);
  }
  return out.empty() ? "as inherited, no allocator settings" : out;
}

run_record dramatiq_target::run(const scenarios::entry& entry, const std::string& variant,
                                const options& opts) {
  run_record rec;
  rec.has_heap = false;
  const auto& v =
      *std::find_if(info_.begin(), info_.end(), [&](const auto& i) { return i.name == variant; });
  const auto sc = entry.make();
  const auto& cfg = opts.scenario;
  const std::size_t per_round = sc->messages(cfg);
  const nlohmann::json kwargs = {
      {"payload", cfg.payload},
      {"depth", cfg.depth},
      {"chunk", std::clamp<std::size_t>(cfg.payload / 8, 1, std::size_t{1} << 20)}};
  const attempt_expectation* expected = find_attempt(entry.name);
  if (expected == nullptr) {  // docs/attempts.md lacks a row: a build's invariant
    std::fprintf(stderr, "leakbench: docs/attempts.md has no row for %s\n", entry.name.c_str());
    std::abort();
  }
  const std::string queue = fresh_queue_name();
  try {
    worker_launch launch{
        python_,
        (dir_.path() / "worker").string(),
        v.dir,
        {"--url", url_, "--queue", queue, "--scenario", entry.name, "--kwargs", kwargs.dump(),
         "--threads", std::to_string(per_round), "--gc", gc_mode(opts), "--worker-timeout",
         std::to_string(opts.worker_timeout.count())}};
    if (!v.dir.empty()) launch.args.insert(launch.args.end(), {"--expect-dir", v.dir});
    dramatiq_worker worker(launch);
    const auto ready = worker.next_event(opts.attempt_timeout);
    if (ready.value("event", "") != "ready") {
      throw worker_error(fmt::format("the worker said {} before it was ready", ready.dump()));
    }
    const int pid = worker.pid();
    const lm::rss_reader rss(pid);
    lm::sampler sampler({.interval = opts.sample_interval, .capacity = 1 << 16, .pid = pid});
    const std::string clear_refs =
        opts.clear_refs == lm::k_clear_refs ? lm::clear_refs_of(pid) : opts.clear_refs;
    const bool peak_resettable = opts.peak_resettable && lm::reset_peak_rss(clear_refs.c_str());
    if (opts.series_out || !peak_resettable) sampler.start();
    rec.reserve(opts.retries);
    const auto start = clock::now();
    const auto sample = [&] { return lm::sample{clock::now() - start, rss.current()}; };
    if (!wait_quiescent(worker, pid, clock::now() + opts.attempt_timeout)) {
      throw worker_error("the worker never fell quiet after start-up");
    }
    rec.points.push_back(sample());
    if (peak_resettable) lm::reset_peak_rss(clear_refs.c_str());
    const auto allocated_per_round = sc->allocated_per_iteration(cfg);
    const std::size_t every = opts.python_gc ? 0 : opts.gc.every;
    std::size_t attempts = 0;
    clock::time_point deadline;
    // One round: the worker sends its messages through Dramatiq's API; each is over once its
    // `attempt` event says Dramatiq settled it, and only if it did the scenario's work.
    const auto attempt = [&] {
      deadline = clock::now() + opts.attempt_timeout;
      const auto timeout = std::chrono::duration_cast<milliseconds>(opts.attempt_timeout);
      const std::size_t said_before = worker.stderr_lines();  // what this attempt wrote after
      const auto sent = worker.command(fmt::format("send {}", per_round), timeout).at("ids");
      std::set<std::string> pending;
      for (const auto& id : sent) pending.insert(id.get<std::string>());
      while (!pending.empty()) {
        const auto event = worker.wait_event(deadline);
        if (!event) {
          const std::string said = worker.last_stderr(said_before);
          worker.kill();  // hung, or never got the message: it gets no graceful stop
          throw worker_error(
              fmt::format("no outcome for {} of {} messages within {} s (--attempt_timeout){}",
                          pending.size(), per_round, opts.attempt_timeout.count(),
                          said.empty() ? "" : "; the worker's stderr: " + said));
        }
        if (event->value("event", "") != "attempt") continue;
        if (pending.erase(event->value("id", "")) == 0) {
          throw worker_error(fmt::format("an attempt leakbench did not send: {}", event->dump()));
        }
        if (auto why = attempt_failure(*expected, *event, static_cast<std::int64_t>(cfg.payload));
            !why.empty()) {
          const std::string said = worker.last_stderr(said_before);
          throw worker_error(why + (said.empty() ? "" : "; the worker's stderr: " + said));
        }
      }
    };
    const auto settle = [&] {
      attempts += per_round;
      if (every > 0 && attempts / every != (attempts - per_round) / every) {
        worker.command("collect", std::chrono::duration_cast<milliseconds>(opts.attempt_timeout));
      }
      // The worker hands the message back before it clears the exception: only once every
      // thread sleeps is the attempt over in memory too.
      if (!wait_quiescent(worker, pid, deadline)) {
        throw worker_error(
            fmt::format("the worker did not fall quiet within {} s", opts.attempt_timeout.count()));
      }
    };
    run_retries(rec, opts, allocated_per_round, fmt::format("{}/{}", entry.name, variant),
                {.attempt = attempt, .settle = settle, .sample = sample});
    sampler.stop();
    rec.background = sampler.samples();
    // A worker that died has no VmHWM left to read: its samples are what there is.
    rec.peak_rss = peak_resettable && !rec.failure ? lm::peak_rss(pid) : rec.highest_sampled_rss();
    if (!rec.failure) {
      const auto paths = worker.command("paths", opts.attempt_timeout);
      for (const auto& r : paths.at("retained")) {
        rec.retained.push_back(
            {r.at("path").get<std::string>(), r.at("exceptions").get<std::size_t>(),
             r.at("bytes").get<std::int64_t>(), r.at("path_bytes").get<std::int64_t>()});
      }
    }
    worker.stop(opts.worker_timeout * 3 + std::chrono::seconds(2));  // it flushes its queue
  } catch (const worker_error& e) {
    rec.failure = e.what();
  } catch (const std::exception& e) {
    rec.failure = e.what();
  }
  // A worker that failed may have been killed before it flushed its queue: on a broker that
  // outlives leakbench, flush it through Dramatiq's API.
  if (rec.failure && opts.redis) flush_queue(v, queue, opts);
  return rec;
}

void dramatiq_target::flush_queue(const variant_info& v, const std::string& queue,
                                  const options& opts) const {
  worker_launch launch{python_,
                       (dir_.path() / "worker").string(),
                       v.dir,
                       {"--flush", "--url", url_, "--queue", queue}};
  try {
    dramatiq_worker flusher(launch);
    flusher.next_event(opts.attempt_timeout);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "leakbench: cannot flush queue %s on %s: %s\n", queue.c_str(),
                 brokers::redis_url::mask(url_).c_str(), e.what());
  }
}

}  // namespace leakbench::bench
