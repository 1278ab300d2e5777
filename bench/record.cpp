#include "bench/record.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace leakbench::bench {
namespace {

using json = nlohmann::json;

json samples_to_json(const std::vector<measure::sample>& v) {
  json out = json::array();
  for (const auto& s : v) out.push_back({s.time.count(), s.rss, s.heap, s.malloc_heap});
  return out;
}

std::vector<measure::sample> samples_from_json(const json& j) {
  std::vector<measure::sample> out;
  out.reserve(j.size());
  for (const auto& s : j) {
    out.push_back({std::chrono::nanoseconds(s.at(0).get<std::int64_t>()),
                   s.at(1).get<std::int64_t>(), s.at(2).get<std::int64_t>(),
                   s.at(3).get<std::int64_t>()});
  }
  return out;
}

}  // namespace

void run_record::reserve(std::size_t retries) {
  points.resize(retries + 1);  // touched now, not one sample per retry later
  points.clear();
  retry_seconds.resize(retries);
  retry_seconds.clear();
}

std::int64_t run_record::highest_sampled_rss() const {
  std::int64_t peak = 0;
  for (const auto* v : {&points, &background}) {
    for (const auto& s : *v) peak = std::max(peak, s.rss);
  }
  return peak;
}

std::string encode_record(const run_record& r) {
  json retained = json::array();
  for (const auto& k : r.retained) {
    retained.push_back({{"path", k.path},
                        {"exceptions", k.exceptions},
                        {"bytes", k.bytes},
                        {"path_bytes", k.path_bytes}});
  }
  json j = {{"points", samples_to_json(r.points)},
            {"background", samples_to_json(r.background)},
            {"retry_seconds", r.retry_seconds},
            {"harness_seconds", r.harness_seconds},
            {"done", r.done},
            {"ceiling_hit", r.ceiling_hit},
            {"has_heap", r.has_heap},
            {"reclaimed", r.reclaimed},
            {"retained", retained},
            {"peak_rss", r.peak_rss}};
  if (r.failure) j["failure"] = *r.failure;
  return j.dump();
}

run_record decode_record(const std::string& text) {
  try {
    const json j = json::parse(text);
    run_record r;
    r.points = samples_from_json(j.at("points"));
    r.background = samples_from_json(j.at("background"));
    r.retry_seconds = j.at("retry_seconds").get<std::vector<double>>();
    r.harness_seconds = j.at("harness_seconds").get<double>();
    r.done = j.at("done").get<std::size_t>();
    r.ceiling_hit = j.at("ceiling_hit").get<bool>();
    r.has_heap = j.at("has_heap").get<bool>();
    r.reclaimed = j.at("reclaimed").get<std::int64_t>();
    for (const auto& k : j.at("retained")) {
      r.retained.push_back({k.at("path").get<std::string>(), k.at("exceptions").get<std::size_t>(),
                            k.at("bytes").get<std::int64_t>(),
                            k.at("path_bytes").get<std::int64_t>()});
    }
    r.peak_rss = j.at("peak_rss").get<std::int64_t>();
    if (j.contains("failure")) r.failure = j.at("failure").get<std::string>();
    return r;
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("unreadable benchmark record: ") + e.what());
  }
}

}  // namespace leakbench::bench
