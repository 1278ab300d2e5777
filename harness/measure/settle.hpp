#pragma once

namespace leakbench::measure {

/// How settle() quiesces the allocator before a sample.
enum class settle_mode {
  none,  ///< nothing: the sample sees what glibc still holds resident
  trim,  ///< malloc_trim(0): return free memory of every arena to the kernel
};

/// Brings the allocator to a quiescent state so that an RSS sample reflects live data.
// glibc raises its mmap threshold after freeing a large mmapped block (up to 32 MiB), so later
// blocks of that size come from the heap and stay resident when freed; trimming undoes that.
// Call it after the threads that freed memory have synchronised with the caller.
void settle(settle_mode mode = settle_mode::trim) noexcept;

/// Pins glibc's mmap threshold at `bytes` (and the trim threshold at twice that), turning off
/// their dynamic adjustment: every block of at least `bytes` is mmapped and goes back to the
/// kernel when freed. Without it, after the first large free, blocks of that size come from a
/// thread's arena, whose top malloc_trim does not release (only the main arena's), and RSS
/// keeps freed memory. Returns false if glibc refuses; a no-op under sanitizers.
bool pin_mmap_threshold(int bytes = 128 * 1024) noexcept;

}  // namespace leakbench::measure
