#pragma once

// A private RabbitMQ server for tests, by the recipe of docs/rabbitmq.md (scripts/rabbitmq-server
// follows the same recipe for CI). Its processes are found only through the pids it started and
// their descendants: other rabbitmq, epmd and beam processes on the machine stay untouched.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/process_tree.hpp"

extern char** environ;

namespace leakbench::test {

/// A real RabbitMQ server of the test's own: its own epmd, every socket on 127.0.0.1, all its
/// files in a temporary folder; stopped by the pids it started, and the folder removed.
class rabbitmq_server {
 public:
  /// Not /usr/sbin/rabbitmq-server: that wrapper switches to the rabbitmq user, who cannot
  /// write our root-owned folder.
  static constexpr const char* k_server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
  static constexpr const char* k_epmd = "/usr/bin/epmd";
  /// It answers in 5-10 s here; more on a loaded machine.
  static constexpr auto k_start_timeout = std::chrono::seconds(60);
  /// A clean stop takes about 1 s here; then SIGKILL.
  static constexpr auto k_stop_timeout = std::chrono::seconds(20);

  /// Why no server can start here ("" if one can), for GTEST_SKIP.
  static std::string unavailable() {
    for (const char* exe : {k_server, k_epmd}) {
      if (::access(exe, X_OK) != 0) {
        return std::string(exe) + " not found: scripts/install-deps installs rabbitmq-server";
      }
    }
    return "";
  }

  /// Starts one and waits until it answers AMQP. On failure its processes are stopped and the
  /// folder is kept for the log the one-line error names.
  rabbitmq_server() {
    char tmpl[] = "/tmp/leakbench_rabbitmq_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::ofstream(dir_ / "enabled_plugins") << "[].\n";
    for (int attempt = 1;; ++attempt) {
      try {
        start();
        return;
      } catch (const exited_at_start& e) {
        // Another process took one of the ports between probe and bind; anything else fails
        // the same way each time.
        if (attempt == 3) throw std::runtime_error(e.what());
      }
    }
  }
  ~rabbitmq_server() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  rabbitmq_server(const rabbitmq_server&) = delete;
  rabbitmq_server& operator=(const rabbitmq_server&) = delete;

  /// amqp://guest:guest@127.0.0.1:PORT/%2F (the guest user may log in from loopback only).
  std::string url() const {
    return "amqp://guest:guest@127.0.0.1:" + std::to_string(port_) + "/%2F";
  }
  int port() const { return port_; }
  int dist_port() const { return dist_port_; }
  int epmd_port() const { return epmd_port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path log() const { return dir_ / "rabbitmq.log"; }
  /// The processes it started, epmd then the server's script; the rest are their descendants.
  std::vector<pid_t> pids() const { return {epmd_.pid, server_.pid}; }

  /// Stops the server (SIGTERM to its script, which stops the VM; SIGKILL to whatever is left
  /// after k_stop_timeout), then its epmd.
  void stop() {
    stop_tree(server_);  // first: the server stays registered with its epmd until it ends
    stop_tree(epmd_);
  }

 private:
  struct exited_at_start : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  void start() {
    const auto ports = free_ports();
    port_ = ports[0];
    dist_port_ = ports[1];
    epmd_port_ = ports[2];
    std::mt19937_64 random(std::random_device{}());
    char node[48];
    std::snprintf(node, sizeof node, "leakbench-%012llx@localhost",
                  static_cast<unsigned long long>(random() & 0xffffffffffffULL));
    const std::string d = dir_.string();
    const std::vector<std::string> env = {
        "HOME=" + d,  // the Erlang cookie goes there
        std::string("RABBITMQ_NODENAME=") + node, "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
        "RABBITMQ_NODE_PORT=" + std::to_string(port_),
        "RABBITMQ_DIST_PORT=" + std::to_string(dist_port_), "ERL_EPMD_ADDRESS=127.0.0.1",
        "ERL_EPMD_PORT=" + std::to_string(epmd_port_), "RABBITMQ_MNESIA_BASE=" + d + "/mnesia",
        "RABBITMQ_LOG_BASE=" + d + "/log",
        "RABBITMQ_LOGS=-",  // to standard output, into rabbitmq.log with the boot errors
        "RABBITMQ_PID_FILE=" + d + "/beam.pid",
        "RABBITMQ_ENABLED_PLUGINS_FILE=" + d + "/enabled_plugins",
        "RABBITMQ_FEATURE_FLAGS_FILE=" + d + "/feature_flags",
        "RABBITMQ_CONF_ENV_FILE=" + d + "/rabbitmq-env.conf",  // none of /etc/rabbitmq
        "RABBITMQ_CONFIG_FILE=" + d + "/rabbitmq",
        "RABBITMQ_ADVANCED_CONFIG_FILE=" + d + "/advanced.config",
        // Read by every Erlang VM of the server, the short-lived one it starts to check epmd
        // included: distribution and the syslog client bind every address unless told, and no
        // VM may start an epmd of its own, which would daemonize out of our reach.
        "ERL_AFLAGS=-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false "
        "-syslog protocol {rfc3164,udp,[{ip,{127,0,0,1}}]}"};

    epmd_ = spawn({k_epmd, "-port", std::to_string(epmd_port_), "-address", "127.0.0.1"}, env,
                  dir_ / "epmd.log");
    const auto epmd_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepts(epmd_port_)) {
      if (!still_running(epmd_) || std::chrono::steady_clock::now() > epmd_deadline) {
        stop();
        throw exited_at_start("epmd did not listen on 127.0.0.1:" + std::to_string(epmd_port_) +
                              "; see " + (dir_ / "epmd.log").string());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }

    server_ = spawn({k_server}, env, log());
    const auto deadline = std::chrono::steady_clock::now() + k_start_timeout;
    while (!answers_amqp(port_)) {
      if (!still_running(server_)) {
        stop();
        throw exited_at_start("rabbitmq-server exited at start; see " + log().string());
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        throw std::runtime_error(
            "rabbitmq-server: no AMQP answer on 127.0.0.1:" + std::to_string(port_) + " within " +
            std::to_string(k_start_timeout.count()) + " s; see " + log().string());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // `args` run with this process's environment minus any RABBITMQ_* or ERL_* setting (only the
  // recipe applies) plus `env`; standard output and error appended to `log`.
  static process_info spawn(std::vector<std::string> args, const std::vector<std::string>& env,
                            const std::filesystem::path& log) {
    std::vector<std::string> entries;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string_view entry = *e;
      if (!entry.starts_with("RABBITMQ_") && !entry.starts_with("ERL_")) entries.emplace_back(*e);
    }
    entries.insert(entries.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : entries) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
    if (auto p = read_process(pid)) return *p;
    return process_info{.pid = pid};  // already gone: stop_tree only reaps it
  }

  // SIGTERM to `root`, our child, then SIGKILL to whatever of it and its descendants is left
  // after k_stop_timeout; `root` reaped.
  static void stop_tree(process_info& root) {
    if (root.pid <= 0) return;
    std::map<pid_t, process_info> tree = {{root.pid, root}};
    signal_process(root, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + k_stop_timeout;
    bool killed = false;
    for (;;) {
      if (still_running(root)) {  // still a parent: whatever it started since counts too
        for (auto& p : descendants(root.pid)) tree.emplace(p.pid, p);
      }
      std::vector<pid_t> left;
      for (const auto& [pid, p] : tree) {
        if (still_running(p)) left.push_back(pid);
      }
      if (left.empty() || (killed && std::chrono::steady_clock::now() > deadline)) break;
      if (!killed && std::chrono::steady_clock::now() > deadline) {
        for (pid_t pid : left) signal_process(tree.at(pid), SIGKILL);
        killed = true;
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::waitpid(root.pid, nullptr, 0);
    root.pid = -1;
  }

  // Three distinct free loopback ports, held together while the kernel picks them.
  static std::array<int, 3> free_ports() {
    std::array<int, 3> fds{}, ports{};
    for (std::size_t i = 0; i < fds.size(); ++i) {
      fds[i] = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr = loopback(0);
      socklen_t len = sizeof addr;
      if (::bind(fds[i], reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          ::getsockname(fds[i], reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        for (std::size_t j = 0; j <= i; ++j) ::close(fds[j]);
        throw std::runtime_error("no free loopback port");
      }
      ports[i] = ntohs(addr.sin_port);
    }
    for (int fd : fds) ::close(fd);
    return ports;
  }

  static sockaddr_in loopback(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    return addr;
  }

  static bool accepts(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in addr = loopback(port);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  // Accepting is not answering: the AMQP listener opens only once the broker has booted, and
  // Connection.Start (a method frame, type 1) is its first word to a client, with no second
  // Erlang VM as rabbitmq-diagnostics would start and no cookie to read.
  static bool answers_amqp(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const timeval two_seconds{.tv_sec = 2, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &two_seconds, sizeof two_seconds);
    const sockaddr_in addr = loopback(port);
    unsigned char type = 0;
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::send(fd, "AMQP\x00\x00\x09\x01", 8, MSG_NOSIGNAL) == 8 &&
                    ::recv(fd, &type, 1, 0) == 1 && type == 1;
    ::close(fd);
    return ok;
  }

  std::filesystem::path dir_;
  int port_ = 0;
  int dist_port_ = 0;
  int epmd_port_ = 0;
  process_info epmd_{.pid = -1};
  process_info server_{.pid = -1};
};

/// The one server of this test binary, started at first use (start-up takes seconds) and
/// stopped at exit; if it could not start, every use throws that start's error.
inline rabbitmq_server& shared_rabbitmq_server() {
  static std::string error;
  static const auto server = []() -> std::unique_ptr<rabbitmq_server> {
    try {
      return std::make_unique<rabbitmq_server>();
    } catch (const std::exception& e) {
      error = e.what();
      return nullptr;
    }
  }();
  if (server == nullptr) throw std::runtime_error(error);
  return *server;
}

}  // namespace leakbench::test
