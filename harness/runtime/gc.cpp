#include "harness/runtime/gc.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <unordered_map>

#include "harness/measure/heap.hpp"

namespace leakbench::runtime {

gc_policy gc_policy::parse(std::string_view text) {
  if (text == "off") return {};
  constexpr std::string_view prefix = "every:";
  if (text.starts_with(prefix)) {
    const std::string_view digits = text.substr(prefix.size());
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec == std::errc{} && end == digits.data() + digits.size() && n >= 1) return {n};
  }
  throw std::invalid_argument("invalid gc policy '" + std::string(text) +
                              "': expected off or every:N with N >= 1");
}

std::string gc_policy::to_string() const {
  return every == 0 ? "off" : "every:" + std::to_string(every);
}

collector::collector(gc_policy policy) : policy_(policy) {}

collector::~collector() { collect(); }

void collector::adopt(std::vector<std::weak_ptr<gc_object>> objects) {
  std::lock_guard lock(mutex_);
  for (auto& o : objects) {
    if (!o.expired()) {
      finished_.push_front(std::move(o));
      ++pending_;
    }
  }
  ++since_last_;
  if (policy_.every != 0 && since_last_ >= policy_.every) collect_locked();
}

gc_stats collector::collect() {
  std::lock_guard lock(mutex_);
  return collect_locked();
}

gc_stats collector::collect_locked() {
  std::vector<retention> found;
  gc_stats stats = collect_pass(found);
  total_collected_ += stats.collected;
  for (auto& f : found) {
    auto it = std::find_if(retained_.begin(), retained_.end(),
                           [&](const retention& r) { return r.path == f.path; });
    if (it == retained_.end()) {
      retained_.push_back(std::move(f));
      continue;
    }
    it->exceptions += f.exceptions;
    it->bytes += f.bytes;
    it->path_bytes += f.path_bytes;
  }
  return stats;
}

std::vector<retention> collector::retained() const {
  std::lock_guard lock(mutex_);
  auto r = retained_;
  std::stable_sort(r.begin(), r.end(), [](const retention& a, const retention& b) {
    return a.exceptions > b.exceptions;
  });
  return r;
}

gc_stats collector::collect_pass(std::vector<retention>& found) {
  since_last_ = 0;
  ++collections_;
  // Lock every candidate: while `live` holds them, clearing one cannot free another mid-pass.
  std::vector<std::shared_ptr<gc_object>> live;
  live.reserve(pending_);
  for (auto& w : finished_) {
    if (auto p = w.lock()) live.push_back(std::move(p));
  }

  std::unordered_map<const gc_object*, std::size_t> index;
  index.reserve(live.size());
  for (std::size_t i = 0; i < live.size(); ++i) index.emplace(live[i].get(), i);

  // gc_refs: strong references from outside the candidate set (our own lock excluded).
  std::vector<long> gc_refs(live.size());
  for (std::size_t i = 0; i < live.size(); ++i) gc_refs[i] = live[i].use_count() - 1;
  for (const auto& obj : live) {
    obj->traverse([&](const gc_object* target) {
      if (auto it = index.find(target); it != index.end()) --gc_refs[it->second];
    });
  }
  // Everything reachable from an externally referenced candidate survives.
  std::vector<bool> reachable(live.size(), false);
  std::vector<std::size_t> work;
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (gc_refs[i] > 0) {
      reachable[i] = true;
      work.push_back(i);
    }
  }
  while (!work.empty()) {
    const std::size_t i = work.back();
    work.pop_back();
    live[i]->traverse([&](const gc_object* target) {
      if (auto it = index.find(target); it != index.end() && !reachable[it->second]) {
        reachable[it->second] = true;
        work.push_back(it->second);
      }
    });
  }
  // Before anything is cleared: what the garbage holds, named by its real references.
  found = name_retention(live, [&](const gc_object* o) -> std::optional<std::size_t> {
    auto it = index.find(o);
    if (it == index.end() || reachable[it->second]) return std::nullopt;
    return it->second;
  });

  // Measured from here: what clearing frees, the collector's own node of each freed object
  // included, and none of the pass's scratch memory (allocated above, freed on return).
  const std::int64_t heap_before = measure::new_heap().bytes;
  finished_.clear();
  pending_ = 0;
  gc_stats stats{live.size(), 0, 0};
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (reachable[i]) {
      finished_.push_front(live[i]);  // survivors wait for a later collection
      ++pending_;
    } else {
      live[i]->clear();
      ++stats.collected;
    }
  }
  for (auto& p : live) p.reset();  // the cleared cycles are now plain garbage: this frees them
  stats.freed_bytes = heap_before - measure::new_heap().bytes;
  return stats;
}

std::size_t collector::pending() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

std::size_t collector::collections() const {
  std::lock_guard lock(mutex_);
  return collections_;
}

std::size_t collector::total_collected() const {
  std::lock_guard lock(mutex_);
  return total_collected_;
}

}  // namespace leakbench::runtime
