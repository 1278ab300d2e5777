#pragma once

#include <string>
#include <string_view>

namespace leakbench::bench {

/// Writes `text` to `path` whole or not at all. A regular file, or a new one, is written to a
/// temporary file beside it and renamed into place once complete (a failure leaves the previous
/// file as it was); anything else (a FIFO, /dev/stdout, /dev/full) is written directly, every
/// write checked. Throws std::system_error whose what() is one line naming the path.
void write_output(const std::string& path, std::string_view text);

}  // namespace leakbench::bench
