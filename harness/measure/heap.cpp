// The live-heap counters and, in the same translation unit so that linking the counters
// always links the replacement, every replaceable global operator new and delete.
#include "harness/measure/heap.hpp"

#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "harness/measure/sanitizer.hpp"

// GCC ships no allocator_interface.h; the sanitizer runtimes export this function (weak here:
// unsanitized builds never call it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes() __attribute__((weak));

namespace leakbench::measure {
namespace {

// One slot per live thread, written only by its owner (plain load + store, no contended
// read-modify-write), read by everyone. A slot outlives its thread and is handed, counts and
// all, to the next thread, so the sum over slots stays exact with no folding step.
struct alignas(64) slot {
  std::atomic<std::int64_t> bytes{0};
  std::atomic<std::int64_t> blocks{0};
  std::atomic<std::int64_t> allocations{0};
  std::atomic<bool> owned{false};
};

constexpr int k_slots = 512;
slot g_slots[k_slots];
std::atomic<int> g_slots_used{0};  // high-water mark of claimed slots, bounds the read loop
// Threads beyond k_slots, and deallocations after a thread's slot was released.
slot g_shared;

void add_owned(slot& s, std::int64_t bytes, std::int64_t blocks) noexcept {
  s.bytes.store(s.bytes.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed);
  s.blocks.store(s.blocks.load(std::memory_order_relaxed) + blocks, std::memory_order_relaxed);
  if (blocks > 0) {
    s.allocations.store(s.allocations.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
  }
}

void add_shared(std::int64_t bytes, std::int64_t blocks) noexcept {
  g_shared.bytes.fetch_add(bytes, std::memory_order_relaxed);
  g_shared.blocks.fetch_add(blocks, std::memory_order_relaxed);
  if (blocks > 0) g_shared.allocations.fetch_add(1, std::memory_order_relaxed);
}

slot* claim_slot() noexcept {
  for (int i = 0; i < k_slots; ++i) {
    bool expected = false;
    if (g_slots[i].owned.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      int used = g_slots_used.load(std::memory_order_relaxed);
      while (used < i + 1 &&
             !g_slots_used.compare_exchange_weak(used, i + 1, std::memory_order_release)) {
      }
      return &g_slots[i];
    }
  }
  return nullptr;
}

// Claims a slot on first use and gives it back at thread exit. Trivially constructible, so
// touching it from operator new allocates nothing through operator new.
struct slot_owner {
  slot* owned = nullptr;
  bool retired = false;
  ~slot_owner() {
    if (owned != nullptr) owned->owned.store(false, std::memory_order_release);
    owned = nullptr;
    retired = true;  // later frees on this thread (other thread_local dtors) go to g_shared
  }
};
thread_local slot_owner t_owner;

void count(std::int64_t bytes, std::int64_t blocks) noexcept {
  slot_owner& o = t_owner;
  if (o.owned == nullptr && !o.retired) o.owned = claim_slot();
  if (o.owned != nullptr) {
    add_owned(*o.owned, bytes, blocks);
  } else {
    add_shared(bytes, blocks);
  }
}

// Every block carries a 16-byte header holding the requested size, so unsized delete knows
// what to subtract. Aligned blocks put the header just before the aligned user pointer.
constexpr std::size_t k_header = 16;

void* allocate(std::size_t size, std::size_t align, bool nothrow) {
  const std::size_t offset = align > k_header ? align : k_header;
  for (;;) {
    void* block = nullptr;
    if (size <= static_cast<std::size_t>(-1) - offset) {
      block = align > k_header
                  ? std::aligned_alloc(align, (offset + size + align - 1) / align * align)
                  : std::malloc(offset + size);
    }
    if (block != nullptr) {
      auto* user = static_cast<unsigned char*>(block) + offset;
      *reinterpret_cast<std::size_t*>(user - k_header) = size;
      count(static_cast<std::int64_t>(size), 1);
      return user;
    }
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    handler();
  }
}

void deallocate(void* p, std::size_t align) noexcept {
  if (p == nullptr) return;
  auto* user = static_cast<unsigned char*>(p);
  const std::size_t size = *reinterpret_cast<std::size_t*>(user - k_header);
  count(-static_cast<std::int64_t>(size), -1);
  std::free(user - (align > k_header ? align : k_header));
}

}  // namespace

new_counts new_heap() noexcept {
  new_counts c;
  const int used = g_slots_used.load(std::memory_order_acquire);
  for (int i = 0; i < used; ++i) {
    c.bytes += g_slots[i].bytes.load(std::memory_order_relaxed);
    c.blocks += g_slots[i].blocks.load(std::memory_order_relaxed);
    c.allocations += g_slots[i].allocations.load(std::memory_order_relaxed);
  }
  c.bytes += g_shared.bytes.load(std::memory_order_relaxed);
  c.blocks += g_shared.blocks.load(std::memory_order_relaxed);
  c.allocations += g_shared.allocations.load(std::memory_order_relaxed);
  return c;
}

std::int64_t malloc_heap() noexcept {
  if constexpr (k_sanitized_malloc) {
    return static_cast<std::int64_t>(__sanitizer_get_current_allocated_bytes());
  }
  const struct mallinfo2 mi = ::mallinfo2();
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

heap_snapshot live_heap() noexcept { return {new_heap(), malloc_heap()}; }

}  // namespace leakbench::measure

namespace lm = leakbench::measure;
constexpr std::size_t k_default_align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

// clang-format off
void* operator new(std::size_t n) { return lm::allocate(n, k_default_align, false); }
void* operator new[](std::size_t n) { return lm::allocate(n, k_default_align, false); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { try { return lm::allocate(n, k_default_align, true); } catch (...) { return nullptr; } }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { try { return lm::allocate(n, k_default_align, true); } catch (...) { return nullptr; } }
void* operator new(std::size_t n, std::align_val_t a) { return lm::allocate(n, static_cast<std::size_t>(a), false); }
void* operator new[](std::size_t n, std::align_val_t a) { return lm::allocate(n, static_cast<std::size_t>(a), false); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { try { return lm::allocate(n, static_cast<std::size_t>(a), true); } catch (...) { return nullptr; } }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { try { return lm::allocate(n, static_cast<std::size_t>(a), true); } catch (...) { return nullptr; } }

void operator delete(void* p) noexcept { lm::deallocate(p, k_default_align); }
void operator delete[](void* p) noexcept { lm::deallocate(p, k_default_align); }
void operator delete(void* p, const std::nothrow_t&) noexcept { lm::deallocate(p, k_default_align); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { lm::deallocate(p, k_default_align); }
void operator delete(void* p, std::size_t) noexcept { lm::deallocate(p, k_default_align); }
void operator delete[](void* p, std::size_t) noexcept { lm::deallocate(p, k_default_align); }
void operator delete(void* p, std::align_val_t a) noexcept { lm::deallocate(p, static_cast<std::size_t>(a)); }
void operator delete[](void* p, std::align_val_t a) noexcept { lm::deallocate(p, static_cast<std::size_t>(a)); }
void operator delete(void* p, std::size_t, std::align_val_t a) noexcept { lm::deallocate(p, static_cast<std::size_t>(a)); }
void operator delete[](void* p, std::size_t, std::align_val_t a) noexcept { lm::deallocate(p, static_cast<std::size_t>(a)); }
void operator delete(void* p, std::align_val_t a, const std::nothrow_t&) noexcept { lm::deallocate(p, static_cast<std::size_t>(a)); }
void operator delete[](void* p, std::align_val_t a, const std::nothrow_t&) noexcept { lm::deallocate(p, static_cast<std::size_t>(a)); }
// clang-format on
