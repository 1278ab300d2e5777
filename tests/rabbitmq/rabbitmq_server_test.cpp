// The private RabbitMQ server of tests and CI (docs/rabbitmq.md): the fixture and
// scripts/rabbitmq-server, each started here and checked from outside: its AMQP greeting, the
// addresses its processes listen on (ss), a real client (pika), and what a stop leaves.
#include "tests/rabbitmq/rabbitmq_server.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/files.hpp"
#include "tests/process.hpp"
#include "tests/process_tree.hpp"

namespace leakbench::test {
namespace {

constexpr const char* k_script = LEAKBENCH_SOURCE_DIR "/scripts/rabbitmq-server";
constexpr const char* k_python = "/usr/bin/python3";

// Declares a queue, publishes a message (confirmed), gets it back, deletes the queue and checks
// that it is gone.
constexpr const char* k_pika_client = R"(
import sys
import pika

connection = pika.BlockingConnection(pika.URLParameters(sys.argv[1]))
channel = connection.channel()
channel.confirm_delivery()
queue = "leakbench-test"
channel.queue_declare(queue=queue)
channel.basic_publish(exchange="", routing_key=queue, body=b"hello")
method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
if body != b"hello":
    sys.exit("got %r" % (body,))
channel.queue_delete(queue=queue)
try:
    channel.queue_declare(queue=queue, passive=True)
    sys.exit("the queue is still there")
except pika.exceptions.ChannelClosedByBroker as e:
    if e.reply_code != 404:
        raise
connection.close()
print("declared, published, got, deleted")
)";

// The bytes of the first frame the server sends after the AMQP 0-9-1 protocol header.
std::vector<std::uint8_t> first_frame(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const timeval five_seconds{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  std::vector<std::uint8_t> frame;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, "AMQP\x00\x00\x09\x01", 8, MSG_NOSIGNAL) == 8) {
    std::size_t want = 7;  // type, channel (2), payload size (4); then payload and 0xCE
    std::uint8_t buf[4096];
    while (frame.size() < want) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      frame.insert(frame.end(), buf, buf + n);
      if (want == 7 && frame.size() >= 7) {
        want += (std::size_t{frame[3]} << 24 | std::size_t{frame[4]} << 16 |
                 std::size_t{frame[5]} << 8 | frame[6]) +
                1;
      }
    }
  }
  ::close(fd);
  return frame;
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

void expect_connection_start(int port) {
  const auto frame = first_frame(port);
  ASSERT_GE(frame.size(), 15u) << "no whole frame from port " << port;
  EXPECT_EQ(frame[0], 1) << "not a method frame";
  EXPECT_EQ(frame[1] << 8 | frame[2], 0) << "not on channel 0";
  EXPECT_EQ(frame[7] << 8 | frame[8], 10) << "not class connection";
  EXPECT_EQ(frame[9] << 8 | frame[10], 10) << "not method start";
  EXPECT_EQ(frame[11], 0) << "version major";
  EXPECT_EQ(frame[12], 9) << "version minor";
  EXPECT_EQ(frame.back(), 0xCE) << "no frame end";
}

// `root` and its living descendants.
std::vector<process_info> tree_of(pid_t root) {
  std::vector<process_info> out;
  if (auto p = read_process(root)) out.push_back(*p);
  for (auto& p : descendants(root)) out.push_back(std::move(p));
  return out;
}

struct listener {
  std::string protocol;  // tcp, udp
  std::string process;   // ss's name for it: beam.smp, epmd
  std::string address;   // as ss prints it: 127.0.0.1, [::1], 0.0.0.0, *, [::]
  int port = 0;
  auto operator<=>(const listener&) const = default;
};

// Every TCP listener and unconnected UDP socket, as `ss -Hltunp` prints them ("" if ss failed:
// the callers expect listeners, so they fail then); `scratch` holds ss's output.
std::string ss_listening(const std::filesystem::path& scratch) {
  const auto ss = run_process("/usr/bin/ss", {"-Hltunp"}, scratch);
  return ss.exit_code == 0 ? ss.out : "";
}

// What the processes `pids` listen on, in `ss_listening`'s output.
std::vector<listener> listeners_of(const std::set<pid_t>& pids, const std::string& ss) {
  std::vector<listener> out;
  std::istringstream lines(ss);
  const std::regex user(R"RE(\("([^"]*)",pid=(\d+),)RE");
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string netid, state, recv_q, send_q, local;
    fields >> netid >> state >> recv_q >> send_q >> local;
    const auto colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    for (std::sregex_iterator it(line.begin(), line.end(), user), end; it != end; ++it) {
      if (pids.contains(std::stoi((*it)[2]))) {
        out.push_back(
            {netid, (*it)[1], local.substr(0, colon), std::stoi(local.substr(colon + 1))});
        break;
      }
    }
  }
  return out;
}

std::set<pid_t> pids_of(const std::vector<process_info>& processes) {
  std::set<pid_t> out;
  for (const auto& p : processes) out.insert(p.pid);
  return out;
}

// Only epmd may listen on the IPv6 loopback, which OTP 25's epmd always adds
// (docs/rabbitmq.md); everything else on 127.0.0.1.
bool on_loopback(const listener& l) {
  return l.address == "127.0.0.1" || (l.process == "epmd" && l.address == "[::1]");
}

// The server's processes listen on 127.0.0.1 only, AMQP's port among them; epmd on 127.0.0.1
// (its port among them if given) and the IPv6 loopback; nothing else.
void expect_loopback_only(pid_t server, int amqp_port, int dist_port, pid_t epmd, int epmd_port) {
  temp_dir scratch;
  const auto ss = ss_listening(scratch.path());
  std::set<int> server_ports;
  for (const auto& l : listeners_of(pids_of(tree_of(server)), ss)) {
    EXPECT_EQ(l.address, "127.0.0.1")
        << l.process << " listens (" << l.protocol << ") on " << l.address << ":" << l.port;
    server_ports.insert(l.port);
  }
  EXPECT_TRUE(server_ports.contains(amqp_port)) << "no AMQP listener in ss's output:\n" << ss;
  if (dist_port != 0) {
    EXPECT_TRUE(server_ports.contains(dist_port)) << "no distribution listener in:\n" << ss;
  }
  EXPECT_GE(server_ports.size(), 2u) << "AMQP and Erlang distribution, at least";

  bool on_ipv4_loopback = false;
  for (const auto& l : listeners_of(pids_of(tree_of(epmd)), ss)) {
    EXPECT_TRUE(on_loopback(l)) << l.process << " listens (" << l.protocol << ") on " << l.address
                                << ":" << l.port;
    if (epmd_port != 0) {
      EXPECT_EQ(l.port, epmd_port);
    }
    on_ipv4_loopback = on_ipv4_loopback || l.address == "127.0.0.1";
  }
  EXPECT_TRUE(on_ipv4_loopback) << "no epmd listener in ss's output:\n" << ss;
}

// What the processes under this test listen on, sampled until `stop()`: whatever a server opens
// while it starts, however briefly (a helper VM, a client socket), is seen too.
class listener_watch {
 public:
  listener_watch() : thread_([this] { run(); }) {}
  ~listener_watch() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  listener_watch(const listener_watch&) = delete;
  listener_watch& operator=(const listener_watch&) = delete;

  /// Everything seen, with one last sample taken now.
  std::set<listener> stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
    sample();
    return seen_;
  }

 private:
  void run() {
    while (!done_) {
      sample();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  // Descendants before and after ss: a process that starts or ends meanwhile is still ours.
  void sample() {
    auto ours = pids_of(descendants(::getpid()));
    const auto ss = ss_listening(scratch_.path());
    for (const auto& p : descendants(::getpid())) ours.insert(p.pid);
    for (auto& l : listeners_of(ours, ss)) seen_.insert(std::move(l));
  }

  temp_dir scratch_;
  std::atomic<bool> done_ = false;
  std::set<listener> seen_;
  std::thread thread_;  // last: it starts once the members it uses exist
};

void expect_all_on_loopback(const std::set<listener>& seen) {
  for (const auto& l : seen) {
    EXPECT_TRUE(on_loopback(l)) << l.process << " listened (" << l.protocol << ") on " << l.address
                                << ":" << l.port;
  }
}

// "PID START" as the script writes it, checked against /proc: that very process.
process_info recorded(const std::filesystem::path& pid_file) {
  std::istringstream in(slurp(pid_file));
  pid_t pid = 0;
  std::uint64_t start = 0;
  in >> pid >> start;
  auto p = read_process(pid);
  if (!p || p->start_time != start) return process_info{.pid = pid, .start_time = start};
  return *p;
}

std::string pika_unavailable() {
  if (::access(k_python, X_OK) != 0) return std::string(k_python) + " not found";
  temp_dir tmp;
  if (run_process(k_python, {"-c", "import pika"}, tmp.path()).exit_code != 0) {
    return "python3-pika is not installed (scripts/install-deps installs it)";
  }
  return "";
}

TEST(rabbitmq_server, starts_on_loopback_only_and_answers_amqp) {
  if (const auto why = rabbitmq_server::unavailable(); !why.empty()) GTEST_SKIP() << why;
  listener_watch watch;  // from before the server starts, if this test starts it
  auto& server = shared_rabbitmq_server();
  const auto seen = watch.stop();
  EXPECT_TRUE(seen.contains(listener{"tcp", "beam.smp", "127.0.0.1", server.port()}));
  expect_all_on_loopback(seen);
  expect_connection_start(server.port());
  expect_loopback_only(server.pids()[1], server.port(), server.dist_port(), server.pids()[0],
                       server.epmd_port());
}

TEST(rabbitmq_server, a_python_pika_client_declares_and_deletes_a_queue) {
  if (const auto why = rabbitmq_server::unavailable(); !why.empty()) GTEST_SKIP() << why;
  if (const auto why = pika_unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto& server = shared_rabbitmq_server();
  temp_dir tmp;
  const auto client = run_process(k_python, {"-c", k_pika_client, server.url()}, tmp.path());
  EXPECT_EQ(client.exit_code, 0) << client.err;
  EXPECT_EQ(client.out, "declared, published, got, deleted\n");
}

TEST(rabbitmq_server, stop_leaves_no_process_and_no_folder) {
  if (const auto why = rabbitmq_server::unavailable(); !why.empty()) GTEST_SKIP() << why;
  auto server = std::make_unique<rabbitmq_server>();
  const auto dir = server->dir();
  const int port = server->port();
  std::vector<process_info> started;
  for (pid_t root : server->pids()) {
    for (auto& p : tree_of(root)) started.push_back(std::move(p));
  }
  std::string names;
  for (const auto& p : started) names += p.command_line.substr(0, 60) + "\n";
  for (const char* name : {"epmd", "rabbitmq-server", "beam.smp", "erl_child_setup"}) {
    EXPECT_NE(names.find(name), std::string::npos) << "no " << name << " among\n" << names;
  }
  ASSERT_TRUE(std::filesystem::is_directory(dir));

  server.reset();
  for (const auto& p : started) {
    EXPECT_FALSE(still_running(p)) << p.pid << " " << p.command_line;
  }
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_FALSE(accepts(port));
}

// Stops what the script started if a check failed before its stop.
struct script_server {
  std::filesystem::path dir;
  ~script_server() {
    if (std::filesystem::exists(dir)) {
      temp_dir tmp;
      run_process(k_script, {"stop", dir.string()}, tmp.path());
    }
  }
};

TEST(rabbitmq_server, the_script_starts_and_stops_the_same_server) {
  if (const auto why = rabbitmq_server::unavailable(); !why.empty()) GTEST_SKIP() << why;
  temp_dir tmp;
  const script_server guard{tmp.path() / "rabbitmq"};
  listener_watch watch;  // the script's processes are ours until it exits
  const auto started = run_process(k_script, {"start", guard.dir.string()}, tmp.path());
  const auto seen = watch.stop();
  ASSERT_EQ(started.exit_code, 0) << started.err;
  std::smatch url;
  ASSERT_TRUE(std::regex_match(started.out, url,
                               std::regex(R"(amqp://guest:guest@127\.0\.0\.1:(\d+)/%2F\n)")))
      << started.out;
  const int port = std::stoi(url[1]);
  // Sampled while the script ran: once it exits the server is no longer our descendant, so
  // its AMQP listener may fall between samples; expect_loopback_only below reads it for sure.
  expect_all_on_loopback(seen);
  expect_connection_start(port);

  const auto server = recorded(guard.dir / "rabbitmq.pid");
  const auto epmd = recorded(guard.dir / "epmd.pid");
  ASSERT_TRUE(still_running(server)) << "rabbitmq.pid names no living process";
  ASSERT_TRUE(still_running(epmd)) << "epmd.pid names no living process";
  expect_loopback_only(server.pid, port, 0, epmd.pid, 0);
  std::vector<process_info> processes = tree_of(server.pid);
  for (auto& p : tree_of(epmd.pid)) processes.push_back(std::move(p));
  std::string names;
  for (const auto& p : processes) names += p.command_line.substr(0, 60) + "\n";
  EXPECT_NE(names.find("beam.smp"), std::string::npos) << names;

  const auto stopped = run_process(k_script, {"stop", guard.dir.string()}, tmp.path());
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(stopped.out + stopped.err, "");
  for (const auto& p : processes) {
    EXPECT_FALSE(still_running(p)) << p.pid << " " << p.command_line;
  }
  EXPECT_FALSE(std::filesystem::exists(guard.dir));
  EXPECT_FALSE(accepts(port));
}

}  // namespace
}  // namespace leakbench::test
