#pragma once
// What the output writers share: not part of leakbench::common's API.

#include <sys/stat.h>

#include <filesystem>
#include <string_view>

namespace leakbench::common::detail {

/// Writes all of `text` to `fd`, EINTR retried and short writes continued; 0 or the errno.
int write_all(int fd, std::string_view text);

/// The folder `path` is in: its parent, or "." for a bare name.
std::filesystem::path folder_of(const std::filesystem::path& path);

/// A fresh hidden name beside `target`: ".NAME.tmp-XXXXXXXX" in target's folder.
std::filesystem::path sibling_name(const std::filesystem::path& target);

/// Syncs folder `dir`, so that a rename in it survives a crash; 0 or the errno.
int sync_folder(const std::filesystem::path& dir);

/// Gives `fd` the permission bits of `old` and, as root, its owner and group; 0 or the errno.
int keep_owner_and_mode(int fd, const struct stat& old);

}  // namespace leakbench::common::detail
