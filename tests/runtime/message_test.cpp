#include "harness/runtime/message.hpp"

#include <gtest/gtest.h>

namespace rt = leakbench::runtime;

namespace {
std::string decode_error(std::string_view text,
                         std::size_t limit = rt::k_default_max_message_bytes) {
  try {
    rt::decode(text, limit);
  } catch (const rt::message_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(message, round_trips_through_json_with_its_retry_count) {
  auto m = rt::message::make("default", "fail", {1, "two", 3.5});
  m.options.retries = 7;
  m.options.max_retries = 9;
  m.options.eta_ms = 1'700'000'000'000;
  m.options.traceback = "Traceback (most recent call last):\n  in actor\nValueError: boom\n";
  const rt::message back = rt::decode(rt::encode(m));
  EXPECT_EQ(back, m);
  EXPECT_EQ(back.options.retries, 7u);
  EXPECT_EQ(back.id.size(), 32u);
}

TEST(message, ids_are_unique) {
  EXPECT_NE(rt::message::make("q", "a").id, rt::message::make("q", "a").id);
}

TEST(message, rejects_malformed_json_with_a_clear_error) {
  EXPECT_NE(decode_error("not json").find("not valid JSON"), std::string::npos);
  EXPECT_NE(decode_error("[1, 2]").find("not a JSON object"), std::string::npos);
}

TEST(message, rejects_truncated_input) {
  const std::string full = rt::encode(rt::message::make("default", "fail"));
  const std::string err = decode_error(full.substr(0, full.size() / 2));
  EXPECT_NE(err.find("not valid JSON"), std::string::npos) << err;
}

TEST(message, rejects_missing_and_mistyped_fields_naming_them) {
  auto j = nlohmann::json::parse(rt::encode(rt::message::make("default", "fail")));
  auto without_actor = j;
  without_actor.erase("actor_name");
  EXPECT_EQ(decode_error(without_actor.dump()), "message has no 'actor_name' field");
  auto bad_retries = j;
  bad_retries["options"]["retries"] = "three";
  EXPECT_EQ(decode_error(bad_retries.dump()), "message field 'retries' is not an integer");
  auto negative = j;
  negative["options"]["retries"] = -1;
  EXPECT_EQ(decode_error(negative.dump()), "message field 'retries' is out of range");
  auto huge = j;
  huge["options"]["retries"] = 1ULL << 40;
  EXPECT_EQ(decode_error(huge.dump()), "message field 'retries' is out of range");
  auto bad_traceback = j;
  bad_traceback["options"]["traceback"] = 3;
  EXPECT_EQ(decode_error(bad_traceback.dump()), "message field 'traceback' is not a string");
  auto empty_queue = j;
  empty_queue["queue_name"] = "";
  EXPECT_EQ(decode_error(empty_queue.dump()), "message field 'queue_name' is empty");
}

TEST(message, refuses_oversized_input) {
  const std::string body = rt::encode(rt::message::make("default", "fail"));
  EXPECT_NE(decode_error(body, 16).find("exceeds the limit of 16 bytes"), std::string::npos);
}
