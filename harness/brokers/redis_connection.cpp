#include "harness/brokers/redis_connection.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <memory>
#include <stdexcept>

#include "harness/brokers/broker.hpp"

namespace leakbench::brokers {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

redis_value convert(const redisReply& r) {
  redis_value v;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      v.type = redis_value::kind::string;
      v.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = redis_value::kind::status;
      v.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = redis_value::kind::integer;
      v.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = redis_value::kind::array;
      for (std::size_t i = 0; i < r.elements; ++i) v.elements.push_back(convert(*r.element[i]));
      break;
    default:
      break;  // nil
  }
  return v;
}

/// The cause an error reply names; plain error if none of those leakbench tells apart.
broker_cause cause_of(std::string_view reply) {
  for (std::string_view auth :
       {"NOAUTH ", "WRONGPASS ", "ERR AUTH <password> called without any password configured",
        "ERR Client sent AUTH, but no password is set"}) {
    if (reply.starts_with(auth)) return broker_cause::auth_refused;
  }
  if (reply.starts_with("OOM ")) return broker_cause::out_of_memory;
  return broker_cause::error;
}

}  // namespace

redis_connection::redis_connection(redis_url url, redis_timeouts timeouts)
    : url_(std::move(url)), timeouts_(timeouts) {}

redis_connection::~redis_connection() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

void redis_connection::connect() {
  const timeval timeout = to_timeval(timeouts_.connect);
  redisContext* c = url_.is_unix() ? redisConnectUnixWithTimeout(url_.socket.c_str(), timeout)
                                   : redisConnectWithTimeout(url_.host.c_str(), url_.port, timeout);
  if (c == nullptr) {
    throw connection_lost(broker_cause::unreachable, url_.describe(),
                          "cannot allocate a connection");
  }
  if (c->err != 0) {
    const std::string why = c->errstr;
    redisFree(c);
    throw connection_lost(broker_cause::unreachable, url_.describe(), "cannot connect: " + why);
  }
  ctx_ = c;
  client_id_ = -1;
  try {
    set_io_timeout(timeouts_.io);
    // As redis-py logs in: AUTH user password with a user, AUTH password without one.
    if (!url_.user.empty()) {
      run({"AUTH", url_.user, url_.password});
    } else if (!url_.password.empty()) {
      run({"AUTH", url_.password});
    }
    if (url_.db != 0) run({"SELECT", std::to_string(url_.db)});
  } catch (...) {
    // A failed handshake (wrong password, bad db) must not leave a half-made connection:
    // from a constructor, no destructor would free it.
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
    throw;
  }
}

void redis_connection::set_io_timeout(std::chrono::milliseconds t) {
  if (redisSetTimeout(ctx_, to_timeval(t)) != REDIS_OK) {
    throw broker_error(fmt::format("{}: cannot set the I/O timeout", url_.describe()));
  }
}

redis_value redis_connection::run(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (raw == nullptr) {
    // A read or write that waited out the I/O timeout fails with EAGAIN: the server did not
    // answer in time. Anything else (EOF, a reset) is the connection closed under us.
    const bool timed_out = ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
    const std::string why = ctx_->errstr[0] != '\0' ? ctx_->errstr : "connection lost";
    // The context is unusable after an I/O error: drop it, reconnect on the next command.
    redisFree(ctx_);
    ctx_ = nullptr;
    throw connection_lost(
        timed_out ? broker_cause::unreachable : broker_cause::connection_killed, url_.describe(),
        fmt::format("{} {}: {}", args.front(), timed_out ? "timed out" : "failed", why));
  }
  std::unique_ptr<redisReply, void (*)(void*)> reply(raw, freeReplyObject);
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string_view text(reply->str, reply->len);
    const broker_cause cause = cause_of(text);
    throw broker_error(cause, url_.describe(),
                       cause == broker_cause::error ? fmt::format("{}: {}", args.front(), text)
                                                    : std::string(text));
  }
  return convert(*reply);
}

redis_value redis_connection::command(const std::vector<std::string_view>& args) {
  if (ctx_ == nullptr) connect();
  return run(args);
}

long long redis_connection::client_id() {
  if (ctx_ == nullptr) connect();
  if (client_id_ < 0) client_id_ = run({"CLIENT", "ID"}).integer;
  return client_id_;
}

redis_value redis_connection::blocking_command(const std::vector<std::string_view>& args,
                                               std::chrono::milliseconds block) {
  if (ctx_ == nullptr) connect();
  set_io_timeout(block + timeouts_.io);  // the server may legitimately stay silent for `block`
  try {
    redis_value v = run(args);
    set_io_timeout(timeouts_.io);
    return v;
  } catch (const broker_error&) {
    if (ctx_ != nullptr) set_io_timeout(timeouts_.io);  // an error reply: the link is fine
    throw;
  }
}

/// Deletes every key matching `pattern`; returns how many.
std::size_t unlink_matching(redis_connection& c, const std::string& pattern) {
  std::size_t n = 0;
  std::string cursor = "0";
  do {
    const auto page = c.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"});
    cursor = page.elements.at(0).str;
    for (const auto& k : page.elements.at(1).elements) {
      c.command({"UNLINK", k.str});
      ++n;
    }
  } while (cursor != "0");
  return n;
}

}  // namespace leakbench::brokers
