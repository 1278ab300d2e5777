#include "harness/runtime/message.hpp"

#include <chrono>
#include <random>

#include <fmt/format.h>

namespace leakbench::runtime {
namespace {

using json = nlohmann::json;

std::string random_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

const json& field(const json& obj, const char* name, json::value_t type, const char* type_name) {
  auto it = obj.find(name);
  if (it == obj.end()) throw message_error(fmt::format("message has no '{}' field", name));
  const bool ok = it->type() == type || (type == json::value_t::number_integer &&
                                         it->type() == json::value_t::number_unsigned);
  if (!ok) throw message_error(fmt::format("message field '{}' is not {}", name, type_name));
  return *it;
}

template <class T>
T integer(const json& obj, const char* name, T min) {
  const json& v = field(obj, name, json::value_t::number_integer, "an integer");
  if (v.is_number_unsigned()
          ? v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())
          : v.get<std::int64_t>() < static_cast<std::int64_t>(min)) {
    throw message_error(fmt::format("message field '{}' is out of range", name));
  }
  return v.get<T>();
}

std::string text(const json& obj, const char* name) {
  auto s = field(obj, name, json::value_t::string, "a string").get<std::string>();
  if (s.empty()) throw message_error(fmt::format("message field '{}' is empty", name));
  return s;
}

}  // namespace

message message::make(std::string queue, std::string actor, nlohmann::json args) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return {random_id(),
          std::move(queue),
          std::move(actor),
          std::move(args),
          {},
          std::chrono::duration_cast<std::chrono::milliseconds>(now).count()};
}

std::string encode(const message& m) {
  json options = {{"retries", m.options.retries}, {"eta", m.options.eta_ms}};
  if (m.options.max_retries) options["max_retries"] = *m.options.max_retries;
  if (m.options.traceback) options["traceback"] = *m.options.traceback;
  const json j = {{"message_id", m.id},
                  {"queue_name", m.queue},
                  {"actor_name", m.actor},
                  {"args", m.args},
                  {"kwargs", json::object()},
                  {"options", std::move(options)},
                  {"message_timestamp", m.timestamp_ms}};
  return j.dump();
}

message decode(std::string_view input, std::size_t max_bytes) {
  if (input.size() > max_bytes) {
    throw message_error(
        fmt::format("message of {} bytes exceeds the limit of {} bytes", input.size(), max_bytes));
  }
  json j;
  try {
    j = json::parse(input);
  } catch (const json::parse_error& e) {
    // nlohmann's text names the byte offset, which is what a reader needs for truncated input.
    throw message_error(fmt::format("message is not valid JSON: {}", e.what()));
  }
  if (!j.is_object()) throw message_error("message is not a JSON object");
  message m;
  m.id = text(j, "message_id");
  m.queue = text(j, "queue_name");
  m.actor = text(j, "actor_name");
  m.args = field(j, "args", json::value_t::array, "an array");
  m.timestamp_ms = integer<std::int64_t>(j, "message_timestamp", 0);
  const json& options = field(j, "options", json::value_t::object, "an object");
  m.options.retries = integer<std::uint32_t>(options, "retries", 0);
  m.options.eta_ms = integer<std::int64_t>(options, "eta", 0);
  if (options.contains("max_retries")) {
    m.options.max_retries = integer<std::uint32_t>(options, "max_retries", 0);
  }
  if (options.contains("traceback")) {
    m.options.traceback = field(options, "traceback", json::value_t::string, "a string");
  }
  return m;
}

}  // namespace leakbench::runtime
