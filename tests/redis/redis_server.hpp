#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness/brokers/redis_connection.hpp"

extern char** environ;

namespace leakbench::test {

/// A real redis-server of the test's own: on a free loopback port, no persistence, stopped by
/// pid. Restartable on the same port, for fault tests.
class redis_server {
 public:
  explicit redis_server(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    char tmpl[] = "/tmp/leakbench_redis_XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    for (int attempt = 1;; ++attempt) {
      port_ = free_port();
      try {
        start();
        return;
      } catch (const std::runtime_error&) {
        if (attempt == 3) throw;  // another process took the port between probe and bind
      }
    }
  }
  ~redis_server() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& auth = "", int db = 0) const {
    std::string u = "redis://";
    if (!auth.empty()) u.append(":").append(auth).append("@");
    u.append("127.0.0.1:").append(std::to_string(port_));
    if (db != 0) u.append("/").append(std::to_string(db));
    return u;
  }

  /// The Unix socket it also listens on.
  std::string socket_path() const { return (dir_ / "redis.sock").string(); }
  /// unix://[:auth@]/path[?db=N]
  std::string unix_url(const std::string& auth = "", int db = 0) const {
    std::string u = "unix://";
    if (!auth.empty()) u.append(":").append(auth).append("@");
    u.append(socket_path());
    if (db != 0) u.append("?db=").append(std::to_string(db));
    return u;
  }

  void start() {
    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_.string(),
                                     "--daemonize",
                                     "no",
                                     "--loglevel",
                                     "warning",
                                     "--unixsocket",
                                     socket_path(),
                                     "--unixsocketperm",
                                     "700"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (dir_ / "redis.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int rc = posix_spawnp(&pid_, "redis-server", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      throw std::runtime_error("cannot start redis-server (is it installed? scripts/install-deps)");
    for (int i = 0; i < 1000; ++i) {  // up to 10 s
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start: " + read(dir_ / "redis.log"));
      }
      if (accepts() && ready()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop();
    throw std::runtime_error("redis-server did not come up on port " + std::to_string(port_));
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {  // up to 5 s, then no more waiting
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  /// A direct connection, for looking at keys.
  brokers::redis_connection connect(const std::string& auth = "") const {
    return brokers::redis_connection(brokers::redis_url::parse(url(auth)), {});
  }

 private:
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      throw std::runtime_error("no free loopback port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  // Accepting is not answering: with persistence on, a restarted server replies LOADING to
  // every command until it has read its data back.
  bool ready() const {
    try {
      auto c = connect();
      c.command({"PING"});
      return true;
    } catch (const brokers::broker_error& e) {
      // NOAUTH and the like are answers; only LOADING (or no answer) means not yet.
      return std::string_view(e.what()).find("LOADING") == std::string_view::npos &&
             dynamic_cast<const brokers::connection_lost*>(&e) == nullptr;
    }
  }

  bool accepts() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::vector<std::string> extra_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace leakbench::test
