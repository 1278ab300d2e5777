#include "bench/dramatiq_worker.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace leakbench::bench {
namespace {

using clock = std::chrono::steady_clock;
constexpr std::size_t k_kept_lines = 6;

spawn_options worker_spawn(const worker_launch& launch) {
  spawn_options so;
  so.argv = {launch.python, "-u", launch.script_dir + "/leakbench_worker.py"};
  so.argv.insert(so.argv.end(), launch.args.begin(), launch.args.end());
  so.env = worker_environment(launch);
  so.pipe_stdin = so.pipe_stdout = so.pipe_stderr = true;
  return so;
}

}  // namespace

std::vector<std::string> worker_environment(const worker_launch& launch) {
  std::string path;
  for (const auto& p : launch.paths) path += p + ":";
  if (!launch.package_dir.empty()) path += launch.package_dir + ":";
  path += launch.script_dir;
  if (const char* user = std::getenv("PYTHONPATH"); user != nullptr && *user != '\0') {
    path += std::string(":") + user;
  }
  return {"PYTHONPATH=" + path};
}

dramatiq_worker::dramatiq_worker(const worker_launch& launch) : process_(worker_spawn(launch)) {}

dramatiq_worker::~dramatiq_worker() {
  if (unresponsive_) {  // stopped or hung: it would not hear a stop
    kill();
    return;
  }
  process_.close_stdin();  // a worker that is still running stops on its own
  if (!process_.wait_for(std::chrono::seconds(3))) process_.stop(std::chrono::seconds(2));
}

bool dramatiq_worker::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{process_.stdout_fd(), POLLIN, 0}, {process_.stderr_fd(), POLLIN, 0}};
  if (out_closed_) fds[0].fd = -1;
  if (fds[1].fd < 0 && fds[0].fd < 0) return false;
  const int n = ::poll(fds, 2, static_cast<int>(timeout.count()));
  if (n < 0 && errno != EINTR) throw worker_error(fmt::format("poll: {}", std::strerror(errno)));
  char buf[8192];
  if (fds[1].fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP)) != 0) {
    const ssize_t got = ::read(fds[1].fd, buf, sizeof buf);
    for (ssize_t i = 0; i < got; ++i) {
      if (buf[i] != '\n') {
        err_ += buf[i];
        continue;
      }
      if (!err_.empty()) {
        last_.push_back(std::move(err_));
        ++err_lines_;
      }
      err_.clear();
      if (last_.size() > k_kept_lines) last_.pop_front();
    }
  }
  if (fds[0].fd >= 0 && (fds[0].revents & (POLLIN | POLLHUP)) != 0) {
    const ssize_t got = ::read(fds[0].fd, buf, sizeof buf);
    if (got == 0) out_closed_ = true;
    if (got > 0) out_.append(buf, static_cast<std::size_t>(got));
  }
  return !out_closed_;
}

std::string dramatiq_worker::ended(int status) {
  const std::string words = last_stderr();
  return fmt::format("the worker {}{}", child_process::describe(status),
                     words.empty() ? "" : "; its last words: " + words);
}

void dramatiq_worker::check_alive() {
  while (pump(std::chrono::milliseconds(0)) && !out_.empty() && out_.find('\n') == out_.npos) {
  }
  if (auto status = process_.poll()) throw worker_error(ended(*status));
}

std::size_t dramatiq_worker::stderr_lines() {
  pump(std::chrono::milliseconds(0));
  return err_lines_;
}

std::string dramatiq_worker::last_stderr(std::size_t since) {
  pump(std::chrono::milliseconds(0));
  std::string words;
  const std::size_t first = err_lines_ - last_.size();  // the index of last_.front()
  for (std::size_t i = 0; i < last_.size(); ++i) {
    if (first + i >= since) words += (words.empty() ? "" : " | ") + last_[i];
  }
  if (!err_.empty()) words += (words.empty() ? "" : " | ") + err_;
  return words;
}

std::optional<nlohmann::json> dramatiq_worker::next_line(clock::time_point deadline) {
  for (;;) {
    if (const auto nl = out_.find('\n'); nl != std::string::npos) {
      const std::string line = out_.substr(0, nl);
      out_.erase(0, nl + 1);
      nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        throw worker_error(
            fmt::format("the worker wrote something that is not JSON: {}", line.substr(0, 200)));
      }
      return parsed;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (out_closed_ || left.count() <= 0) {
      if (auto status = out_closed_ ? std::optional(process_.wait()) : process_.poll()) {
        throw worker_error(ended(*status));
      }
      return std::nullopt;
    }
    pump(std::min(left, std::chrono::milliseconds(100)));
  }
}

std::optional<nlohmann::json> dramatiq_worker::wait_event(clock::time_point deadline) {
  if (!events_.empty()) {
    auto e = std::move(events_.front());
    events_.pop_front();
    return e;
  }
  for (;;) {
    auto line = next_line(deadline);
    if (!line) return std::nullopt;
    if (line->contains("event")) {
      if (line->value("event", "") == "error") {
        throw worker_error(fmt::format("the worker says: {}", line->value("reason", line->dump())),
                           line->value("code", 0));
      }
      return line;
    }
    throw worker_error(fmt::format("the worker replied to no command: {}", line->dump()));
  }
}

nlohmann::json dramatiq_worker::next_event(std::chrono::milliseconds timeout) {
  if (auto e = wait_event(clock::now() + timeout)) return *e;
  unresponsive_ = true;
  throw worker_error(fmt::format("the worker did not answer within {:.1f} s (--attempt_timeout)",
                                 static_cast<double>(timeout.count()) / 1000.0));
}

nlohmann::json dramatiq_worker::command(const std::string& command,
                                        std::chrono::milliseconds timeout) {
  const std::string line = command + "\n";
  for (std::size_t at = 0; at < line.size();) {
    const ssize_t n = ::write(process_.stdin_fd(), line.data() + at, line.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw worker_error(ended(process_.wait()));  // EPIPE: it is gone
    at += static_cast<std::size_t>(n);
  }
  const std::string name = command.substr(0, command.find(' '));
  const auto deadline = clock::now() + timeout;
  for (;;) {
    auto got = next_line(deadline);
    if (!got) {
      unresponsive_ = true;
      throw worker_error(
          fmt::format("the worker did not answer {} within {:.1f} s "
                      "(--attempt_timeout)",
                      name, static_cast<double>(timeout.count()) / 1000.0));
    }
    if (got->contains("event")) {
      if (got->value("event", "") == "error") {
        throw worker_error(fmt::format("the worker says: {}", got->value("reason", got->dump())));
      }
      events_.push_back(std::move(*got));
      continue;
    }
    const std::string reply = got->value("reply", "");
    if (reply == name) return *got;
    if (reply == "error" && got->value("command", "") == name) {
      throw worker_error(fmt::format("the worker says: {}", got->value("reason", got->dump())));
    }
    throw worker_error(fmt::format("the worker answered {} with: {}", name, got->dump()));
  }
}

bool dramatiq_worker::stop(std::chrono::milliseconds grace) {
  bool stopped = false;
  try {
    const std::string line = "stop\n";
    if (::write(process_.stdin_fd(), line.data(), line.size()) > 0) {
      const auto deadline = clock::now() + grace;
      while (!stopped && clock::now() < deadline) {
        const auto event = wait_event(deadline);
        if (!event) break;
        stopped = event->value("event", "") == "stopped";
      }
    }
  } catch (const worker_error&) {  // it ended: how is told by the caller's next step
  }
  process_.close_stdin();
  if (!process_.wait_for(std::chrono::milliseconds(200))) process_.stop(std::chrono::seconds(2));
  return stopped;
}

void dramatiq_worker::kill() {
  process_.signal(SIGKILL);
  process_.wait();
}

nlohmann::json dramatiq_worker::probe(const worker_launch& launch,
                                      std::chrono::milliseconds timeout) {
  dramatiq_worker w(launch);
  w.process_.close_stdin();
  return w.next_event(timeout);
}

}  // namespace leakbench::bench
