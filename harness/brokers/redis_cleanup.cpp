// --redis_cleanup: the keys of leakbench runs that died without removing them.
#include "harness/brokers/redis_broker.hpp"

#include <map>

#include "harness/brokers/redis_scripts.hpp"

namespace leakbench::brokers {

std::vector<prefix_cleanup> redis_broker::remove_dead_prefixes(const redis_url& url,
                                                               const redis_options& opts) {
  redis_connection c(url, opts.timeouts);
  // leakbench's prefixes: "leakbench:" and 16 hex digits (random_hex()).
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
  const long long now = c.command({"EVAL", scripts::k_time, "0"}).integer;
  std::vector<prefix_cleanup> out;
  for (const auto& [prefix, keys] : prefixes) {
    prefix_cleanup r{prefix, keys, std::nullopt, false};
    const auto newest =
        c.command({"ZREVRANGE", prefix + ":heartbeats", "0", "0", "WITHSCORES"}).elements;
    if (newest.size() == 2)
      r.silent_for = std::chrono::milliseconds(now - std::stoll(newest[1].str));
    if (!r.silent_for || *r.silent_for > opts.dead_after) {
      r.keys = unlink_matching(c, prefix + ":*");
      r.removed = true;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace leakbench::brokers
