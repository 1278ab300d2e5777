// What one sample costs: leakbench takes one per retry and the sampler one per interval.
#include <fcntl.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <memory>

#include "harness/measure/heap.hpp"
#include "harness/measure/rss.hpp"
#include "harness/measure/settle.hpp"

namespace lm = leakbench::measure;

static void rss_kept_descriptor(benchmark::State& state) {
  const lm::rss_reader reader;
  for (auto _ : state) benchmark::DoNotOptimize(reader.current());
}
BENCHMARK(rss_kept_descriptor);

// The naive way, for comparison: what the kept descriptor saves.
static void rss_open_read_close(benchmark::State& state) {
  char buf[128];
  for (auto _ : state) {
    int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    benchmark::DoNotOptimize(::read(fd, buf, sizeof buf));
    ::close(fd);
  }
}
BENCHMARK(rss_open_read_close);

static void rss_peak(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(lm::peak_rss());
}
BENCHMARK(rss_peak);

static void heap_new_counters(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(lm::new_heap());
}
BENCHMARK(heap_new_counters);

static void heap_mallinfo2(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(lm::malloc_heap());
}
BENCHMARK(heap_mallinfo2);

// settle with a heap that holds some free chunks, as after a retry.
static void settle_trim(benchmark::State& state) {
  for (auto _ : state) {
    state.PauseTiming();
    {
      auto churn = std::make_unique<char[]>(4 << 20);
      benchmark::DoNotOptimize(churn.get());
    }
    state.ResumeTiming();
    lm::settle(lm::settle_mode::trim);
  }
}
BENCHMARK(settle_trim)->Unit(benchmark::kMicrosecond);

// Counting operator new against the process's malloc: the counters' own overhead.
static void new_delete_64(benchmark::State& state) {
  for (auto _ : state) {
    auto* p = new char[64];
    benchmark::DoNotOptimize(p);
    delete[] p;
  }
}
BENCHMARK(new_delete_64);
BENCHMARK(new_delete_64)->Threads(2);

BENCHMARK_MAIN();
