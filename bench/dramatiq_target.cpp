// The real-worker target: setting it up (the worker's Python, the interpreter, the variants,
// Redis) and running one benchmark against a fresh worker process.
#include "bench/dramatiq_target.hpp"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "bench/attempt_check.hpp"
#include "bench/attempt_table.hpp"
#include "bench/dramatiq_worker.hpp"
#include "bench/embedded_file.hpp"
#include "bench/queue_records.hpp"
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

/// The worker's threads by system thread id: their Python names (from its `threads` reply or
/// `ready` event).
using thread_map = std::map<int, std::string>;

thread_map thread_names(const nlohmann::json& names) {
  thread_map out;
  for (const auto& [tid, name] : names.items()) out[std::stoi(tid)] = name.get<std::string>();
  return out;
}

/// The system names of `pid`'s threads (/proc/PID/task/*/comm), by thread id: what a thread
/// Python does not know (a C extension's) is called.
thread_map system_names(int pid) {
  thread_map out;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    if (std::getline(in, name)) out[std::stoi(task.path().filename().string())] = name;
  }
  return out;
}

/// The thread ids whose Python name (in `names`) or system name --ignore_threads gives.
std::vector<int> ignored(const thread_map& names, int pid, const std::vector<std::string>& ignore) {
  std::vector<int> out;
  if (ignore.empty()) return out;
  const auto named = [&](const std::string& n) {
    return std::find(ignore.begin(), ignore.end(), n) != ignore.end();
  };
  for (const auto& [tid, name] : system_names(pid)) {
    const auto python = names.find(tid);
    if (named(name) || (python != names.end() && named(python->second))) out.push_back(tid);
  }
  return out;
}

/// Waits until every thread of the worker but the ignored ones is asleep on two reads `k_poll`
/// apart, draining its stderr meanwhile. At the deadline, throws worker_error naming the
/// threads still running (their Python names, asked of the worker) and `what` it waited for.
void wait_quiescent(dramatiq_worker& w, clock::time_point deadline, const options& opts,
                    std::vector<int>& ignore, std::string_view what) {
  bool once = false;
  bool refreshed = opts.ignore_threads.empty();
  const auto started = clock::now();
  for (;;) {
    w.check_alive();
    const auto states = lm::read_thread_states(w.pid(), ignore);
    if (!states) w.check_alive();  // gone: say how
    if (states && states->asleep()) {
      if (once) return;
      once = true;
    } else {
      once = false;
    }
    // A thread the app started after start-up may be one to ignore: look its name up once.
    if (!refreshed && clock::now() - started > std::chrono::seconds(1)) {
      refreshed = true;
      const auto names = thread_names(w.command("threads", opts.attempt_timeout).at("threads"));
      ignore = ignored(names, w.pid(), opts.ignore_threads);
      continue;
    }
    if (clock::now() > deadline) {
      const auto names = thread_names(w.command("threads", opts.attempt_timeout).at("threads"));
      const auto system = system_names(w.pid());
      std::string busy;
      for (const int tid : states ? states->busy : std::vector<int>{}) {
        const auto it = names.find(tid);
        const auto sys = system.find(tid);
        busy += fmt::format("{}'{}' (thread {}{})", busy.empty() ? "" : ", ",
                            it != names.end()     ? it->second
                            : sys != system.end() ? sys->second
                                                  : "?",
                            tid, it != names.end() ? "" : ", not a Python thread");
      }
      throw worker_error(fmt::format(
          "the worker did not fall quiet {} within {} s (--attempt_timeout): still running: {}; "
          "--ignore_threads=NAME leaves out a thread that never sleeps",
          what, opts.attempt_timeout.count(), busy.empty() ? "none found" : busy));
    }
    std::this_thread::sleep_for(k_poll);
  }
}

/// The threads of a message benchmark's worker: 1 unless --concurrency was given.
std::size_t message_threads(const options& opts) {
  const bool given = std::any_of(opts.given.begin(), opts.given.end(), [](const std::string& a) {
    return a.starts_with("--concurrency=");
  });
  return given ? opts.scenario.concurrency : 1;
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

}  // namespace

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
  const auto message = std::find_if(opts.messages.begin(), opts.messages.end(),
                                    [&](const app_message& m) { return m.name == entry.name; });
  const bool is_message = message != opts.messages.end();
  const std::size_t per_round = sc->messages(cfg);
  const attempt_expectation* expected = is_message ? nullptr : find_attempt(entry.name);
  if (!is_message && expected == nullptr) {  // docs/attempts.md lacks a row: an invariant
    std::fprintf(stderr, "leakbench: docs/attempts.md has no row for %s\n", entry.name.c_str());
    std::abort();
  }
  const std::string queue = fresh_queue_name();
  rec.outcomes.emplace();
  // On a broker that outlives leakbench, a record of the queue until it is flushed: a killed
  // run's queue is then found and flushed by the next run on that broker.
  const bool lasting = app_ || opts.redis;
  bool flushed = true;  // false: the worker stopped without saying it flushed its queue
  try {
    if (lasting) record_queue(this_run(queue, broker_of(v), app_.value_or("")));
  } catch (const std::exception& e) {
    rec.failure = fmt::format("cannot record queue {} in {}: {}", queue,
                              queue_records_dir().string(), e.what());
    return rec;
  }
  try {
    std::vector<std::string> args = {"--queue",
                                     queue,
                                     "--gc",
                                     gc_mode(opts),
                                     "--worker-timeout",
                                     std::to_string(opts.worker_timeout.count())};
    if (is_message) {
      args.insert(args.end(), {"--message-actor", message->actor, "--message-args", message->args,
                               "--threads", std::to_string(message_threads(opts))});
    } else {
      const nlohmann::json kwargs = {
          {"payload", cfg.payload},
          {"depth", cfg.depth},
          {"chunk", std::clamp<std::size_t>(cfg.payload / 8, 1, std::size_t{1} << 20)}};
      args.insert(args.end(), {"--scenario", entry.name, "--kwargs", kwargs.dump(), "--threads",
                               std::to_string(per_round)});
    }
    const worker_launch launch = launch_for(v, std::move(args));
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
    std::vector<int> ignore =
        ignored(thread_names(ready.value("thread_names", nlohmann::json::object())), pid,
                opts.ignore_threads);
    wait_quiescent(worker, clock::now() + opts.attempt_timeout, opts, ignore, "after start-up");
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
      nlohmann::json sent;
      try {
        sent = worker.command(fmt::format("send {}", per_round), timeout).at("ids");
      } catch (const worker_error& e) {
        if (!worker.unresponsive()) throw;
        throw worker_error(fmt::format(
            "no outcome for {} of {} messages within {} s (--attempt_timeout): the worker did "
            "not even answer that it sent them",
            per_round, per_round, opts.attempt_timeout.count()));
      }
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
        auto& tally = *rec.outcomes;
        const std::string outcome = event->value("outcome", "");
        tally.failed += outcome == "failed" ? 1 : 0;
        tally.succeeded += outcome == "succeeded" ? 1 : 0;
        tally.skipped += outcome == "skipped" ? 1 : 0;
        tally.enqueued_elsewhere += event->value("enqueued_elsewhere", std::size_t{0});
        if (is_message) continue;  // an app's message counts whatever its outcome
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
      wait_quiescent(worker, deadline, opts, ignore, "after the attempt");
    };
    run_retries(rec, opts, allocated_per_round, fmt::format("{}/{}", entry.name, variant),
                {.attempt = attempt, .settle = settle, .sample = sample});
    sampler.stop();
    rec.background = sampler.samples();
    // A worker that died has no VmHWM left to read: its samples are what there is.
    rec.peak_rss = peak_resettable && !rec.failure ? lm::peak_rss(pid) : rec.highest_sampled_rss();
    if (!rec.failure) {
      const auto paths = worker.command("paths", opts.attempt_timeout);
      if (paths.contains("garbage")) {
        rec.outcomes->garbage_bytes = paths.at("garbage").value("bytes", std::int64_t{0});
      }
      for (const auto& r : paths.at("retained")) {
        rec.retained.push_back(
            {r.at("path").get<std::string>(), r.at("exceptions").get<std::size_t>(),
             r.at("bytes").get<std::int64_t>(), r.at("path_bytes").get<std::int64_t>()});
      }
    }
    // It flushes its queue as it stops; one that did not say so is flushed below.
    if (!worker.stop(opts.worker_timeout * 3 + std::chrono::seconds(2)) && !rec.failure) {
      flushed = false;
    }
  } catch (const worker_error& e) {
    rec.failure = e.what();
  } catch (const std::exception& e) {
    rec.failure = e.what();
  }
  // A worker that failed may have been killed before it flushed its queue: on a broker that
  // outlives leakbench, flush it through Dramatiq's API.
  if (lasting && ((!rec.failure && flushed) || flush_queue(v, queue, opts))) forget_queue(queue);
  return rec;
}

}  // namespace leakbench::bench
