#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "common/output_file.hpp"

namespace leakbench::common {

/// A folder's files: name (no '/') to content.
using folder_files = std::map<std::string, std::string>;

/// Why the folder already at a path must be kept rather than replaced, or "" if it may go.
using keep_reason = std::function<std::string(const std::filesystem::path& existing)>;

/// Writes `files` as the folder `dir`, whole or not at all: through a symlink (the link stays),
/// staged as a fresh folder beside the final target, synced, then swapped in. An existing folder
/// is replaced, keeping its mode (and owner, as root), only if `why_keep` (if given) says "" of it.
/// A missing parent folder is an error; on any output_error nothing is left behind.
void write_folder(const std::filesystem::path& dir, const folder_files& files,
                  const keep_reason& why_keep);

}  // namespace leakbench::common
