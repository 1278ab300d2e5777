#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

#include "harness/runtime/event_loop.hpp"

namespace leakbench::runtime {

/// A plain actor: runs on the worker thread.
using sync_fn = std::function<value(attempt_context&)>;

/// The actors a worker can run, by name.
class actor_registry {
 public:
  using actor = std::variant<sync_fn, coroutine_fn>;

  /// Registers a plain actor; throws std::invalid_argument if the name is taken.
  void add(std::string name, sync_fn fn) { insert(std::move(name), std::move(fn)); }
  /// Registers a coroutine actor, run on the AsyncIO middleware's event loop.
  void add_coroutine(std::string name, coroutine_fn fn) { insert(std::move(name), std::move(fn)); }
  /// The actor, or nullptr.
  const actor* find(std::string_view name) const {
    auto it = actors_.find(name);
    return it == actors_.end() ? nullptr : &it->second;
  }

 private:
  void insert(std::string name, actor a) {
    if (!actors_.emplace(name, std::move(a)).second) {
      throw std::invalid_argument("actor '" + name + "' is already registered");
    }
  }
  std::map<std::string, actor, std::less<>> actors_;
};

}  // namespace leakbench::runtime
