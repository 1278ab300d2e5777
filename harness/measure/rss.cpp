#include "harness/measure/rss.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace leakbench::measure {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::int64_t parse_field(std::string_view text, int index) {
  std::size_t pos = 0;
  for (int i = 0; i < index; ++i) {
    pos = text.find(' ', pos);
    if (pos == std::string_view::npos) throw std::runtime_error("short /proc/self/statm");
    ++pos;
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
  if (ec != std::errc{}) throw std::runtime_error("unparsable /proc/self/statm");
  return value;
}

std::string proc_file(int pid, const char* name) {
  return pid > 0 ? "/proc/" + std::to_string(pid) + "/" + name : std::string("/proc/self/") + name;
}

}  // namespace

rss_reader::rss_reader(int pid)
    : fd_(::open(proc_file(pid, "statm").c_str(), O_RDONLY | O_CLOEXEC)),
      page_size_(::sysconf(_SC_PAGESIZE)) {
  if (fd_ < 0) throw_errno(("open " + proc_file(pid, "statm")).c_str());
}

rss_reader::~rss_reader() { ::close(fd_); }

std::int64_t rss_reader::current() const {
  char buf[128];
  // statm is regenerated on every read at offset 0: no seek, no reopen.
  ssize_t n = ::pread(fd_, buf, sizeof buf, 0);
  if (n <= 0) throw_errno("pread /proc/self/statm");
  return parse_field(std::string_view(buf, static_cast<std::size_t>(n)), 1) * page_size_;
}

std::int64_t current_rss() {
  static const rss_reader reader;
  return reader.current();
}

std::string clear_refs_of(int pid) { return proc_file(pid, "clear_refs"); }

std::int64_t peak_rss(int pid) {
  const std::string status = proc_file(pid, "status");
  std::FILE* f = std::fopen(status.c_str(), "re");
  if (f == nullptr) throw_errno(("open " + status).c_str());
  char line[256];
  std::int64_t kib = -1;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) {
      std::string_view rest(line + 6);
      rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
      std::from_chars(rest.data(), rest.data() + rest.size(), kib);
      break;
    }
  }
  std::fclose(f);
  if (kib < 0) throw std::runtime_error("no VmHWM in " + status);
  return kib * 1024;
}

bool reset_peak_rss(const char* clear_refs) {
  int fd = ::open(clear_refs, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, "5", 1) == 1;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return ok;
}

}  // namespace leakbench::measure
