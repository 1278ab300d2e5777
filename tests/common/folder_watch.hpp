#pragma once

#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace leakbench::test {

/// The names created in, or moved into, a folder while the object lives (inotify): where a
/// writer staged its temporary file, which the listing after the write can no longer show.
class folder_watch {
 public:
  explicit folder_watch(const std::filesystem::path& dir)
      : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ < 0 || ::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
      throw std::runtime_error("cannot watch " + dir.string());
    }
  }
  ~folder_watch() { ::close(fd_); }
  folder_watch(const folder_watch&) = delete;
  folder_watch& operator=(const folder_watch&) = delete;

  /// The names that appeared so far, in order.
  std::vector<std::string> names() {
    alignas(inotify_event) char buf[4096];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof(buf))) > 0;) {
      for (char* p = buf; p < buf + n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(p);
        if (e->len > 0) names_.emplace_back(e->name);
        p += sizeof(inotify_event) + e->len;
      }
    }
    return names_;
  }

 private:
  int fd_;
  std::vector<std::string> names_;
};

}  // namespace leakbench::test
