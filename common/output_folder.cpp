#include "common/output_folder.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/staging.hpp"

namespace leakbench::common {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const fs::path& path, int err) {
  throw output_error(path, std::generic_category().message(err));
}

/// A fresh folder beside `target`, made with 0777 so that the kernel applies the umask.
fs::path make_staging(const fs::path& dir, const fs::path& target) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path staging = detail::sibling_name(target);
    if (::mkdir(staging.c_str(), 0777) == 0) return staging;
    if (errno != EEXIST) fail(dir, errno);
  }
  fail(dir, EEXIST);
}

/// Writes `name` into `folder` and syncs it; 0 or the errno.
int write_one(const fs::path& folder, const std::string& name, const std::string& content) {
  const int fd =
      ::open((folder / name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) return errno;
  int err = detail::write_all(fd, content);
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

/// Gives folder `staging` the mode (and, as root, owner) of the folder it replaces.
int keep_folder_mode(const fs::path& staging, const struct stat& old) {
  const int fd = ::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int err = detail::keep_owner_and_mode(fd, old);
  ::close(fd);
  return err;
}

/// Puts `staging` at `target`; returns where what was there went ("" if nothing was), for
/// the caller to remove.
fs::path swap_in(const fs::path& dir, const fs::path& staging, const fs::path& target,
                 bool replacing) {
  // One atomic step where the file system has it: no moment without a folder at `target`.
  const unsigned flags = replacing ? RENAME_EXCHANGE : RENAME_NOREPLACE;
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), flags) == 0) {
    return replacing ? staging : fs::path();
  }
  if (errno != EINVAL && errno != ENOSYS) fail(dir, errno);
  if (!replacing) {
    if (::rename(staging.c_str(), target.c_str()) != 0) fail(dir, errno);
    return {};
  }
  // Two steps then: the previous folder aside under a fresh name, the new one in its place.
  fs::path old = detail::sibling_name(target);
  struct stat st {};
  while (::lstat(old.c_str(), &st) == 0) old = detail::sibling_name(target);
  if (::rename(target.c_str(), old.c_str()) != 0) fail(dir, errno);
  if (::rename(staging.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::rename(old.c_str(), target.c_str());  // the previous folder back
    fail(dir, err);
  }
  return old;
}

}  // namespace

void write_folder(const fs::path& dir, const folder_files& files, const keep_reason& why_keep) {
  // "out/" names the folder out: without the slash a link named out is read, not followed.
  fs::path path = dir;
  while (!path.has_filename() && path.has_relative_path()) path = path.parent_path();
  const fs::path target = resolve_links(path);
  if (own_fd(target)) fail(dir, ENOTDIR);
  struct stat st {};
  const bool replacing = ::lstat(target.c_str(), &st) == 0;
  if (!replacing && errno != ENOENT) fail(dir, errno);
  if (replacing && !S_ISDIR(st.st_mode)) throw output_error(dir, "it exists and is not a folder");
  if (replacing) {
    std::string why;
    try {
      if (why_keep) why = why_keep(target);
    } catch (const fs::filesystem_error& e) {
      fail(dir, e.code().value());
    }
    if (!why.empty()) throw output_error(dir, why);
  }
  const fs::path staging = make_staging(dir, target);
  fs::path old;
  try {
    for (const auto& [name, content] : files) {
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
        throw output_error(dir, "'" + name + "' is not a file name");
      }
      if (const int err = write_one(staging, name, content); err != 0) {
        throw output_error(dir, name + ": " + std::generic_category().message(err));
      }
    }
    // The mode last: a folder that was read-only would refuse the files.
    if (const int err = replacing ? keep_folder_mode(staging, st) : 0; err != 0) fail(dir, err);
    if (const int err = detail::sync_folder(staging); err != 0) fail(dir, err);
    old = swap_in(dir, staging, target, replacing);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }
  std::error_code ec;
  if (!old.empty()) {
    ::chmod(old.c_str(), 0700);  // a read-only previous folder would keep its files
    fs::remove_all(old, ec);
  }
  if (const int err = detail::sync_folder(detail::folder_of(target)); err != 0) fail(dir, err);
}

}  // namespace leakbench::common
