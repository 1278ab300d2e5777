#pragma once

#include <cstddef>
#include <cstdint>
#include <forward_list>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace leakbench::runtime {

/// An object the cycle collector can see (CPython: a GC-tracked container).
// Knows its own owner (enable_shared_from_this), so that a reference to it can be checked to
// really hold a count on it: the collector subtracts one count per traversed reference.
class gc_object : public std::enable_shared_from_this<gc_object> {
 public:
  virtual ~gc_object() = default;
  /// Calls `visit` once for every strong reference this object holds to a tracked object
  /// (CPython's tp_traverse). Each visited reference must be a shared_ptr owning it.
  virtual void traverse(const std::function<void(const gc_object*)>& visit) const = 0;
  /// Drops every reference to other objects (CPython's tp_clear), breaking cycles.
  virtual void clear() = 0;
};

/// Throws std::invalid_argument unless `p` is null or owns the object it points to: an
/// aliasing shared_ptr holds its count on another object, and a collector that subtracted an
/// edge for it would see garbage where the object is still owned from outside.
template <class T>
void require_owning(const std::shared_ptr<T>& p) {
  if (!p) return;
  const auto self = static_cast<const gc_object&>(*p).weak_from_this();
  if (self.expired() || p.owner_before(self) || self.owner_before(p)) {
    throw std::invalid_argument(
        "a reference to a tracked object must own it (an aliasing or non-owning shared_ptr "
        "holds no count on it)");
  }
}

/// A strong reference that the collector can follow when it points at a tracked object.
struct ref {
  std::shared_ptr<const void> value;
  const gc_object* tracked = nullptr;

  ref() = default;
  ref(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): `co_return nullptr;`
  /// Throws std::invalid_argument for a tracked object `p` does not own (require_owning).
  template <class T>
  ref(std::shared_ptr<T> p)  // NOLINT(google-explicit-constructor): a ref is any shared_ptr
      : value(std::move(p)) {
    if constexpr (std::is_base_of_v<gc_object, T>) {
      const T* object = static_cast<const T*>(value.get());
      if (object != nullptr) {
        require_owning(std::shared_ptr<const T>(value, object));
        tracked = object;
      }
    }
  }
  explicit operator bool() const { return value != nullptr; }
};

/// When the collector runs during a worker's life (it always runs at worker shutdown).
struct gc_policy {
  std::size_t every = 0;  ///< collect after every N finished attempts; 0 means never (`off`)

  /// Parses `off` or `every:N` (N >= 1); throws std::invalid_argument otherwise.
  static gc_policy parse(std::string_view text);
  std::string to_string() const;
  friend bool operator==(const gc_policy&, const gc_policy&) = default;
};

/// What one collection did.
struct gc_stats {
  std::size_t examined = 0;   ///< live objects of finished attempts looked at
  std::size_t collected = 0;  ///< unreachable ones cleared (and so freed)
  /// Live operator-new bytes the collection freed: exact when no other thread allocates
  /// meanwhile (at worker shutdown), approximate for collections during a run.
  std::int64_t freed_bytes = 0;
};

/// The model of CPython's cycle collector, restricted to objects of finished attempts.
// Reachability as in CPython's gc: an object's strong count minus the references from other
// candidates is what the outside world holds; objects with outside references, and all they
// reach, live; the rest is cyclic garbage and is cleared. Objects of attempts in flight are
// never candidates: the collector does not even look at them, so it never races their threads.
// Objects of finished attempts must not be mutated concurrently with collect().
class collector {
 public:
  explicit collector(gc_policy policy = {});
  /// Collects what is left: garbage must not outlive its collector.
  ~collector();
  collector(const collector&) = delete;
  collector& operator=(const collector&) = delete;

  /// Takes over the objects a finished attempt tracked; collects when the policy says so.
  /// Objects already freed are dropped, so a leak-free attempt leaves nothing behind.
  void adopt(std::vector<std::weak_ptr<gc_object>> objects);
  /// Collects now, whatever the policy.
  gc_stats collect();
  /// Live objects of finished attempts waiting for a collection.
  std::size_t pending() const;
  /// Totals since construction.
  std::size_t collections() const;
  std::size_t total_collected() const;
  const gc_policy& policy() const { return policy_; }

 private:
  gc_stats collect_locked();
  gc_stats collect_pass();

  const gc_policy policy_;
  mutable std::mutex mutex_;
  // A list, not a vector: each adopted object costs one fixed-size node, so the collector's own
  // overhead per leaked attempt is constant instead of following a vector's doubling.
  std::forward_list<std::weak_ptr<gc_object>> finished_;
  std::size_t pending_ = 0;
  std::size_t since_last_ = 0;
  std::size_t collections_ = 0;
  std::size_t total_collected_ = 0;
};

}  // namespace leakbench::runtime
