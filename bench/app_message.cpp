#include "bench/app_message.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace leakbench::bench {
namespace {

/// An app's message: what it holds is the app's business, so nothing is expected of it but
/// to retain nothing, and the memory ceiling cannot check an attempt ahead.
class app_message_scenario final : public scenarios::scenario {
 public:
  std::int64_t expected_leaky(const scenarios::config&) const override { return 0; }
  std::int64_t allocated_per_iteration(const scenarios::config&) const override { return 0; }
  void define(runtime::actor_registry&, const std::string& name,
              const scenarios::config&) const override {
    // An invariant: --message needs --app, which needs a real worker; the model never sees it.
    std::fprintf(stderr, "leakbench: the model cannot run the app's message %s\n", name.c_str());
    std::abort();
  }
};

}  // namespace

void rename_clashing_messages(options& opts) {
  const auto scenarios = scenarios::all();
  const auto taken = [&](const std::string& name) {
    return std::any_of(scenarios.begin(), scenarios.end(),
                       [&](const scenarios::entry& e) { return e.name == name; }) ||
           std::count_if(opts.messages.begin(), opts.messages.end(),
                         [&](const app_message& m) { return m.name == name; }) > 1;
  };
  for (auto& m : opts.messages) {
    for (int n = 2; taken(m.name); ++n) m.name = fmt::format("{}#{}", m.actor, n);
  }
}

std::vector<scenarios::entry> message_entries(const options& opts) {
  std::vector<scenarios::entry> out;
  int order = 1000;  // after every scenario
  for (const auto& m : opts.messages) {
    out.push_back({m.name, order++, [] {
                     return std::unique_ptr<scenarios::scenario>(
                         std::make_unique<app_message_scenario>());
                   }});
  }
  return out;
}

}  // namespace leakbench::bench
