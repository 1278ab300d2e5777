#include "common/staging.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <string>

namespace leakbench::common::detail {

int write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

std::filesystem::path folder_of(const std::filesystem::path& path) {
  return path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
}

std::filesystem::path sibling_name(const std::filesystem::path& target) {
  // Short enough that the name, its dot and suffix stay within a file name's 255 bytes.
  constexpr std::size_t k_name_kept = 200;
  constexpr std::string_view k_chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device random;
  std::string name = ".";  // appended, not "." + ...: GCC 12 warns falsely on that (-Wrestrict)
  name += target.filename().string().substr(0, k_name_kept);
  name += ".tmp-";
  for (int i = 0; i < 8; ++i) name += k_chars[random() % k_chars.size()];
  return folder_of(target) / name;
}

int sync_folder(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  // EINVAL: a file system that cannot sync a folder; its renames are as durable as it gets.
  int err = ::fsync(fd) == 0 || errno == EINVAL ? 0 : errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

int keep_owner_and_mode(int fd, const struct stat& old) {
  // The owner first: changing it clears the set-user-ID bits the mode then restores. EPERM:
  // a file system or user namespace that will not have it, which leaves root's own owner.
  if (::geteuid() == 0 && ::fchown(fd, old.st_uid, old.st_gid) != 0 && errno != EPERM) {
    return errno;
  }
  return ::fchmod(fd, old.st_mode & 07777) == 0 ? 0 : errno;
}

}  // namespace leakbench::common::detail
