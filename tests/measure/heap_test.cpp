#include "harness/measure/heap.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include "tests/measure/escape.hpp"

namespace lm = leakbench::measure;
using leakbench::test::escape;

TEST(new_heap, sees_a_known_allocation_exactly) {
  const auto before = lm::new_heap();
  auto* p = new char[12345];
  escape(p);
  const auto during = lm::new_heap();
  delete[] p;
  const auto after = lm::new_heap();
  EXPECT_EQ(during.bytes - before.bytes, 12345);
  EXPECT_EQ(during.blocks - before.blocks, 1);
  EXPECT_EQ(during.allocations - before.allocations, 1);
  EXPECT_EQ(after.bytes, before.bytes);
  EXPECT_EQ(after.blocks, before.blocks);
}

TEST(new_heap, counts_aligned_nothrow_and_sized_forms) {
  const auto before = lm::new_heap();
  struct alignas(256) wide {
    char c[1000];
  };
  auto* a = new wide;
  void* b = ::operator new(777, std::nothrow);
  void* c = ::operator new (4096, std::align_val_t{4096});
  escape(a);
  escape(b);
  escape(c);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a) % 256, 0u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(c) % 4096, 0u);
  EXPECT_EQ(lm::new_heap().bytes - before.bytes,
            static_cast<std::int64_t>(sizeof(wide)) + 777 + 4096);
  delete a;
  ::operator delete(b, 777);
  ::operator delete (c, std::align_val_t{4096});
  EXPECT_EQ(lm::new_heap().bytes, before.bytes);
}

TEST(new_heap, sums_threads_and_cross_thread_frees) {
  std::vector<std::unique_ptr<char[]>> blocks(4);
  std::vector<std::thread> threads;
  threads.reserve(4);
  const auto before = lm::new_heap();
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&blocks, i] { blocks[i].reset(new char[1000 * (i + 1)]); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(lm::new_heap().bytes - before.bytes, 10000);
  // Freed on this thread, allocated on exited ones: the sum must still come back.
  for (auto& b : blocks) b.reset();
  EXPECT_EQ(lm::new_heap().bytes, before.bytes);
}

struct big_error {
  char data[256 * 1024];
};

TEST(malloc_heap, sees_a_thrown_exception_object) {
  const std::int64_t before = lm::malloc_heap();
  std::int64_t during = 0;
  try {
    throw big_error{};
  } catch (const big_error& e) {
    escape(&e);
    during = lm::malloc_heap();
  }
  const std::int64_t after = lm::malloc_heap();
  // The C++ runtime mallocs the object plus its header (about 128 bytes); glibc rounds to
  // chunks or pages. operator new never sees it.
  EXPECT_GE(during - before, static_cast<std::int64_t>(sizeof(big_error)));
  EXPECT_LE(during - before, static_cast<std::int64_t>(sizeof(big_error)) + 8192);
  EXPECT_LE(after - before, 4096);
}

TEST(malloc_heap, sees_operator_new_too_and_returns_to_baseline) {
  const std::int64_t before = lm::malloc_heap();
  auto* p = new char[1 << 20];
  escape(p);
  const std::int64_t during = lm::malloc_heap();
  delete[] p;
  EXPECT_GE(during - before, 1 << 20);
  EXPECT_LE(during - before, (1 << 20) + 8192);
  EXPECT_LE(lm::malloc_heap() - before, 4096);
}
