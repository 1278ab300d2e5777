// Naming what a garbage cycle holds: a breadth-first walk from each retained exception over the
// real references (gc_object::referents), then a descent towards the bytes.
#include <fmt/format.h>

#include <unordered_set>

#include "harness/runtime/gc.hpp"

namespace leakbench::runtime {
namespace {

// One node of the walk's breadth-first tree: a garbage object or a payload block.
struct node {
  const gc_object* object = nullptr;  // null for a block
  std::size_t parent = 0;
  step::kind how = step::kind::attribute;
  std::string name;  // a copy: a step's name is valid during the visit only
  std::size_t index = 0;
  std::int64_t bytes = 0;  // the block's own size; then, bottom-up, the subtree's
  std::vector<std::size_t> children;
};

void append_step(std::string& path, const node& n) {
  switch (n.how) {
    case step::kind::attribute:
      path += "." + n.name;
      break;
    case step::kind::local:
      path += fmt::format(" local '{}'", n.name);
      break;
    case step::kind::item:
      path += fmt::format("[{}]", n.index);
      break;
    case step::kind::traceback:
      path += fmt::format(".__traceback__ -> frame {}()", n.name);
      break;
  }
}

retention walk(const gc_object* root,
               const std::function<std::optional<std::size_t>(const gc_object*)>& garbage_index) {
  std::vector<node> tree{{root}};
  std::unordered_set<const void*> seen{root};
  for (std::size_t i = 0; i < tree.size(); ++i) {  // tree grows as it is walked: breadth first
    if (tree[i].object == nullptr) continue;
    tree[i].object->referents([&](const referent& r) {
      const void* target = r.tracked != nullptr ? static_cast<const void*>(r.tracked) : r.block;
      if (target == nullptr || !seen.insert(target).second) return;
      if (r.tracked != nullptr && !garbage_index(r.tracked)) return;  // survives: not held here
      tree.push_back({r.tracked, i, r.via.how, std::string(r.via.name), r.via.index,
                      r.tracked != nullptr ? 0 : static_cast<std::int64_t>(r.bytes)});
      tree[i].children.push_back(tree.size() - 1);
    });
  }
  for (std::size_t i = tree.size(); i-- > 1;) tree[tree[i].parent].bytes += tree[i].bytes;
  retention r{{}, 1, tree[0].bytes, 0};
  if (tree[0].bytes == 0) return r;
  // Down every branch holding at least a quarter of the bytes, to a block or to what spreads
  // its bytes over many smaller ones (a list of chunks): one path per holder, at most four.
  const auto holds_a_quarter = [&](std::size_t i) { return 4 * tree[i].bytes >= tree[0].bytes; };
  const auto explain = [&](const auto& self, std::size_t at, const std::string& path) -> void {
    bool split = false;
    for (const std::size_t kid : tree[at].children) {
      if (!holds_a_quarter(kid)) continue;
      split = true;
      std::string longer = path;
      append_step(longer, tree[kid]);
      self(self, kid, longer);
    }
    if (split) return;
    r.path += (r.path.empty() ? "" : " and ") + path;
    r.path_bytes += tree[at].bytes;
  };
  explain(explain, 0, "exc");
  return r;
}

}  // namespace

std::vector<retention> name_retention(
    const std::vector<std::shared_ptr<gc_object>>& objects,
    const std::function<std::optional<std::size_t>(const gc_object*)>& garbage_index) {
  // Retained exceptions: garbage exceptions no other garbage exception holds.
  std::unordered_set<const gc_object*> held;
  for (const auto& o : objects) {
    if (!o->is_exception() || !garbage_index(o.get())) continue;
    o->referents([&](const referent& r) {
      if (r.tracked != nullptr && r.tracked->is_exception() && r.via.how == step::kind::attribute)
        held.insert(r.tracked);
    });
  }
  std::vector<retention> found;
  for (const auto& o : objects) {
    if (o->is_exception() && garbage_index(o.get()) && !held.contains(o.get())) {
      found.push_back(walk(o.get(), garbage_index));
    }
  }
  return found;
}

}  // namespace leakbench::runtime
