#include "reports/report/output_dir.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>

#include "reports/report/html.hpp"

namespace leakbench::report {
namespace {

namespace fs = std::filesystem;

/// Why `dir` is not a report leakreport may replace, or "" if it is one (or empty): only
/// what a report writes (.html, .md, .svg), and an index.html that says leakreport wrote it.
std::string not_a_report(const fs::path& dir) {
  bool empty = true;
  for (const auto& e : fs::directory_iterator(dir)) {
    empty = false;
    const auto ext = e.path().extension();
    if (!e.is_regular_file() || (ext != ".html" && ext != ".md" && ext != ".svg")) {
      return "it holds files a report does not write; choose an empty or new folder";
    }
  }
  if (empty) return "";
  std::ifstream in(dir / "index.html");
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (head.find(generator_tag()) == std::string::npos) {
    return "its index.html was not written by leakreport; choose an empty or new folder";
  }
  return "";
}

}  // namespace

void write_report(const fs::path& out, const files& f) {
  const fs::path dir = fs::absolute(out).lexically_normal();
  const fs::path target = dir.has_filename() ? dir : dir.parent_path();
  const fs::path parent = target.parent_path();
  const auto fail = [&](const std::string& why) {
    return output_error(fmt::format("{}: cannot write the report: {}", out.string(), why));
  };
  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec)) throw fail("it exists and is not a folder");
    if (const auto why = not_a_report(target); !why.empty()) throw fail(why);
  }
  fs::create_directories(parent, ec);
  if (ec) throw fail(ec.message());
  const std::string name = target.filename().string();
  const auto pid = ::getpid();
  const fs::path staging = parent / fmt::format(".{}.tmp-{}", name, pid);
  fs::remove_all(staging, ec);
  if (!fs::create_directory(staging, ec) || ec) {
    throw fail(ec ? ec.message() : "cannot create a folder beside it");
  }
  try {
    for (const auto& [file_name, content] : f) {
      std::ofstream file(staging / file_name, std::ios::binary | std::ios::trunc);
      file.write(content.data(), static_cast<std::streamsize>(content.size()));
      file.flush();
      if (!file) throw fail(fmt::format("writing {} failed", file_name));
    }
    const fs::path old = parent / fmt::format(".{}.old-{}", name, pid);
    const bool replacing = fs::exists(target);
    if (replacing) {
      fs::rename(target, old, ec);
      if (ec) throw fail(ec.message());
    }
    fs::rename(staging, target, ec);
    if (ec) {
      if (replacing) fs::rename(old, target);  // put the previous report back
      throw fail(ec.message());
    }
    if (replacing) fs::remove_all(old, ec);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

}  // namespace leakbench::report
