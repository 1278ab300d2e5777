#pragma once

#include <cstdint>
#include <string>

namespace leakbench::measure {

/// Reads a process's resident set size through a kept-open /proc/<pid>/statm descriptor.
// pread on a kept descriptor costs about a fifth of open/read/close, which matters for the
// sampler thread and for per-retry samples.
class rss_reader {
 public:
  /// Opens /proc/self/statm, or /proc/<pid>/statm for another process (pid > 0); throws
  /// std::system_error if it cannot.
  explicit rss_reader(int pid = 0);
  ~rss_reader();
  rss_reader(const rss_reader&) = delete;
  rss_reader& operator=(const rss_reader&) = delete;

  /// Resident bytes now: statm's second field (pages) times the page size.
  std::int64_t current() const;

 private:
  int fd_;
  std::int64_t page_size_;
};

/// Resident bytes now, through a process-wide rss_reader.
std::int64_t current_rss();

/// Peak resident bytes (VmHWM) of this process (pid 0) or of `pid`, since it started or since
/// the last reset_peak_rss().
std::int64_t peak_rss(int pid = 0);

/// The file reset_peak_rss() writes to.
inline constexpr const char* k_clear_refs = "/proc/self/clear_refs";

/// The clear_refs file of `pid` (0: this process).
std::string clear_refs_of(int pid);

/// Resets the peak to the current RSS by writing "5" to `clear_refs`. Returns false when that
/// fails (old kernel, restricted /proc), with errno set.
bool reset_peak_rss(const char* clear_refs = k_clear_refs);

}  // namespace leakbench::measure
