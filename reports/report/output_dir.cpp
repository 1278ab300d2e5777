#include "reports/report/output_dir.hpp"

#include <fmt/format.h>

#include <fstream>

#include "common/output_folder.hpp"
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
  const auto fail = [&](const std::string& why) {
    return output_error(fmt::format("{}: cannot write the report: {}", out.string(), why));
  };
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);  // --out a/b/report makes a/b
  if (ec) throw fail(ec.message());
  try {
    common::write_folder(target, f, not_a_report);
  } catch (const common::output_error& e) {
    throw fail(e.reason());
  }
}

}  // namespace leakbench::report
