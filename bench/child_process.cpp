#include "bench/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <system_error>
#include <thread>

#include "bench/interrupt.hpp"

extern char** environ;

namespace leakbench::bench {
namespace {

struct pipe_pair {
  int read = -1, write = -1;
};

pipe_pair make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  return {fds[0], fds[1]};
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// The environment as NAME=VALUE strings, `extra` replacing entries of the same name.
std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> by_name;
  std::vector<std::string> order;
  const auto add = [&](const std::string& entry) {
    const auto name = entry.substr(0, entry.find('='));
    if (!by_name.contains(name)) order.push_back(name);
    by_name[name] = entry;
  };
  for (char** e = environ; *e != nullptr; ++e) add(*e);
  for (const auto& e : extra) add(e);
  std::vector<std::string> out;
  for (const auto& name : order) out.push_back(by_name[name]);
  return out;
}

// The children alive now, for a second signal's immediate exit: they must be gone before
// their private folder is removed (a redis-server reopens its log for every line).
constexpr int k_child_slots = 16;
std::atomic<pid_t> g_children[k_child_slots]{};

void track(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t none = 0;
    if (slot.compare_exchange_strong(none, pid)) return;
  }  // more at once than slots: PR_SET_PDEATHSIG still ends it with us
}

void untrack(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t mine = pid;
    if (slot.compare_exchange_strong(mine, 0)) return;
  }
}

void kill_children_now() noexcept {  // async-signal-safe
  for (auto& slot : g_children) {
    if (const pid_t pid = slot.load(); pid > 0) ::kill(pid, SIGKILL);
  }
  for (auto& slot : g_children) {
    if (const pid_t pid = slot.load(); pid > 0) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

[[maybe_unused]] const bool g_registered =
    (at_immediate_exit(exit_phase::stop_children, kill_children_now), true);

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const spawn_options& o, char* const* argv, char* const* envp, int in,
                             int out, int err, int record, int report, pid_t parent) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before the death signal was set
  struct sigaction dfl {};  // leakbench ignores SIGPIPE; exec would keep that for the child
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGINT, SIGTERM}) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  const auto move_to = [&](int from, int to) {
    if (from == to) {
      ::fcntl(to, F_SETFD, 0);  // keep it across exec
    } else if (::dup2(from, to) < 0) {
      const int e = errno;
      (void)!::write(report, &e, sizeof e);
      ::_exit(127);
    }
  };
  if (in < 0) in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out < 0) out = ::dup(STDERR_FILENO);  // nothing of a child reaches leakbench's stdout
  move_to(in, STDIN_FILENO);
  move_to(out, STDOUT_FILENO);
  if (err >= 0) move_to(err, STDERR_FILENO);
  if (record >= 0) move_to(record, o.record_fd);
  if (std::strchr(argv[0], '/') != nullptr) {
    ::execve(argv[0], argv, envp);
  } else {
    ::execvpe(argv[0], argv, envp);
  }
  const int e = errno;
  (void)!::write(report, &e, sizeof e);
  ::_exit(127);
}

}  // namespace

child_process::child_process(const spawn_options& opts) {
  if (opts.argv.empty()) throw std::invalid_argument("child_process: no program");
  pipe_pair in, out, err, record;
  if (opts.pipe_stdin) in = make_pipe();
  if (opts.pipe_stdout) out = make_pipe();
  if (opts.pipe_stderr) err = make_pipe();
  if (opts.record_fd >= 0) record = make_pipe();
  pipe_pair report = make_pipe();  // exec's errno, if it fails; closed by a successful exec
  // Everything the child needs, built before fork: no allocation after it.
  std::vector<std::string> args = opts.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = merged_environment(opts.env);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // A signal between fork and exec must not run leakbench's handler in the child (it would be
  // lost there): blocked across fork, the child takes it by the default action, the parent
  // forwards it once the child is known.
  sigset_t stops, saved;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &stops, &saved);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    const int e = errno;
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    for (auto* p : {&in, &out, &err, &record, &report}) {
      close_fd(p->read);
      close_fd(p->write);
    }
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid_ == 0) {
    exec_child(opts, argv.data(), envp.data(), in.read, out.write, err.write, record.write,
               report.write, parent);
  }
  ::setpgid(pid_, pid_);  // also here: no race with a signal forwarded right away
  track(pid_);
  forwarded_ = opts.forward_signals;
  if (forwarded_) forward_signals_to(pid_);
  ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);
  close_fd(record.write);
  close_fd(report.write);
  int exec_errno = 0;
  ssize_t n;
  while ((n = ::read(report.read, &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close_fd(report.read);
  stdin_ = in.write;
  stdout_ = out.read;
  stderr_ = err.read;
  record_ = record.read;
  if (n > 0) {
    wait();
    throw std::system_error(exec_errno, std::generic_category(), "cannot run " + opts.argv[0]);
  }
}

child_process::~child_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  for (int* fd : {&stdin_, &stdout_, &stderr_, &record_}) close_fd(*fd);
}

void child_process::close_stdin() { close_fd(stdin_); }

void child_process::signal(int sig) const {
  if (pid_ > 0) ::kill(pid_, sig);
}

int child_process::wait() {
  int status = 0;
  if (pid_ <= 0) return status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  untrack(pid_);
  if (forwarded_) forward_signals_to(0);
  pid_ = -1;
  return status;
}

std::optional<int> child_process::poll() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  untrack(pid_);
  if (forwarded_) forward_signals_to(0);
  pid_ = -1;
  return status;
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto status = poll()) return status;
    if (pid_ <= 0 || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return 0;
  signal(SIGTERM);
  if (auto status = wait_for(grace)) return *status;
  signal(SIGKILL);
  return wait();
}

std::string child_process::describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("killed by SIG") + (name != nullptr ? name : "?");
  }
  return "ended (status " + std::to_string(status) + ")";
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    // Wait in poll, not in read: ThreadSanitizer runs a signal handler at once in a thread
    // blocked in poll but defers it past a blocked read, and so held the SIGTERM leakbench
    // forwards to its child back until the child had run all its retries.
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, -1) < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      return out;
    } else if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "read");
    }
  }
}

}  // namespace leakbench::bench
