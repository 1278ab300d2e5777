// Not leakbench: a Google Benchmark program of some other project that reports its own memory
// counter. Its JSON shows that leakgate gates any benchmark carrying the counters a rule names.
#include <benchmark/benchmark.h>

#include <array>
#include <deque>

namespace {

using entry = std::array<char, 1024>;

// Bytes the cache holds at the end, per iteration: what it kept of each request.
void report(benchmark::State& state, const std::deque<entry>& cache) {
  state.counters["retained_per_iteration"] = benchmark::Counter(
      static_cast<double>(cache.size() * sizeof(entry)) / static_cast<double>(state.iterations()),
      benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
}

void cache_bounded(benchmark::State& state) {
  std::deque<entry> cache;
  for (auto _ : state) {
    cache.emplace_back();
    if (cache.size() > 16) cache.pop_front();
  }
  report(state, cache);
}
BENCHMARK(cache_bounded)->Iterations(1000);

void cache_unbounded(benchmark::State& state) {
  std::deque<entry> cache;
  for (auto _ : state) cache.emplace_back();
  report(state, cache);
}
BENCHMARK(cache_unbounded)->Iterations(1000);

}  // namespace

BENCHMARK_MAIN();
