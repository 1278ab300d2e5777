#pragma once

#include <cstddef>
#include <cstdint>
#include <forward_list>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace leakbench::runtime {

class gc_object;

/// How one reference is reached from its holder, spelled as in Python when a path is printed.
struct step {
  enum class kind {
    attribute,  ///< `.name`
    local,      ///< ` local 'name'` of a frame
    item,       ///< `[index]` of a list
    traceback,  ///< `.__traceback__ -> frame name()`: one entry of an exception's traceback
  };
  kind how = kind::attribute;
  std::string_view name;  ///< valid during the visit only
  std::size_t index = 0;
};

/// One strong reference an object holds: how it is reached, and what it points at.
struct referent {
  step via;
  const gc_object* tracked = nullptr;  ///< the target, if the collector tracks it
  std::size_t bytes = 0;               ///< a payload block's size, if the target is one
  const void* block = nullptr;         ///< that block, to count a shared one once
};

/// An object the cycle collector can see (CPython: a GC-tracked container).
// Knows its own owner (enable_shared_from_this), so that a reference to it can be checked to
// really hold a count on it: the collector subtracts one count per traversed reference.
class gc_object : public std::enable_shared_from_this<gc_object> {
 public:
  virtual ~gc_object() = default;
  /// Calls `visit` once for every strong reference this object holds to a tracked object or
  /// a payload block, named (CPython's tp_traverse, plus the names gc.get_referents lacks).
  /// Each reference to a tracked object must be a shared_ptr owning it.
  virtual void referents(const std::function<void(const referent&)>& visit) const = 0;
  /// Drops every reference to other objects (CPython's tp_clear), breaking cycles.
  virtual void clear() = 0;
  /// True for an exception: where the collector starts naming what a garbage cycle holds.
  virtual bool is_exception() const { return false; }
  /// The tracked objects among the referents: what the collector follows.
  void traverse(const std::function<void(const gc_object*)>& visit) const {
    referents([&](const referent& r) {
      if (r.tracked != nullptr) visit(r.tracked);
    });
  }
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

/// `size` zeroed bytes in one allocation (plus the control block): value-initialised, so every
/// page is resident, and counted by the heap counters to the byte. It knows its size, so that a
/// path to the largest retained block can be named.
struct payload : std::shared_ptr<std::byte[]> {
  std::size_t size = 0;
};

/// A strong reference that the collector can follow when it points at a tracked object.
struct ref {
  std::shared_ptr<const void> value;
  const gc_object* tracked = nullptr;
  std::size_t bytes = 0;  ///< the block's size when the value is a payload

  ref() = default;
  ref(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): `co_return nullptr;`
  ref(payload p)          // NOLINT(google-explicit-constructor): a payload is a value
      : value(std::move(static_cast<std::shared_ptr<std::byte[]>&>(p))), bytes(p.size) {}
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
  /// This reference as a referent reached through `via`.
  referent as_referent(step via) const {
    return {via, tracked, bytes, bytes > 0 ? value.get() : nullptr};
  }
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

/// What the garbage cycles of one kind held, as the collector found them: the paths from the
/// retained exception (one no other garbage exception holds as cause or context) to what holds
/// its payload bytes, walking the real references: `exc.__context__.payload`, or for two
/// holders of a quarter or more each, `exc.payload and exc.__cause__.payload`.
struct retention {
  std::string path;             ///< empty: the cycles held no payload block
  std::size_t exceptions = 0;   ///< retained exceptions whose holders had these paths
  std::int64_t bytes = 0;       ///< payload bytes those exceptions held, in all
  std::int64_t path_bytes = 0;  ///< of which the paths' ends held
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
  /// What the collected cycles held, by path, most exceptions first (since construction).
  std::vector<retention> retained() const;
  /// Totals since construction.
  std::size_t collections() const;
  std::size_t total_collected() const;
  const gc_policy& policy() const { return policy_; }

 private:
  gc_stats collect_locked();
  gc_stats collect_pass(std::vector<retention>& found);

  const gc_policy policy_;
  mutable std::mutex mutex_;
  // A list, not a vector: each adopted object costs one fixed-size node, so the collector's own
  // overhead per leaked attempt is constant instead of following a vector's doubling.
  std::forward_list<std::weak_ptr<gc_object>> finished_;
  std::size_t pending_ = 0;
  std::size_t since_last_ = 0;
  std::size_t collections_ = 0;
  std::size_t total_collected_ = 0;
  std::vector<retention> retained_;  // one per distinct path: constant memory per leak kind
};

/// Names what each retained exception among the garbage holds, one entry per exception.
/// `garbage_index` gives an object's position in `objects` if it is garbage, else nothing: the
/// walk stays inside the garbage, as what survives the collection is not retained by it.
std::vector<retention> name_retention(
    const std::vector<std::shared_ptr<gc_object>>& objects,
    const std::function<std::optional<std::size_t>(const gc_object*)>& garbage_index);

}  // namespace leakbench::runtime
