#pragma once

#include <filesystem>

namespace leakbench::bench {

/// A private folder of leakbench's own under $TMPDIR or /tmp (mkdtemp, mode 0700), removed with
/// everything in it when the object goes, also when the constructor of whatever holds it
/// throws, and by the immediate exit of a second SIGINT or SIGTERM.
class private_dir {
 public:
  /// Makes $TMPDIR/leakbench-XXXXXX; throws std::system_error with one line if it cannot.
  private_dir();
  ~private_dir();
  private_dir(const private_dir&) = delete;
  private_dir& operator=(const private_dir&) = delete;

  /// The folder.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int slot_ = -1;  // its place in the table the signal handler reads
};

}  // namespace leakbench::bench
