#include "bench/options.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>

#include "harness/measure/rss.hpp"
#include "harness/middleware/inject_leak.hpp"

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

struct flag {
  std::string_view name;
  std::function<void(options&, std::string_view)> set;
};

// In --help order. A setter throws any std::exception for a bad value.
const std::vector<flag>& flags() {
  static const std::vector<flag> f = {
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
      {"--gc", [](options& o, std::string_view v) { o.gc = runtime::gc_policy::parse(v); }},
      {"--broker",
       [](options& o, std::string_view v) {
         if (v == "memory") {
           o.broker = v;
           o.redis.reset();
         } else if (brokers::redis_url::has_scheme(v)) {
           o.redis = brokers::redis_url::parse(v);
           o.broker = o.redis->describe();
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

std::string flag_list() {
  std::string names;
  for (const auto& f : flags()) names += fmt::format(" {}", f.name);
  return names;
}

}  // namespace

std::int64_t parse_size(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end == text.data()) {
    throw usage_error(
        fmt::format("'{}' is not a size: expected e.g. 32MiB (B, KiB, MiB, GiB)", text));
  }
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "KiB") shift = 10;
  if (unit == "MiB") shift = 20;
  if (unit == "GiB") shift = 30;
  if (shift < 0) {
    throw usage_error(
        fmt::format("'{}' has an unknown unit '{}': use B, KiB, MiB or GiB", text, unit));
  }
  if (n > (std::uint64_t{1} << (62 - shift)))
    throw usage_error(fmt::format("'{}' is too large", text));
  return static_cast<std::int64_t>(n << shift);
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
    if (it == all.end() || eq == std::string_view::npos) {
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
  }
  // A trend with a confidence interval needs three points after the warm-up.
  if (!warmup_given && o.retries < o.warmup + 3) o.warmup = o.retries >= 3 ? o.retries - 3 : 0;
  if (o.retries < o.warmup + 3) {
    throw usage_error(
        fmt::format("--retries={} with --warmup={}: the fit needs at least 3 "
                    "retries after the warm-up",
                    o.retries, o.warmup));
  }
  if (o.max_rss == 0) o.max_rss = default_max_rss();
  return o;
}

std::string options_help() {
  return R"(
leakbench flags:
  --payload=SIZE          payload P per actor allocation (B, KiB, MiB, GiB; default 32MiB)
  --retries=N             retries (iterations) per benchmark; Concurrent: rounds (default 20)
  --warmup=N              leading retries left out of the trend fit (default 2)
  --concurrency=K         messages in flight at once for Concurrent (default 5)
  --depth=D               awaited call depth for DeepTraceback (default 3)
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
  --sample_interval_ms=N  background sampler interval for --series_out (default 10)
  --inject_leak=SIZE      every attempt also keeps SIZE bytes until its worker stops, in both
                          variants: a leak of known size, to prove a gate catches it (default 0)
Exit codes: 0 ok, 1 a benchmark failed, 2 bad flags, 3 the broker cannot be used (its line
names why: unreachable, authentication refused, out of memory, killed connection), 130/143
stopped by SIGINT/SIGTERM (what finished is in the output; a second signal exits at once).
)";
}

}  // namespace leakbench::bench
