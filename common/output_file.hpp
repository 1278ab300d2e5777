#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace leakbench::common {

/// An output that could not be written; what() is one line: "cannot write PATH: REASON".
class output_error : public std::runtime_error {
 public:
  /// `path` as the user gave it; `reason` one line (the system's message, or a sentence).
  output_error(const std::filesystem::path& path, const std::string& reason);
  /// The path as the user gave it.
  const std::filesystem::path& path() const { return path_; }
  /// Why, without the path.
  const std::string& reason() const { return reason_; }

 private:
  std::filesystem::path path_;
  std::string reason_;
};

/// The descriptor `path` names if it is one of this process's own (/proc/self/fd/N,
/// /proc/<our pid>/fd/N, /proc/thread-self/fd/N, /dev/fd/N), else nothing.
std::optional<int> own_fd(const std::filesystem::path& path);

/// Where a write to `path` lands: its symlinks followed hop by hop (a relative link read from
/// its own folder) to a path that is no link, does not exist, or is one of our descriptors.
/// Throws output_error on a loop (more than 40 hops) or a path that cannot be looked at.
std::filesystem::path resolve_links(const std::filesystem::path& path);

/// Writes `text` to `path` as a shell redirection would, without its harm: through symlinks
/// (the link stays), to our own descriptors, devices, FIFOs and sockets directly; to a regular
/// file whole or not at all (staged beside the final target, synced, renamed over it, its
/// mode and, as root, owner kept; on failure the previous file stays and nothing is left).
/// A folder, a block device or a missing parent folder is an output_error.
void write_output(const std::filesystem::path& path, std::string_view text);

/// While a FIFO has no reader yet, write_output waits for one, asking `cancelled` every 50 ms;
/// once it says true, the wait ends with output_error ("interrupted while waiting for a
/// reader"). Without it (the default) the wait is unbounded, as a shell redirection's is.
void set_output_cancel(bool (*cancelled)());

}  // namespace leakbench::common
