#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/runtime/actor.hpp"

namespace leakbench::scenarios {

/// The knobs every scenario reads.
struct config {
  std::size_t payload = std::size_t{32} << 20;  ///< P, bytes
  std::size_t concurrency = 5;                  ///< K, for Concurrent
  std::size_t depth = 3;                        ///< D, for DeepTraceback
};

/// One way a failing (or succeeding) actor can hold memory. One benchmark iteration is one
/// retry of its messages (one round of all of them when there are several).
class scenario {
 public:
  virtual ~scenario() = default;
  /// Bytes the leaky variant retains per iteration (the fixed one: 0). Default: P.
  virtual std::int64_t expected_leaky(const config& c) const {
    return static_cast<std::int64_t>(c.payload);
  }
  /// Payload bytes one iteration allocates, retained or not: what the memory ceiling checks.
  /// Default: what leaky retains, and at least P.
  virtual std::int64_t allocated_per_iteration(const config& c) const {
    return std::max(expected_leaky(c), static_cast<std::int64_t>(c.payload));
  }
  /// Messages per iteration, all in flight at once; the worker gets as many threads.
  virtual std::size_t messages(const config&) const { return 1; }
  /// True if the actor fails, so that retries drive the iterations; false: each iteration
  /// enqueues fresh messages.
  virtual bool fails() const { return true; }
  /// Registers the scenario's actor as `name`.
  virtual void define(runtime::actor_registry& actors, const std::string& name,
                      const config& c) const = 0;
};

/// A registered scenario.
struct entry {
  std::string name;  ///< as in benchmark names: `Nested`
  int order;         ///< position in listings and runs
  std::function<std::unique_ptr<scenario>()> make;
};

/// Every registered scenario, in `order`.
std::vector<entry> all();

/// Adds a scenario; called at namespace scope through LEAKBENCH_SCENARIO.
struct registrar {
  registrar(std::string name, int order, std::function<std::unique_ptr<scenario>()> make);
};

}  // namespace leakbench::scenarios

/// Registers scenario class `type` as `name`, listed at position `order`.
#define LEAKBENCH_SCENARIO(type, name, order)                                                      \
  static const ::leakbench::scenarios::registrar leakbench_registrar_##type {                      \
    name, order,                                                                                   \
        [] { return std::unique_ptr<::leakbench::scenarios::scenario>(std::make_unique<type>()); } \
  }
