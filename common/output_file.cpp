#include "common/output_file.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <system_error>
#include <thread>

#include "common/staging.hpp"

namespace leakbench::common {
namespace {

namespace fs = std::filesystem;

constexpr int k_max_link_hops = 40;  // the kernel's own limit on a path's symlinks

[[noreturn]] void fail(const fs::path& path, int err) {
  throw output_error(path, std::generic_category().message(err));
}

/// A stream connection to the Unix socket at `target`, or -1 with errno set.
int connect_socket(const fs::path& target) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (target.native().size() >= sizeof(addr.sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, target.c_str(), target.native().size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    return -1;
  }
  return fd;
}

/// A device, FIFO or socket: opened and written in place, as a redirection would.
std::atomic<bool (*)()> g_cancelled{nullptr};

/// Opens a FIFO for writing, waiting for its reader (a blocking open would not return to see a
/// signal: leakbench's handlers restart it) until there is one or the wait is cancelled.
int open_fifo(const fs::path& path, const fs::path& target) {
  constexpr int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
  for (;;) {
    const int fd = ::open(target.c_str(), flags);
    if (fd >= 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // writes wait for room
      return fd;
    }
    if (errno != ENXIO) fail(path, errno);  // ENXIO: no reader yet
    if (auto* cancelled = g_cancelled.load(); cancelled != nullptr && cancelled()) {
      throw output_error(path, "interrupted while waiting for a reader");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void write_directly(const fs::path& path, const fs::path& target, bool socket, bool fifo,
                    std::string_view text) {
  // O_NOFOLLOW: a link swapped in since it was looked at is an error, not followed blindly.
  const int fd = socket ? connect_socket(target)
                 : fifo ? open_fifo(path, target)
                        : ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
  if (fd < 0) fail(path, errno);
  const int err = detail::write_all(fd, text);
  const int closed = ::close(fd) == 0 ? 0 : errno;
  if (err != 0 || closed != 0) fail(path, err != 0 ? err : closed);
}

/// A regular file, or a new one: staged beside `target`, synced, renamed over it.
void write_staged(const fs::path& path, const fs::path& target, const struct stat* old,
                  std::string_view text) {
  fs::path tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    tmp = detail::sibling_name(target);
    // 0666 and the kernel applies the umask: a new file's mode, as a redirection gives it.
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) fail(path, errno);
  }
  if (fd < 0) fail(path, EEXIST);
  int err = detail::write_all(fd, text);
  if (err == 0 && old != nullptr) err = detail::keep_owner_and_mode(fd, *old);
  if (err == 0 && ::fsync(fd) != 0) err = errno;  // a full disk may only show here
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), target.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail(path, err);
  }
  if (const int synced = detail::sync_folder(detail::folder_of(target)); synced != 0) {
    fail(path, synced);
  }
}

}  // namespace

output_error::output_error(const fs::path& path, const std::string& reason)
    : std::runtime_error("cannot write " + path.string() + ": " + reason),
      path_(path),
      reason_(reason) {}

std::optional<int> own_fd(const fs::path& path) {
  std::error_code ec;
  const std::string p = fs::absolute(path, ec).lexically_normal().string();
  if (ec) return std::nullopt;
  const std::string ours = "/proc/" + std::to_string(::getpid()) + "/fd/";
  for (const std::string_view prefix :
       {std::string_view("/proc/self/fd/"), std::string_view("/proc/thread-self/fd/"),
        std::string_view("/dev/fd/"), std::string_view(ours)}) {
    if (!p.starts_with(prefix) || p.size() == prefix.size()) continue;
    const char* first = p.data() + prefix.size();
    const char* last = p.data() + p.size();
    int fd = -1;
    const auto [end, errc] = std::from_chars(first, last, fd);
    if (errc == std::errc{} && end == last && fd >= 0) return fd;
  }
  return std::nullopt;
}

fs::path resolve_links(const fs::path& path) {
  fs::path p = path;
  for (int hop = 0;; ++hop) {
    // /proc/self/fd/N is a link too, but to an open file that may have no name (a pipe).
    if (own_fd(p)) return p;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return p;  // a new file, or a dangling link's target: made there
      fail(path, errno);
    }
    if (!S_ISLNK(st.st_mode)) return p;
    if (hop == k_max_link_hops) fail(path, ELOOP);
    std::string link(PATH_MAX, '\0');
    const ssize_t n = ::readlink(p.c_str(), link.data(), link.size());
    if (n < 0) fail(path, errno);
    if (static_cast<std::size_t>(n) == link.size()) fail(path, ENAMETOOLONG);
    link.resize(static_cast<std::size_t>(n));
    const fs::path next(link);
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
}

void write_output(const fs::path& path, std::string_view text) {
  const fs::path target = resolve_links(path);
  if (const auto fd = own_fd(target)) {
    // Written to the descriptor itself, not reopened: an O_APPEND log keeps appending, and
    // what was printed before lands before this.
    std::cout.flush();
    std::fflush(nullptr);
    if (const int err = detail::write_all(*fd, text); err != 0) fail(path, err);
    return;
  }
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) {
    if (errno != ENOENT) fail(path, errno);
    return write_staged(path, target, nullptr, text);
  }
  if (S_ISREG(st.st_mode)) return write_staged(path, target, &st, text);
  if (S_ISDIR(st.st_mode)) fail(path, EISDIR);
  // Renamed over, a disk would lose its device node; written to, its data.
  if (S_ISBLK(st.st_mode)) throw output_error(path, "a block device, which it will not write");
  write_directly(path, target, S_ISSOCK(st.st_mode), S_ISFIFO(st.st_mode), text);
}

void set_output_cancel(bool (*cancelled)()) { g_cancelled.store(cancelled); }

}  // namespace leakbench::common
