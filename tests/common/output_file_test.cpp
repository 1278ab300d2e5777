// The one output writer of leakbench, leakgate and leakreport, on every kind of path a user
// may give it: each made by the test inside its own temporary folder.
#include "common/output_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
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
  return st.st_mode;
}

/// What write_output threw, or "" if it did not.
std::string error_of(const fs::path& p, std::string_view text = "x") {
  try {
    lc::write_output(p, text);
  } catch (const lc::output_error& e) {
    return e.what();
  }
  return "";
}

/// Everything readable from `fd` until every writer closed it.
std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
  return out;
}

/// Sets the umask for the scope: the modes expected below do not depend on the caller's.
class scoped_umask {
 public:
  explicit scoped_umask(mode_t mask) : saved_(::umask(mask)) {}
  ~scoped_umask() { ::umask(saved_); }

 private:
  mode_t saved_;
};

}  // namespace

TEST(output_file, a_new_file_gets_0666_less_the_umask) {
  lt::temp_dir dir;
  const scoped_umask mask(027);
  lc::write_output(dir.path() / "new.json", "{}\n");
  EXPECT_EQ(lt::slurp(dir.path() / "new.json"), "{}\n");
  EXPECT_EQ(mode_of(dir.path() / "new.json") & 07777, 0640u);
  EXPECT_EQ(lt::listing(dir.path()), std::vector<std::string>{"new.json"});
}

TEST(output_file, an_existing_file_keeps_its_mode_and_gets_the_new_text) {
  lt::temp_dir dir;
  const scoped_umask mask(022);  // a new file would be 0644
  const auto file = dir.path() / "out.json";
  std::ofstream(file) << "old text, longer than the new";
  fs::permissions(file, fs::perms(0640));
  lc::write_output(file, "new");
  EXPECT_EQ(lt::slurp(file), "new");
  EXPECT_EQ(mode_of(file) & 07777, 0640u);
  EXPECT_EQ(lt::listing(dir.path()), std::vector<std::string>{"out.json"});
}

TEST(output_file, as_root_an_existing_file_keeps_its_owner_and_group) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a file to someone else";
  lt::temp_dir dir;
  const auto file = dir.path() / "out.json";
  std::ofstream(file) << "old";
  ASSERT_EQ(::chown(file.c_str(), 4321, 8765), 0) << std::strerror(errno);
  lc::write_output(file, "new");
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4321u);
  EXPECT_EQ(st.st_gid, 8765u);
  EXPECT_EQ(lt::slurp(file), "new");
}

TEST(output_file, a_symlink_is_written_through_and_stays_a_link) {
  lt::temp_dir dir;
  fs::create_directories(dir.path() / "runs");
  const auto target = dir.path() / "runs/2026-12-07.json", link = dir.path() / "out.json";
  std::ofstream(target) << "old";
  fs::create_symlink(target, link);
  lc::write_output(link, "new");
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(fs::read_symlink(link), target);
  EXPECT_EQ(lt::slurp(target), "new");
  EXPECT_EQ(lt::listing(dir.path()), (std::vector<std::string>{"out.json", "runs"}));
  EXPECT_EQ(lt::listing(dir.path() / "runs"), std::vector<std::string>{"2026-12-07.json"});
}

TEST(output_file, a_relative_link_and_a_chain_of_two_links_are_read_from_their_folders) {
  lt::temp_dir dir;
  fs::create_directories(dir.path() / "runs");
  // Both relative, so each only resolves against its own link's folder, not the cwd.
  fs::create_symlink("runs/latest.json", dir.path() / "out.json");
  fs::create_symlink("2026-12-07.json", dir.path() / "runs/latest.json");
  std::ofstream(dir.path() / "runs/2026-12-07.json") << "old";
  lc::write_output(dir.path() / "out.json", "new");
  EXPECT_EQ(fs::read_symlink(dir.path() / "out.json"), "runs/latest.json");
  EXPECT_EQ(fs::read_symlink(dir.path() / "runs/latest.json"), "2026-12-07.json");
  EXPECT_EQ(lt::slurp(dir.path() / "runs/2026-12-07.json"), "new");
  EXPECT_EQ(lt::listing(dir.path() / "runs"),
            (std::vector<std::string>{"2026-12-07.json", "latest.json"}));
}

TEST(output_file, a_link_to_a_link_in_another_folder_is_staged_beside_the_final_target) {
  lt::temp_dir dir;
  for (const char* d : {"a", "b", "c"}) fs::create_directories(dir.path() / d);
  fs::create_symlink("../b/link.json", dir.path() / "a/out.json");
  fs::create_symlink(dir.path() / "c/final.json", dir.path() / "b/link.json");
  std::ofstream(dir.path() / "c/final.json") << "old";
  lt::folder_watch a(dir.path() / "a"), b(dir.path() / "b"), c(dir.path() / "c");
  lc::write_output(dir.path() / "a/out.json", "new");
  EXPECT_EQ(lt::slurp(dir.path() / "c/final.json"), "new");
  EXPECT_TRUE(a.names().empty()) << a.names().front();
  EXPECT_TRUE(b.names().empty()) << b.names().front();
  const auto staged = c.names();
  ASSERT_EQ(staged.size(), 2u) << "the temporary file, then its rename";
  EXPECT_TRUE(staged[0].starts_with(".final.json.")) << staged[0];
  EXPECT_EQ(staged[1], "final.json");
  EXPECT_EQ(lt::listing(dir.path() / "a"), std::vector<std::string>{"out.json"});
  EXPECT_EQ(lt::listing(dir.path() / "b"), std::vector<std::string>{"link.json"});
  EXPECT_EQ(lt::listing(dir.path() / "c"), std::vector<std::string>{"final.json"});
}

TEST(output_file, a_dangling_symlink_creates_its_target) {
  lt::temp_dir dir;
  const scoped_umask mask(022);
  fs::create_symlink("made.json", dir.path() / "out.json");
  lc::write_output(dir.path() / "out.json", "new");
  EXPECT_TRUE(fs::is_symlink(dir.path() / "out.json"));
  EXPECT_EQ(lt::slurp(dir.path() / "made.json"), "new");
  EXPECT_EQ(mode_of(dir.path() / "made.json") & 07777, 0644u);
}

TEST(output_file, a_fifo_is_written_directly_and_stays_a_fifo_also_through_a_link) {
  lt::temp_dir dir;
  const auto fifo = dir.path() / "fifo", link = dir.path() / "link";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::create_symlink("fifo", link);
  for (const auto& path : {fifo, link}) {
    // The read end open first, without blocking: the writer's open does not wait for a reader,
    // and a writer that never came reads as nothing rather than hanging the test.
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(reader, 0);
    const std::string text = "through " + path.filename().string();
    EXPECT_EQ(error_of(path, text), "");
    EXPECT_EQ(read_all(reader), text);
    ::close(reader);
    EXPECT_TRUE(S_ISFIFO(mode_of(fifo)));
  }
  EXPECT_EQ(lt::listing(dir.path()), (std::vector<std::string>{"fifo", "link"}));
}

TEST(output_file, a_unix_socket_is_written_directly) {
  lt::temp_dir dir;
  const auto path = dir.path() / "sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const auto* any = reinterpret_cast<const sockaddr*>(&addr);
  const int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::bind(server, any, sizeof(addr)), 0);
  ASSERT_EQ(::listen(server, 1), 0);
  std::string got;
  std::thread reader([&] {
    const int fd = ::accept(server, nullptr, nullptr);
    got = read_all(fd);
    ::close(fd);
  });
  const std::string what = error_of(path, "to a socket");
  if (!what.empty()) {  // the reader still waits for a connection: one that says nothing
    const int nobody = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::connect(nobody, any, sizeof(addr));
    ::close(nobody);
  }
  reader.join();
  ::close(server);
  EXPECT_EQ(what, "");
  EXPECT_EQ(got, "to a socket");
  EXPECT_TRUE(S_ISSOCK(mode_of(path)));
}

TEST(output_file, our_own_descriptor_of_a_pipe_is_written_to_that_descriptor) {
  lt::temp_dir dir;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string n = std::to_string(fds[1]);
  // As /dev/stdout is a link to /proc/self/fd/1: the link here is the test's own.
  fs::create_symlink("/proc/self/fd/" + n, dir.path() / "stdout");
  lc::write_output("/proc/self/fd/" + n, "a ");
  lc::write_output("/proc/" + std::to_string(::getpid()) + "/fd/" + n, "b ");
  lc::write_output("/dev/fd/" + n, "c ");
  lc::write_output(dir.path() / "stdout", "d");
  ::close(fds[1]);
  EXPECT_EQ(read_all(fds[0]), "a b c d");
  ::close(fds[0]);
  EXPECT_TRUE(fs::is_symlink(dir.path() / "stdout"));
}

TEST(output_file, our_own_append_descriptor_keeps_appending_after_the_old_text) {
  lt::temp_dir dir;
  const auto log = dir.path() / "log";
  std::ofstream(log) << "old text\n";
  struct stat before {};
  ASSERT_EQ(::stat(log.c_str(), &before), 0);
  const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  // Reopened, the text would replace the old (O_TRUNC) or overwrite its start.
  lc::write_output("/proc/self/fd/" + std::to_string(fd), "new\n");
  ::close(fd);
  EXPECT_EQ(lt::slurp(log), "old text\nnew\n");
  struct stat after {};
  ASSERT_EQ(::stat(log.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the same file, not one renamed over it";
}

TEST(output_file, dev_null_takes_it) { EXPECT_EQ(error_of("/dev/null"), ""); }

TEST(output_file, dev_full_fails_with_one_line) {
  EXPECT_EQ(error_of("/dev/full"), "cannot write /dev/full: No space left on device");
}

TEST(output_file, a_missing_parent_folder_fails_with_one_line_naming_the_path) {
  lt::temp_dir dir;
  const auto path = dir.path() / "no_such/out.json";
  EXPECT_EQ(error_of(path), "cannot write " + path.string() + ": No such file or directory");
  EXPECT_TRUE(lt::listing(dir.path()).empty());
}

TEST(output_file, a_folder_fails_and_is_left_as_it_was) {
  lt::temp_dir dir;
  fs::create_directories(dir.path() / "sub");
  const auto path = dir.path() / "sub";
  EXPECT_EQ(error_of(path), "cannot write " + path.string() + ": Is a directory");
  EXPECT_TRUE(fs::is_directory(path));
  EXPECT_EQ(lt::listing(dir.path()), std::vector<std::string>{"sub"});
}

TEST(output_file, a_link_loop_fails_with_one_line) {
  lt::temp_dir dir;
  fs::create_symlink("b", dir.path() / "a");
  fs::create_symlink("a", dir.path() / "b");
  const auto path = dir.path() / "a";
  EXPECT_EQ(error_of(path),
            "cannot write " + path.string() + ": Too many levels of symbolic links");
  EXPECT_EQ(lt::listing(dir.path()), (std::vector<std::string>{"a", "b"}));
}

TEST(output_file, a_failed_write_leaves_the_previous_file_and_nothing_else) {
  lt::temp_dir dir;
  const auto file = dir.path() / "out.json";
  std::ofstream(file) << "previous";
  // Every write past 1 KiB fails (EFBIG), as a full disk would, once SIGXFSZ no longer kills.
  const auto saved_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 1024;
  ::setrlimit(RLIMIT_FSIZE, &small);
  const std::string what = error_of(file, std::string(4096, 'x'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, saved_handler);
  EXPECT_EQ(what, "cannot write " + file.string() + ": File too large");
  EXPECT_EQ(lt::slurp(file), "previous");
  EXPECT_EQ(lt::listing(dir.path()), std::vector<std::string>{"out.json"});
}

TEST(output_file, own_fd_knows_our_descriptors_and_nothing_else) {
  EXPECT_EQ(lc::own_fd("/proc/self/fd/7"), 7);
  EXPECT_EQ(lc::own_fd("/dev/fd/0"), 0);
  EXPECT_EQ(lc::own_fd("/proc/" + std::to_string(::getpid()) + "/fd/12"), 12);
  EXPECT_EQ(lc::own_fd("/proc/self/fd/"), std::nullopt);
  EXPECT_EQ(lc::own_fd("/proc/self/fd/1x"), std::nullopt);
  EXPECT_EQ(lc::own_fd("/proc/self/fdinfo/1"), std::nullopt);
  EXPECT_EQ(lc::own_fd("/dev/stdout"), std::nullopt) << "a link to one, resolved hop by hop";
}
