#pragma once

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/brokers/redis_broker.hpp"
#include "tests/redis/redis_server.hpp"

namespace leakbench::test {

/// Short timeouts and heartbeats: the Redis tests' broker options.
inline brokers::redis_options fast(std::string prefix = "") {
  using namespace std::chrono_literals;
  brokers::redis_options o;
  o.prefix = std::move(prefix);
  o.timeouts = {.connect = 1000ms, .io = 1000ms};
  o.heartbeat = 50ms;
  o.dead_after = 300ms;
  return o;
}

/// A broker on `s`.
inline brokers::redis_broker make_broker(const redis_server& s, brokers::redis_options o = fast()) {
  return brokers::redis_broker(brokers::redis_url::parse(s.url()), std::move(o));
}

/// How many keys on `s` match `pattern`.
inline long long key_count(const redis_server& s, const std::string& pattern) {
  auto c = s.connect();
  return static_cast<long long>(c.command({"KEYS", pattern}).elements.size());
}

/// Kills every client of `s` but `admin`'s own connection; how many.
inline long long kill_clients(brokers::redis_connection& admin) {
  return admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}).integer;
}

/// How many clients of the connection's server wait in a blocking command or a CLIENT PAUSE.
inline long long blocked_clients(brokers::redis_connection& admin) {
  const std::string info = admin.command({"INFO", "clients"}).str;
  const auto at = info.find("blocked_clients:");
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + 16));
}

/// Holds every write (CLIENT PAUSE WRITE) until `held` clients wait on one, then kills every
/// client but `admin` and lets writes through: connections lost under commands that never ran.
inline long long kill_clients_held_in_a_write(brokers::redis_connection& admin,
                                              long long held = 1) {
  while (blocked_clients(admin) < held) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const long long killed = kill_clients(admin);
  admin.command({"CLIENT", "UNPAUSE"});
  return killed;
}

/// The CLIENT ID of the one client blocked in a command (BLMOVE), waiting until there is one.
inline long long blocked_client_id(brokers::redis_connection& admin) {
  while (blocked_clients(admin) < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string list = admin.command({"CLIENT", "LIST", "TYPE", "normal"}).str;
  std::istringstream lines(list);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" flags=b ") != std::string::npos) return std::stoll(line.substr(3));
  }
  throw std::runtime_error("no blocked client in CLIENT LIST: " + list);
}

/// Sends `commands` to `s` in one write, so that the server runs them back to back (a blocked
/// client served by the first is still waiting for its reply when the second runs).
inline void pipelined(const redis_server& s,
                      const std::vector<std::vector<std::string>>& commands) {
  redisContext* c = redisConnect("127.0.0.1", s.port());
  if (c == nullptr || c->err != 0) throw std::runtime_error("cannot connect for a pipeline");
  for (const auto& args : commands) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  for (std::size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK) break;
    freeReplyObject(reply);
  }
  redisFree(c);
}

/// A loopback port whose listener accepts every connection and closes it at once: what a
/// server that kills each new client looks like.
class closing_listener {
 public:
  closing_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (int c; (c = ::accept(fd_, nullptr, nullptr)) >= 0;) ::close(c);
    });
  }
  ~closing_listener() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes the accept
    thread_.join();
    ::close(fd_);
  }
  closing_listener(const closing_listener&) = delete;
  closing_listener& operator=(const closing_listener&) = delete;

  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

/// Fills `s` past a maxmemory of 1 MiB that evicts nothing: every write is refused with -OOM.
inline void fill_to_maxmemory(const redis_server& s) {
  auto c = s.connect();
  c.command({"SET", "filler", std::string(2 << 20, 'x')});
  c.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
  c.command({"CONFIG", "SET", "maxmemory", "1mb"});
}

}  // namespace leakbench::test
