#include "bench/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "harness/measure/rss.hpp"
#include "harness/middleware/inject_leak.hpp"
#include "reports/results/units.hpp"

namespace leakbench::bench {
namespace {

std::uint64_t parse_count(std::string_view text, std::uint64_t min, std::uint64_t max) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty() || n < min || n > max) {
    throw usage_error(fmt::format("expected a whole number from {} to {}", min, max));
  }
  return n;
}

constexpr std::string_view k_redis_urls =
    "redis://[[user]:password@]host[:port][/db] or unix://[[user]:password@]/path[?db=N]";

/// The non-empty parts of `v` between `sep`s.
std::vector<std::string> split(std::string_view v, char sep) {
  std::vector<std::string> out;
  while (!v.empty()) {
    const auto at = v.find(sep);
    if (at != 0) out.emplace_back(v.substr(0, at));
    v = at == std::string_view::npos ? "" : v.substr(at + 1);
  }
  return out;
}

/// A variant's name: letters, digits, '_', '-', '.', and not given before.
void check_variant_name(const options& o, std::string_view name) {
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
                                             "QRSTUVWXYZ0123456789_-.") != name.npos) {
    throw usage_error(fmt::format("the name '{}' must be letters, digits, '_', '-' or '.'", name));
  }
  for (const auto& d : o.dramatiq) {
    if (d.name == name) throw usage_error(fmt::format("the name '{}' is given twice", name));
  }
}

/// NAME=VALUE of a variant flag, the name checked; usage_error "expected `form`" otherwise.
std::pair<std::string_view, std::string_view> named_value(const options& o, std::string_view v,
                                                          std::string_view form) {
  const auto eq = v.find('=');
  if (eq == std::string_view::npos || eq + 1 == v.size()) {
    throw usage_error(fmt::format("expected {}", form));
  }
  check_variant_name(o, v.substr(0, eq));
  return {v.substr(0, eq), v.substr(eq + 1)};
}

/// --message=ACTOR[:JSON]: JSON an array (positional arguments) or {"args": [...], "kwargs":
/// {...}}. The same actor again gets `#2`, `#3`... in its benchmark's name.
app_message parse_message(const options& o, std::string_view v) {
  const auto colon = v.find(':');
  const std::string actor(v.substr(0, colon));
  if (actor.empty()) throw usage_error("expected ACTOR or ACTOR:JSON, e.g. render_invoice:[17]");
  nlohmann::json args = {{"args", nlohmann::json::array()}, {"kwargs", nlohmann::json::object()}};
  if (colon != std::string_view::npos) {
    const std::string_view text = v.substr(colon + 1);
    if (text.empty()) {
      throw usage_error(fmt::format(
          "'{}:' is followed by no JSON: give {} alone, or {}:[...] or {}:{{\"args\": [...], "
          "\"kwargs\": {{...}}}} (an actor's name cannot hold ':')",
          actor, actor, actor, actor));
    }
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (parsed.is_discarded()) {
      throw usage_error(fmt::format("the arguments of {} are not JSON: {}", actor, text));
    }
    if (parsed.is_array()) {
      args["args"] = parsed;
    } else if (parsed.is_object()) {
      for (const auto& [key, value] : parsed.items()) {
        if ((key != "args" || !value.is_array()) && (key != "kwargs" || !value.is_object())) {
          throw usage_error(fmt::format(
              "the arguments of {}: an object takes \"args\" (an array) and \"kwargs\" (an "
              "object) only, not \"{}\"",
              actor, key));
        }
        args[key] = value;
      }
    } else {
      throw usage_error(fmt::format(
          "the arguments of {}: a JSON array, or an object with \"args\" and \"kwargs\"", actor));
    }
  }
  const auto same = std::count_if(o.messages.begin(), o.messages.end(),
                                  [&](const app_message& m) { return m.actor == actor; });
  const std::string name = same == 0 ? actor : fmt::format("{}#{}", actor, same + 1);
  return {name, actor, args.dump()};
}

struct flag {
  std::string_view name;
  std::function<void(options&, std::string_view)> set;
};

// In --help order. A setter throws any std::exception for a bad value.
const std::vector<flag>& flags() {
  static const std::vector<flag> f = {
      {"--target",
       [](options& o, std::string_view v) {
         if (v == "model") {
           o.target = target_kind::model;
         } else if (v == "dramatiq") {
           o.target = target_kind::dramatiq;
         } else {
           throw usage_error("expected model or dramatiq");
         }
       }},
      {"--dramatiq",
       [](options& o, std::string_view v) {
         const auto [name, dir] =
             named_value(o, v, "NAME=DIR, e.g. --dramatiq=fixed=/src/dramatiq");
         o.dramatiq.push_back({std::string(name), std::string(dir), {}});
       }},
      {"--variant",
       [](options& o, std::string_view v) {
         const auto [name, paths] =
             named_value(o, v, "NAME=PATH[:PATH...], e.g. --variant=pr=../shop-pr");
         o.dramatiq.push_back({std::string(name), "", split(paths, ':')});
         if (o.dramatiq.back().paths.empty()) throw usage_error("needs at least one path");
       }},
      {"--app",
       [](options& o, std::string_view v) {
         if (v.empty() || v.front() == ',' || v.back() == ',') {
           throw usage_error(
               "expected what `dramatiq` takes: module, module:broker or module:callable, then "
               "extra modules, comma-separated, e.g. --app=shop.tasks");
         }
         o.app = std::string(v);
       }},
      {"--message",
       [](options& o, std::string_view v) { o.messages.push_back(parse_message(o, v)); }},
      {"--ignore_threads",
       [](options& o, std::string_view v) {
         o.ignore_threads = split(v, ',');
         if (o.ignore_threads.empty()) throw usage_error("expected NAME[,NAME...]");
       }},
      {"--python",
       [](options& o, std::string_view v) {
         if (v.empty()) throw usage_error("needs an interpreter, e.g. /usr/bin/python3");
         o.python = std::string(v);
       }},
      {"--worker_timeout_ms",
       [](options& o, std::string_view v) {
         o.worker_timeout = std::chrono::milliseconds(parse_count(v, 10, 60'000));
       }},
      {"--console",
       [](options& o, std::string_view v) {
         if (v != "leakbench" && v != "gbench") throw usage_error("expected leakbench or gbench");
         o.console = v;
       }},
      {"--attempt_timeout",
       [](options& o, std::string_view v) {
         o.attempt_timeout = std::chrono::seconds(parse_count(v, 1, 86'400));
       }},
      {"--payload",
       [](options& o, std::string_view v) {
         o.scenario.payload = static_cast<std::size_t>(parse_size(v));
       }},
      {"--retries",
       [](options& o, std::string_view v) { o.retries = parse_count(v, 1, 1'000'000); }},
      {"--warmup", [](options& o, std::string_view v) { o.warmup = parse_count(v, 0, 1'000'000); }},
      {"--concurrency",
       [](options& o, std::string_view v) { o.scenario.concurrency = parse_count(v, 1, 256); }},
      {"--depth",
       [](options& o, std::string_view v) { o.scenario.depth = parse_count(v, 1, 10'000); }},
      {"--gc",
       [](options& o, std::string_view v) {
         o.python_gc = v == "python";
         o.gc = o.python_gc ? runtime::gc_policy{} : runtime::gc_policy::parse(v);
       }},
      {"--broker",
       [](options& o, std::string_view v) {
         if (v == "memory") {
           o.broker = v;
           o.broker_url.clear();
           o.redis.reset();
         } else if (brokers::redis_url::has_scheme(v)) {
           o.redis = brokers::redis_url::parse(v);
           o.broker = o.redis->describe();
           o.broker_url = v;
         } else {
           throw usage_error(fmt::format("expected memory, {}", k_redis_urls));
         }
       }},
      {"--redis_cleanup",
       [](options& o, std::string_view v) {
         if (!brokers::redis_url::has_scheme(v)) {
           throw usage_error(fmt::format("expected {}", k_redis_urls));
         }
         o.redis_cleanup = brokers::redis_url::parse(v);
       }},
      {"--max_rss",
       [](options& o, std::string_view v) {
         o.max_rss = parse_size(v);
         if (o.max_rss == 0) {
           throw std::invalid_argument("must be above 0 (leave the flag out for the default)");
         }
       }},
      {"--series_out",
       [](options& o, std::string_view v) {
         if (v.empty()) throw usage_error("needs a directory");
         o.series_out = std::filesystem::path(v);
       }},
      {"--sample_interval_ms",
       [](options& o, std::string_view v) {
         o.sample_interval = std::chrono::milliseconds(parse_count(v, 1, 60'000));
       }},
      {"--inject_leak",
       [](options& o, std::string_view v) {
         const auto n = static_cast<std::size_t>(parse_size(v));
         if (n != 0 && n < middleware::inject_leak::k_min_size) {
           throw usage_error(fmt::format("an injected leak needs 0 (off) or at least {} bytes",
                                         middleware::inject_leak::k_min_size));
         }
         o.inject_leak = n;
       }},
  };
  return f;
}

/// A value to show with `name` in a message.
std::string_view help_example(std::string_view name) {
  static const std::vector<std::pair<std::string_view, std::string_view>> examples = {
      {"--payload", "--payload=8MiB"},
      {"--retries", "--retries=16"},
      {"--warmup", "--warmup=2"},
      {"--concurrency", "--concurrency=5"},
      {"--depth", "--depth=3"},
      {"--gc", "--gc=every:5"},
      {"--broker", "--broker=redis://127.0.0.1:6379"},
      {"--redis_cleanup", "--redis_cleanup=redis://127.0.0.1:6379"},
      {"--max_rss", "--max_rss=4GiB"},
      {"--series_out", "--series_out=series"},
      {"--sample_interval_ms", "--sample_interval_ms=10"},
      {"--inject_leak", "--inject_leak=64KiB"},
      {"--attempt_timeout", "--attempt_timeout=120"},
      {"--target", "--target=dramatiq"},
      {"--dramatiq", "--dramatiq=fixed=/src/dramatiq"},
      {"--variant", "--variant=pr=../shop-pr"},
      {"--app", "--app=shop.tasks"},
      {"--message", "--message=render_invoice:[17]"},
      {"--ignore_threads", "--ignore_threads=profiler"},
      {"--python", "--python=/usr/bin/python3"},
      {"--worker_timeout_ms", "--worker_timeout_ms=100"},
      {"--console", "--console=gbench"}};
  for (const auto& [flag, example] : examples) {
    if (flag == name) return example;
  }
  return name;
}

std::string flag_list() {
  std::string names;
  for (const auto& f : flags()) names += fmt::format(" {}", f.name);
  return names;
}

/// The flags that only one target understands.
void check_target(options& o) {
  const bool real = o.target == target_kind::dramatiq;
  const auto given = [&](std::string_view flag) {
    return std::any_of(o.given.begin(), o.given.end(),
                       [&](const std::string& a) { return std::string_view(a).starts_with(flag); });
  };
  if (!real) {
    if (o.python_gc) {
      throw usage_error(
          "--gc=python: CPython's own collector runs only in a real worker (--target=dramatiq); "
          "the model's is off or every:N");
    }
    for (std::string_view flag : {"--dramatiq", "--python", "--worker_timeout_ms", "--variant",
                                  "--app", "--message", "--ignore_threads"}) {
      if (given(std::string(flag) + "=")) {
        throw usage_error(fmt::format("{}: only with --target=dramatiq", flag));
      }
    }
    return;
  }
  if (given("--broker=") && !o.redis) {
    throw usage_error(
        "--broker=memory: a real worker needs Redis: give --broker=redis://... or unix://..., or "
        "leave --broker out for a private redis-server");
  }
  if (o.inject_leak > 0) {
    throw usage_error(
        "--inject_leak: only with --target=model (a real worker is not ours to change)");
  }
  if (!o.messages.empty() && !o.app) {
    throw usage_error("--message: only with --app (the message goes to one of the app's actors)");
  }
  if (o.app && given("--broker=")) {
    throw usage_error("--broker: not with --app: the app's own broker is the one measured");
  }
  if (o.dramatiq.empty()) o.dramatiq.push_back({"installed", "", {}});
  if (o.app) {
    o.broker = "the app's";
  } else if (o.broker == "memory") {
    o.broker = "private redis-server";
  }
}

}  // namespace

std::int64_t parse_size(std::string_view text) {
  std::uint64_t n = 0;
  try {
    n = reports::parse_size(text);  // the one size syntax of every leakbench tool
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  if (n > (std::uint64_t{1} << 62)) {
    throw usage_error(fmt::format("'{}' is too large: leakbench's sizes stop at 4 EiB", text));
  }
  return static_cast<std::int64_t>(n);
}

std::string format_size(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = bytes;
  while (std::abs(v) >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", v) : fmt::format("{:.1f} {}", v, units[u]);
}

std::int64_t default_max_rss() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::int64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return measure::current_rss() + kib * 1024 / 4 * 3;
  }
  return measure::current_rss() + (std::int64_t{4} << 30);  // no MemAvailable: a modest 4 GiB
}

options parse_options(const std::vector<std::string_view>& args) {
  options o;
  bool warmup_given = false;
  for (std::string_view arg : args) {
    const auto eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : arg.substr(eq + 1);
    const auto& all = flags();
    const auto it =
        std::find_if(all.begin(), all.end(), [&](const flag& f) { return f.name == name; });
    if (it != all.end() && eq == std::string_view::npos) {
      throw usage_error(fmt::format("{} takes its value after '=', not a space: e.g. {}", name,
                                    help_example(name)));
    }
    if (it == all.end()) {
      throw usage_error(
          fmt::format("unknown argument '{}'; valid flags:{} (as --name=value) and "
                      "Google Benchmark's --benchmark_* (see --help)",
                      arg, flag_list()));
    }
    try {
      it->set(o, value);
    } catch (const std::exception& e) {
      // A URL's password never reaches a terminal or a CI log.
      throw usage_error(fmt::format("{}={}: {}", name, brokers::redis_url::mask(value), e.what()));
    }
    warmup_given = warmup_given || name == "--warmup";
    o.given.emplace_back(arg);
  }
  // A trend with a confidence interval needs three points after the warm-up.
  if (o.retries < 3) {
    throw usage_error(fmt::format(
        "--retries={}: a slope with a 95% interval needs at least 3 fitted retries; give "
        "--retries=3 or more",
        o.retries));
  }
  if (warmup_given && o.retries < o.warmup + 3) {
    throw usage_error(fmt::format(
        "--retries={} with --warmup={}: the fit needs at least 3 retries after the warm-up; "
        "give --retries={} or more, or a smaller --warmup",
        o.retries, o.warmup, o.warmup + 3));
  }
  if (!warmup_given && o.retries < o.warmup + 3) {
    const std::size_t fits = o.retries - 3;
    o.notes.push_back(fmt::format(
        "--retries={} leaves room for a warm-up of {} {}, not the default {} (--warmup sets it)",
        o.retries, fits, fits == 1 ? "retry" : "retries", o.warmup));
    o.warmup = fits;
  }
  check_target(o);
  if (o.max_rss == 0) {
    o.max_rss = default_max_rss();
  } else if (const auto now = measure::current_rss(); o.max_rss <= now) {
    const auto given = std::find_if(o.given.rbegin(), o.given.rend(), [](const std::string& a) {
      return a.starts_with("--max_rss=");
    });
    throw usage_error(fmt::format("{}: below the {} leakbench itself runs with; no retry could run",
                                  given != o.given.rend() ? *given : "--max_rss",
                                  format_size(static_cast<double>(now))));
  }
  return o;
}

std::string options_help() {
  return R"(
leakbench flags:
  --payload=SIZE          payload P per actor allocation (default 32MiB); every SIZE is a whole
                          number of bytes: 512, 64KiB, 1.5MiB, 1 GiB (B, KiB, MiB, GiB, TiB)
  --retries=N             retries (iterations) per benchmark; Concurrent: rounds; 3 to 1000000,
                          at least 3 more than the warm-up (default 20)
  --warmup=N              leading retries left out of the trend fit, 0 to 1000000 (default 2;
                          fewer when --retries leaves no room, said on stderr)
  --concurrency=K         messages in flight at once for Concurrent, 1 to 256 (default 5)
  --depth=D               awaited call depth for DeepTraceback, 1 to 10000 (default 3)
  --gc=off|every:N        cycle collector: never during a run, or every N attempts (default off)
  --broker=memory|URL     message broker: memory, or a Redis server at
                          redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N]
                          (unix://[[user]:password@]/path[?db=N]; percent-encode @ : / in a
                          password; each benchmark uses its own key prefix and removes it;
                          default memory)
  --redis_cleanup=URL     remove the keys of leakbench runs on URL whose newest heartbeat
                          (leakbench's or its Dramatiq workers') is older than 10 s (what a
                          killed run leaves), then exit; runs nothing
  --max_rss=SIZE          stop a benchmark before an attempt could pass this RSS
                          (default: current RSS + 3/4 of MemAvailable)
  --series_out=DIR        write each benchmark's samples to DIR/<Scenario>_<variant>.csv
  --sample_interval_ms=N  background sampler interval for --series_out, 1 to 60000 (default 10)
  --inject_leak=SIZE      every attempt also keeps SIZE bytes until its worker stops, in both
                          variants: a leak of known size, to prove a gate catches it (default 0)
  --attempt_timeout=S     fail a benchmark whose attempt (round) takes longer (default 120)
  --console=leakbench|gbench  the console: leakbench's rows (default), or Google Benchmark's
                          (--benchmark_counters_tabular applies to it)
  --target=model|dramatiq the C++ model (default), or real Dramatiq worker processes driven over
                          Redis and measured from outside (docs/dramatiq.md)
  --dramatiq=NAME=DIR     a real worker variant NAME importing dramatiq from DIR; repeatable
                          (default: one variant, installed, with whatever Python imports)
  --variant=NAME=PATH[:PATH...]  a real worker variant NAME whose worker has these paths first
                          on PYTHONPATH (an app's checkout, a Dramatiq's); repeatable
  --app=SPEC              a team's own Dramatiq app, as `dramatiq SPEC` takes it (module,
                          module:broker, module:callable, extra modules after commas): its broker,
                          its middleware, the scenarios' actors beside its own (docs/your-app.md)
  --message=ACTOR[:JSON]  with --app: a benchmark sending the app's ACTOR these arguments (a
                          JSON array, or {"args": [...], "kwargs": {...}}) every retry; repeatable
  --ignore_threads=NAME[,NAME...]  threads of a real worker never waited on to fall asleep
                          (an app's busy pollers; /proc/PID/task/*/comm names)
  --python=PATH           the real worker's interpreter (default: the first of python3 on PATH
                          and /usr/bin/python3 that imports redis, and dramatiq if needed)
  --worker_timeout_ms=N   Dramatiq's worker_timeout for real workers (default 1000)
  --gc=python             (real workers) CPython's own collector, as in production
Exit codes: 0 ok, 1 a benchmark failed, 2 bad flags, 3 the broker cannot be used (its line
names why: unreachable, authentication refused, out of memory, killed connection; for real
workers also no redis-server), 4 a real worker cannot start (no interpreter, no redis or dramatiq
module, no package in a --dramatiq folder), 5 an output could not be written (the previous file
is kept), 130/143 stopped by SIGINT/SIGTERM (what finished is in the output; a second signal
exits at once).
)";
}

}  // namespace leakbench::bench
