// --redis_cleanup: the keys of leakbench runs that died without removing them.
#include <cmath>
#include <map>
#include <optional>

#include "harness/brokers/redis_broker.hpp"

namespace leakbench::brokers {
namespace {

/// The highest score in the sorted set `key`, if it has one.
std::optional<long long> newest(redis_connection& c, const std::string& key) {
  const auto top = c.command({"ZREVRANGE", key, "0", "0", "WITHSCORES"}).elements;
  if (top.size() != 2) return std::nullopt;
  return std::llround(std::stod(top[1].str));
}

std::vector<prefix_cleanup> scan_and_remove(redis_connection& c,
                                            std::chrono::milliseconds dead_after) {
  // leakbench's prefixes: "leakbench:" and 16 hex digits (random_hex()); a Dramatiq worker run
  // by leakbench has one of them as its namespace.
  std::map<std::string, std::size_t> prefixes;
  std::string cursor = "0";
  do {
    const auto page = c.command({"SCAN", cursor, "MATCH", "leakbench:*", "COUNT", "500"});
    cursor = page.elements.at(0).str;
    for (const auto& k : page.elements.at(1).elements) {
      const std::string_view name = k.str;
      const auto end = name.find(':', std::string_view("leakbench:").size());
      if (end == std::string_view::npos) continue;
      ++prefixes[std::string(name.substr(0, end))];
    }
  } while (cursor != "0");
  // The server's clock, not ours: leakbench's heartbeats are scored by it, and a Dramatiq
  // worker scores its own by its host's wall clock (int(time.time() * 1000)), which for a
  // worker beside the server is the server's. One reference for both kinds, whatever the
  // clock of the machine this cleanup runs on.
  const auto time = c.command({"TIME"}).elements;
  const long long now = std::stoll(time.at(0).str) * 1000 + std::stoll(time.at(1).str) / 1000;
  std::vector<prefix_cleanup> out;
  for (const auto& [prefix, keys] : prefixes) {
    prefix_cleanup r{prefix, keys, std::nullopt, false};
    // The newest heartbeat of either kind: leakbench's brokers, or Dramatiq's workers.
    auto last = newest(c, prefix + ":heartbeats");
    if (const auto dramatiq = newest(c, prefix + ":__heartbeats__")) {
      last = std::max(last.value_or(*dramatiq), *dramatiq);
    }
    if (last) r.silent_for = std::chrono::milliseconds(now - *last);
    if (!r.silent_for || *r.silent_for > dead_after) {
      r.keys = unlink_matching(c, prefix + ":*");
      r.removed = true;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<prefix_cleanup> redis_broker::remove_dead_prefixes(const redis_url& url,
                                                               const redis_options& opts) {
  redis_connection c(url, opts.timeouts);
  // A scan and removals: all safe to repeat on a fresh connection.
  return retry_once(c, [&](redis_connection& r) { return scan_and_remove(r, opts.dead_after); });
}

}  // namespace leakbench::brokers
