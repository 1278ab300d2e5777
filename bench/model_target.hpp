#pragma once

#include <string_view>
#include <vector>

#include "bench/target.hpp"

namespace leakbench::bench {

/// The C++ model of the worker, each benchmark in a fresh child leakbench (so that no
/// benchmark inherits the allocator state an earlier one left), with the allocator tuned so
/// that RSS follows what is held (docs/counters.md).
class model_target final : public target {
 public:
  std::vector<std::string> variants() const override { return {"leaky", "fixed"}; }
  run_record run(const scenarios::entry& scenario, const std::string& variant,
                 const options& opts) override;
};

/// The hidden flag that makes leakbench a benchmark's child: `--leakbench_child=Nested/fixed`.
inline constexpr std::string_view k_child_flag = "--leakbench_child=";

/// The descriptor a child writes its record to.
inline constexpr int k_record_fd = 3;

/// A child leakbench's main: runs `benchmark` (Scenario/variant) with `args` (leakbench's own
/// flags) and writes its record to k_record_fd. Returns the exit code.
int child_main(std::string_view benchmark, const std::vector<std::string_view>& args);

/// The allocator settings of a model benchmark's process, as GLIBC_TUNABLES spells them.
std::string model_malloc_tuning();

}  // namespace leakbench::bench
