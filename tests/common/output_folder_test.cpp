// The folder writer under leakreport --out: a new folder, one behind a symlink, one that must
// be kept; each made by the test inside its own temporary folder.
#include "common/output_folder.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/common/folder_watch.hpp"
#include "tests/files.hpp"

namespace fs = std::filesystem;
namespace lc = leakbench::common;
namespace lt = leakbench::test;

namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

const lc::folder_files k_files = {{"index.html", "<html>new</html>"}, {"a.svg", "<svg/>"}};

}  // namespace

TEST(output_folder, a_new_folder_holds_the_files_and_nothing_else_is_left) {
  lt::temp_dir dir;
  const mode_t saved = ::umask(027);
  lc::write_folder(dir.path() / "report", k_files, nullptr);
  ::umask(saved);
  EXPECT_EQ(lt::listing(dir.path() / "report"), (std::vector<std::string>{"a.svg", "index.html"}));
  EXPECT_EQ(lt::slurp(dir.path() / "report/index.html"), "<html>new</html>");
  EXPECT_EQ(mode_of(dir.path() / "report"), 0750u) << "0777 less the umask, as mkdir gives it";
  EXPECT_EQ(lt::listing(dir.path()), std::vector<std::string>{"report"});
}

TEST(output_folder, a_symlinked_folder_is_written_through_and_stays_a_link) {
  lt::temp_dir dir;
  const auto site = dir.path() / "site", out = dir.path() / "out";
  fs::create_directories(site / "report-2026");
  fs::create_directories(out);
  std::ofstream(site / "report-2026/old.svg") << "old";
  fs::permissions(site / "report-2026", fs::perms(0750));
  fs::create_symlink("../site/report-2026", out / "report");
  fs::path asked;
  lt::folder_watch watch_out(out), watch_site(site);
  // "report/": the trailing slash still names the link, not the folder it points to.
  lc::write_folder(out / "report/", k_files, [&](const fs::path& existing) {
    asked = existing;
    return std::string();
  });
  EXPECT_EQ(asked, out / "../site/report-2026") << "the predicate judges the real folder";
  EXPECT_TRUE(fs::is_symlink(out / "report"));
  EXPECT_EQ(fs::read_symlink(out / "report"), "../site/report-2026");
  EXPECT_EQ(lt::listing(site / "report-2026"), (std::vector<std::string>{"a.svg", "index.html"}));
  EXPECT_EQ(lt::slurp(site / "report-2026/index.html"), "<html>new</html>");
  EXPECT_EQ(mode_of(site / "report-2026"), 0750u);
  EXPECT_TRUE(watch_out.names().empty()) << "staged beside the link: " << watch_out.names()[0];
  EXPECT_FALSE(watch_site.names().empty()) << "staged beside the target";
  EXPECT_EQ(lt::listing(out), std::vector<std::string>{"report"});
  EXPECT_EQ(lt::listing(site), std::vector<std::string>{"report-2026"}) << "no staging folder left";
}

TEST(output_folder, a_folder_the_predicate_refuses_is_left_as_it_was) {
  lt::temp_dir dir;
  const auto mine = dir.path() / "mine";
  fs::create_directories(mine);
  std::ofstream(mine / "notes.txt") << "keep";
  try {
    lc::write_folder(mine, k_files, [](const fs::path&) { return std::string("not a report"); });
    ADD_FAILURE() << "replaced";
  } catch (const lc::output_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + mine.string() + ": not a report");
  }
  EXPECT_EQ(lt::listing(mine), std::vector<std::string>{"notes.txt"});
  EXPECT_EQ(lt::slurp(mine / "notes.txt"), "keep");
  EXPECT_EQ(lt::listing(dir.path()), std::vector<std::string>{"mine"});
}

TEST(output_folder, a_failure_leaves_nothing_behind) {
  lt::temp_dir dir;
  std::ofstream(dir.path() / "file") << "x";
  const std::vector<std::pair<fs::path, lc::folder_files>> cases = {
      {dir.path() / "no_such/report", k_files},            // a missing parent folder
      {dir.path() / "file", k_files},                      // a file in the way
      {dir.path() / "report", {{"../escape.html", "x"}}},  // a name that is no file name
  };
  for (const auto& [path, files] : cases) {
    EXPECT_THROW(lc::write_folder(path, files, nullptr), lc::output_error) << path;
  }
  EXPECT_EQ(lt::listing(dir.path()), std::vector<std::string>{"file"});
  EXPECT_EQ(lt::slurp(dir.path() / "file"), "x");
}
