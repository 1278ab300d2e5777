#pragma once

#include <cstdint>

namespace leakbench::measure {

/// What the replaced global operator new/delete have counted, summed over all threads.
// Sees every allocation made through any form of operator new (array, aligned, nothrow), in
// the bytes the caller asked for, exactly. Does not see malloc called directly: C++
// exception objects (__cxa_allocate_exception mallocs them), C libraries such as hiredis,
// the C++ runtime's own buffers. Exact only at a quiescent point: after the threads that
// allocated have synchronised with the reader (joined, drained, or a mutex handed over).
struct new_counts {
  std::int64_t bytes = 0;        ///< bytes live now (allocated minus freed)
  std::int64_t blocks = 0;       ///< blocks live now
  std::int64_t allocations = 0;  ///< blocks ever allocated (monotonic)
};

/// Reads the operator-new counters.
new_counts new_heap() noexcept;

/// Bytes malloc has handed out and not taken back, every allocation in the process included.
// glibc build: mallinfo2() uordblks + hblkhd over all arenas, so it sees exception objects,
// hiredis and operator new alike, in chunk sizes (each block rounded up to 16 bytes plus an
// 8-byte header; mmapped blocks rounded to pages). Sanitizer builds replace malloc, so there
// it is the sanitizer allocator's __sanitizer_get_current_allocated_bytes() (requested bytes).
// Cost grows with the number of free chunks (mallinfo2 walks the bins under each arena lock).
std::int64_t malloc_heap() noexcept;

/// Both live-heap views at one moment.
struct heap_snapshot {
  new_counts by_new;
  std::int64_t by_malloc = 0;
};

/// Reads both counters.
heap_snapshot live_heap() noexcept;

}  // namespace leakbench::measure
