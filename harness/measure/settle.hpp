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

/// Tunes glibc's allocator so that RSS follows what is held: every block of at least
/// `mmap_threshold` bytes is mmapped and goes back to the kernel when freed (no dynamic
/// threshold: after the first large free glibc would raise it and keep such blocks resident);
/// one arena for every thread (a thread arena's top is never trimmed, so its freed memory stays
/// resident and absorbs later allocations); the top of the heap returned at every free (no trim
/// threshold, no top pad). Call it before any thread allocates. Returns false if glibc refuses;
/// a no-op under sanitizers. (tcache has no mallopt: GLIBC_TUNABLES turns it off.)
bool tune_allocator(int mmap_threshold = 128 * 1024) noexcept;

}  // namespace leakbench::measure
