#include "bench/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace leakbench::bench {
namespace {

[[noreturn]] void fail(int err, const std::string& path) {
  throw std::system_error(err, std::generic_category(), "cannot write " + path);
}

/// Writes all of `text` to `fd`; the errno of the first failure, or 0.
int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace

void write_output(const std::string& path, std::string_view text) {
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(errno, path);
    const int err = write_all(fd, text);
    const int closed = ::close(fd) == 0 ? 0 : errno;
    if (err != 0 || closed != 0) fail(err != 0 ? err : closed, path);
    return;
  }
  const std::filesystem::path target(path);
  const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::string name = ".";  // appended, not "." + ...: GCC 12 warns falsely on that (-Wrestrict)
  name += target.filename().string();
  name += ".XXXXXX";
  std::string tmp = (dir / name).string();
  const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) fail(errno, path);
  int err = write_all(fd, text);
  if (err == 0 && ::fsync(fd) != 0) err = errno;  // a full disk may only show here
  if (::close(fd) != 0 && err == 0) err = errno;
  const mode_t mask = ::umask(0);  // as a new file would get it: 0666 less the umask
  ::umask(mask);
  const mode_t mode = exists ? st.st_mode & 07777 : 0666 & ~mask;
  if (err == 0 && ::chmod(tmp.c_str(), mode) != 0) err = errno;
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail(err, path);
  }
}

}  // namespace leakbench::bench
