#include "scenarios/scenario.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace leakbench::scenarios {
namespace {

// A function-local static: registrars in other translation units may run first.
std::vector<entry>& entries() {
  static std::vector<entry> e;
  return e;
}

}  // namespace

registrar::registrar(std::string name, int order, std::function<std::unique_ptr<scenario>()> make) {
  for (const auto& e : entries()) {
    if (e.name == name) {
      std::fprintf(stderr, "leakbench: scenario '%s' is registered twice\n", name.c_str());
      std::abort();  // a build error in disguise: fail loudly at start-up
    }
  }
  entries().push_back({std::move(name), order, std::move(make)});
}

std::vector<entry> all() {
  auto e = entries();
  std::stable_sort(e.begin(), e.end(),
                   [](const entry& a, const entry& b) { return a.order < b.order; });
  return e;
}

}  // namespace leakbench::scenarios
