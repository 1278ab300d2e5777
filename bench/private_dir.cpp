#include "bench/private_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "bench/interrupt.hpp"

namespace leakbench::bench {
namespace {

// The folders alive now, for the signal handler: fixed storage, no allocation, atomics only.
constexpr int k_slots = 4;
constexpr std::size_t k_path_max = 4096;    // PATH_MAX
enum : int { k_free, k_claimed, k_ready };  // a slot is read only when ready
std::array<std::atomic<int>, k_slots> g_state{};
std::array<std::array<char, k_path_max>, k_slots> g_paths{};

/// Removes `name` under `parent` and, if it is a folder, what it holds, `depth` levels deep.
/// Async-signal-safe: system calls only (getdents64 through syscall: readdir allocates).
void remove_at(int parent, const char* name, int depth) noexcept {
  if (::unlinkat(parent, name, 0) == 0 || (errno != EISDIR && errno != EPERM)) return;
  const int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buf[4096];
  // Entries removed while reading may hide others: read again until a pass removes nothing.
  for (int pass = 0; pass < 8 && depth > 0; ++pass) {
    bool removed = false;
    ::lseek(fd, 0, SEEK_SET);
    for (long n; (n = ::syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0;) {
      for (long off = 0; off < n;) {
        struct entry {
          ino64_t ino;
          off64_t next;
          unsigned short length;
          unsigned char type;
          char name[1];
        };
        const auto* e = reinterpret_cast<const entry*>(buf + off);
        off += e->length;
        if (std::strcmp(e->name, ".") == 0 || std::strcmp(e->name, "..") == 0) continue;
        remove_at(fd, e->name, depth - 1);
        removed = true;
      }
    }
    if (!removed) break;
  }
  ::close(fd);
  ::unlinkat(parent, name, AT_REMOVEDIR);
}

void remove_all_now() noexcept {
  for (int i = 0; i < k_slots; ++i) {
    if (g_state[i].load() == k_ready) remove_at(AT_FDCWD, g_paths[i].data(), 4);
  }
}

[[maybe_unused]] const bool g_registered =
    (at_immediate_exit(exit_phase::remove_files, remove_all_now), true);

}  // namespace

private_dir::private_dir() {
  const char* tmpdir = std::getenv("TMPDIR");
  const std::filesystem::path base = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  std::string tmpl = (base / "leakbench-XXXXXX").string();
  if (tmpl.size() >= k_path_max || ::mkdtemp(tmpl.data()) == nullptr) {
    const int err = tmpl.size() >= k_path_max ? ENAMETOOLONG : errno;
    throw std::system_error(err, std::generic_category(),
                            "cannot make a private folder in " + base.string());
  }
  path_ = tmpl;
  for (int i = 0; i < k_slots && slot_ < 0; ++i) {
    int state = k_free;
    if (g_state[i].compare_exchange_strong(state, k_claimed)) {
      std::memcpy(g_paths[i].data(), tmpl.c_str(), tmpl.size() + 1);
      g_state[i].store(k_ready);
      slot_ = i;
    }
  }
}

private_dir::~private_dir() {
  if (slot_ >= 0) g_state[slot_].store(k_free);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace leakbench::bench
