#include "bench/options.hpp"

#include <gtest/gtest.h>

namespace lb = leakbench::bench;

namespace {
std::string error_of(std::vector<std::string_view> args) {
  try {
    lb::parse_options(args);
  } catch (const lb::usage_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(options, parses_sizes_with_binary_units) {
  EXPECT_EQ(lb::parse_size("0"), 0);
  EXPECT_EQ(lb::parse_size("512B"), 512);
  EXPECT_EQ(lb::parse_size("4KiB"), 4096);
  EXPECT_EQ(lb::parse_size("32MiB"), 32 << 20);
  EXPECT_EQ(lb::parse_size("1GiB"), std::int64_t{1} << 30);
  // The one syntax of every tool (leakgate's budgets too): decimals, a space, TiB.
  EXPECT_EQ(lb::parse_size("1.5MiB"), 3 << 19);
  EXPECT_EQ(lb::parse_size("1 MiB"), 1 << 20);
  EXPECT_EQ(lb::parse_size("2TiB"), std::int64_t{2} << 40);
  for (const char* bad : {"", "abc", "32MB", "-1MiB", "0.3KiB", "1.5", "99999999999TiB"}) {
    EXPECT_THROW(lb::parse_size(bad), lb::usage_error) << bad;
  }
  EXPECT_EQ(error_of({"--payload=0.3KiB"}),
            "--payload=0.3KiB: '0.3KiB' is not a whole number of bytes (307.2 B)");
  EXPECT_EQ(error_of({"--payload=-1MiB"}),
            "--payload=-1MiB: '-1MiB' is not a size: a size has no sign");
}

TEST(options, defaults_match_the_documentation) {
  const auto o = lb::parse_options({});
  EXPECT_EQ(o.scenario.payload, 32u << 20);
  EXPECT_EQ(o.retries, 20u);
  EXPECT_EQ(o.warmup, 2u);
  EXPECT_EQ(o.scenario.concurrency, 5u);
  EXPECT_EQ(o.scenario.depth, 3u);
  EXPECT_EQ(o.gc.to_string(), "off");
  EXPECT_EQ(o.broker, "memory");
  EXPECT_GT(o.max_rss, 0);
  EXPECT_FALSE(o.series_out);
  EXPECT_EQ(o.inject_leak, 0u);
}

TEST(options, reads_every_flag) {
  const auto o =
      lb::parse_options({"--payload=1MiB", "--retries=7", "--warmup=1", "--concurrency=3",
                         "--depth=9", "--gc=every:4", "--max_rss=2GiB", "--series_out=/tmp/x",
                         "--sample_interval_ms=5", "--inject_leak=64KiB"});
  EXPECT_EQ(o.scenario.payload, 1u << 20);
  EXPECT_EQ(o.retries, 7u);
  EXPECT_EQ(o.warmup, 1u);
  EXPECT_EQ(o.scenario.concurrency, 3u);
  EXPECT_EQ(o.scenario.depth, 9u);
  EXPECT_EQ(o.gc.every, 4u);
  EXPECT_EQ(o.max_rss, std::int64_t{2} << 30);
  EXPECT_EQ(o.series_out->string(), "/tmp/x");
  EXPECT_EQ(o.sample_interval.count(), 5);
  EXPECT_EQ(o.inject_leak, 64u << 10);
}

TEST(options, a_redis_url_may_use_any_case_and_an_ipv6_host) {
  const auto o = lb::parse_options({"--broker=REDIS://:pw@[::1]:6390/2"});
  ASSERT_TRUE(o.redis);
  EXPECT_EQ(o.redis->host, "::1");
  EXPECT_EQ(o.broker, "redis://:***@[::1]:6390/2");
}

TEST(options, bad_values_name_the_flag) {
  EXPECT_EQ(error_of({"--retries=0"}), "--retries=0: expected a whole number from 1 to 1000000");
  EXPECT_EQ(error_of({"--gc=sometimes"}),
            "--gc=sometimes: invalid gc policy 'sometimes': expected off or every:N with N >= 1");
  EXPECT_NE(error_of({"--payload=abc"}).find("--payload=abc: 'abc' is not a size"),
            std::string::npos);
  EXPECT_NE(error_of({"--depth=0"}).find("--depth=0"), std::string::npos);
  EXPECT_NE(error_of({"--concurrency=x"}).find("--concurrency=x"), std::string::npos);
  EXPECT_EQ(error_of({"--inject_leak=4B"}),
            "--inject_leak=4B: an injected leak needs 0 (off) or at least 8 bytes");
  EXPECT_EQ(error_of({"--broker=redis://:secret@host:notaport"}),
            "--broker=redis://:***@host:notaport: invalid port 'notaport'");
  EXPECT_EQ(error_of({"--max_rss=0"}),
            "--max_rss=0: must be above 0 (leave the flag out for the default)");
}

TEST(options, unknown_flags_list_the_valid_ones) {
  const std::string e = error_of({"--paylod=1MiB"});
  EXPECT_NE(e.find("unknown argument '--paylod=1MiB'"), std::string::npos);
  EXPECT_NE(e.find("--payload"), std::string::npos);
  EXPECT_NE(e.find("--series_out"), std::string::npos);
}

TEST(options, a_flag_given_its_value_after_a_space_is_told_to_use_equals) {
  EXPECT_EQ(error_of({"--payload", "1MiB"}),
            "--payload takes its value after '=', not a space: e.g. --payload=8MiB");
  EXPECT_EQ(error_of({"--retries"}),
            "--retries takes its value after '=', not a space: e.g. --retries=16");
}

TEST(options, too_few_retries_say_what_is_needed_without_naming_a_warmup_not_given) {
  EXPECT_EQ(error_of({"--retries=2"}),
            "--retries=2: a slope with a 95% interval needs at least 3 fitted retries; give "
            "--retries=3 or more");
  EXPECT_EQ(error_of({"--retries=5", "--warmup=3"}),
            "--retries=5 with --warmup=3: the fit needs at least 3 retries after the warm-up; "
            "give --retries=6 or more, or a smaller --warmup");
  const auto o = lb::parse_options({"--retries=3"});
  EXPECT_EQ(o.warmup, 0u);
  ASSERT_EQ(o.notes.size(), 1u);
  EXPECT_EQ(o.notes[0],
            "--retries=3 leaves room for a warm-up of 0 retries, not the default 2 (--warmup "
            "sets it)");
  EXPECT_TRUE(lb::parse_options({"--retries=5"}).notes.empty());
}

TEST(options, a_ceiling_below_leakbenchs_own_rss_is_a_flag_error) {
  EXPECT_NE(error_of({"--max_rss=1KiB"}).find("--max_rss=1KiB: below the "), std::string::npos);
  EXPECT_GT(lb::parse_options({"--max_rss=64GiB"}).max_rss, std::int64_t{1} << 30);
}

TEST(options, target_flags_belong_to_their_target) {
  EXPECT_EQ(error_of({"--gc=python"}),
            "--gc=python: CPython's own collector runs only in a real worker (--target=dramatiq); "
            "the model's is off or every:N");
  EXPECT_EQ(error_of({"--dramatiq=fixed=/x"}), "--dramatiq: only with --target=dramatiq");
  EXPECT_EQ(error_of({"--python=/usr/bin/python3"}), "--python: only with --target=dramatiq");
  EXPECT_NE(error_of({"--target=dramatiq", "--broker=memory"}).find("a real worker needs Redis"),
            std::string::npos);
  EXPECT_NE(error_of({"--target=dramatiq", "--inject_leak=64KiB"}).find("only with --target=model"),
            std::string::npos);
  EXPECT_EQ(error_of({"--target=elsewhere"}), "--target=elsewhere: expected model or dramatiq");
  EXPECT_EQ(error_of({"--target=dramatiq", "--dramatiq=a=/x", "--dramatiq=a=/y"}),
            "--dramatiq=a=/y: the name 'a' is given twice");
  EXPECT_NE(error_of({"--target=dramatiq", "--dramatiq=a/b=/x"}).find("must be letters"),
            std::string::npos);
  const auto real = lb::parse_options({"--target=dramatiq", "--gc=python"});
  EXPECT_TRUE(real.python_gc);
  ASSERT_EQ(real.dramatiq.size(), 1u);
  EXPECT_EQ(real.dramatiq[0].name, "installed");
  EXPECT_TRUE(real.dramatiq[0].dir.empty());
  EXPECT_EQ(real.broker, "private redis-server");
}

TEST(options, the_fit_needs_three_retries_after_warmup) {
  EXPECT_NE(error_of({"--retries=4", "--warmup=2"}).find("at least 3 retries after the warm-up"),
            std::string::npos);
  EXPECT_EQ(lb::parse_options({"--retries=4"}).warmup, 1u) << "a defaulted warm-up shrinks to fit";
}

TEST(options, a_redis_url_may_name_a_unix_socket_or_an_acl_user) {
  const auto o = lb::parse_options({"--broker=unix://:pw@/tmp/r.sock?db=2"});
  ASSERT_TRUE(o.redis);
  EXPECT_EQ(o.redis->socket, "/tmp/r.sock");
  EXPECT_EQ(o.redis->db, 2);
  EXPECT_EQ(o.broker, "unix://:***@/tmp/r.sock?db=2");
  const auto cleanup = lb::parse_options({"--redis_cleanup=unix:///tmp/r.sock"});
  ASSERT_TRUE(cleanup.redis_cleanup);
  EXPECT_EQ(cleanup.redis_cleanup->socket, "/tmp/r.sock");
  EXPECT_EQ(lb::parse_options({"--broker=redis://alice:p%40ss@h"}).broker,
            "redis://alice:***@h:6379/0");
  EXPECT_EQ(error_of({"--broker=unix://host/x"}),
            "--broker=unix://host/x: a unix:// URL has no host: unix:///path/to/redis.sock");
  EXPECT_EQ(error_of({"--broker=ftp://x"}),
            "--broker=ftp://x: expected memory, redis://[[user]:password@]host[:port][/db] or "
            "unix://[[user]:password@]/path[?db=N]");
  EXPECT_EQ(error_of({"--redis_cleanup=memory"}),
            "--redis_cleanup=memory: expected redis://[[user]:password@]host[:port][/db] or "
            "unix://[[user]:password@]/path[?db=N]");
  EXPECT_EQ(error_of({"--broker=redis://alice:s%65cret@h:x"}),
            "--broker=redis://:***@h:x: invalid port 'x'");
  EXPECT_NE(lb::options_help().find("unix:///path[?db=N]"), std::string::npos);
}

TEST(options, an_app_its_variants_and_messages_parse_and_name_each_benchmark) {
  const auto o = lb::parse_options(
      {"--target=dramatiq", "--app=shop.tasks,shop.extra", "--variant=main=../shop-main:../libs",
       "--variant=pr=../shop-pr", "--message=render_invoice:[17, 4194304]",
       "--message=render_invoice:{\"kwargs\": {\"draft\": true}}", "--message=ping",
       "--ignore_threads=poller,profiler"});
  ASSERT_TRUE(o.app.has_value());
  EXPECT_EQ(*o.app, "shop.tasks,shop.extra");
  ASSERT_EQ(o.dramatiq.size(), 2u);
  EXPECT_EQ(o.dramatiq[0].name, "main");
  EXPECT_EQ(o.dramatiq[0].paths, (std::vector<std::string>{"../shop-main", "../libs"}));
  EXPECT_TRUE(o.dramatiq[0].dir.empty());
  ASSERT_EQ(o.messages.size(), 3u);
  EXPECT_EQ(o.messages[0].name, "render_invoice");
  EXPECT_EQ(o.messages[0].args, "{\"args\":[17,4194304],\"kwargs\":{}}");
  EXPECT_EQ(o.messages[1].name, "render_invoice#2");
  EXPECT_EQ(o.messages[1].args, "{\"args\":[],\"kwargs\":{\"draft\":true}}");
  EXPECT_EQ(o.messages[2].name, "ping");
  EXPECT_EQ(o.ignore_threads, (std::vector<std::string>{"poller", "profiler"}));
}

TEST(options, a_bad_message_or_app_flag_is_one_line) {
  const std::string real = "--target=dramatiq";
  EXPECT_EQ(error_of({real, "--app=shop.tasks", "--message=render_invoice:"}),
            "--message=render_invoice:: 'render_invoice:' is followed by no JSON: give "
            "render_invoice alone, or render_invoice:[...] or render_invoice:{\"args\": [...], "
            "\"kwargs\": {...}} (an actor's name cannot hold ':')");
  EXPECT_EQ(error_of({real, "--app=shop.tasks", "--message=render:[1,"}),
            "--message=render:[1,: the arguments of render are not JSON: [1,");
  EXPECT_EQ(error_of({real, "--app=shop.tasks", "--message=render:{\"retries\": 3}"}),
            "--message=render:{\"retries\": 3}: the arguments of render: an object takes "
            "\"args\" (an array) and \"kwargs\" (an object) only, not \"retries\"");
  EXPECT_EQ(error_of({real, "--app=shop.tasks", "--message=render:17"}),
            "--message=render:17: the arguments of render: a JSON array, or an object with "
            "\"args\" and \"kwargs\"");
  EXPECT_EQ(error_of({real, "--message=ping"}),
            "--message: only with --app (the message goes to one of the app's actors)");
  EXPECT_EQ(error_of({real, "--app=shop.tasks", "--broker=redis://127.0.0.1:6379"}),
            "--broker: not with --app: the app's own broker is the one measured");
  EXPECT_EQ(error_of({"--app=shop.tasks"}), "--app: only with --target=dramatiq");
  EXPECT_EQ(error_of({real, "--variant=pr"}),
            "--variant=pr: expected NAME=PATH[:PATH...], e.g. --variant=pr=../shop-pr");
  EXPECT_EQ(error_of({real, "--variant=a=x", "--dramatiq=a=y"}),
            "--dramatiq=a=y: the name 'a' is given twice");
}
