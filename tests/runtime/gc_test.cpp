#include "harness/runtime/gc.hpp"

#include <gtest/gtest.h>

#include "harness/runtime/attempt.hpp"
#include "harness/runtime/future.hpp"
#include "harness/runtime/value.hpp"

namespace rt = leakbench::runtime;

namespace {

// exception -> traceback frame -> future -> exception, plus a payload held by the exception.
std::weak_ptr<const void> make_cycle(rt::attempt_context& ctx) {
  auto err = ctx.make_error("ValueError", "boom");
  auto payload = rt::make_payload(64);
  err->hold("payload", payload);
  auto fut = ctx.make<rt::future_state>();
  fut->set_exception(err);
  auto f = ctx.make<rt::frame_record>("run_coroutine");
  f->set_local("future", fut);
  err->add_frame(f);
  return payload;
}

}  // namespace

TEST(gc_policy, parses_off_and_every_n) {
  EXPECT_EQ(rt::gc_policy::parse("off").every, 0u);
  EXPECT_EQ(rt::gc_policy::parse("every:12").every, 12u);
  EXPECT_EQ(rt::gc_policy::parse("every:3").to_string(), "every:3");
  for (const char* bad : {"sometimes", "every:", "every:0", "every:-1", "every:2x", ""}) {
    EXPECT_THROW(rt::gc_policy::parse(bad), std::invalid_argument) << bad;
  }
}

TEST(collector, frees_an_unreachable_cycle_and_only_on_collect) {
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  const auto payload = make_cycle(ctx);
  gc.adopt(ctx.take_tracked());
  EXPECT_FALSE(payload.expired()) << "reference counting alone cannot free a cycle";
  EXPECT_EQ(gc.pending(), 3u);
  const auto stats = gc.collect();
  EXPECT_EQ(stats.examined, 3u);
  EXPECT_EQ(stats.collected, 3u);
  EXPECT_TRUE(payload.expired());
  EXPECT_EQ(gc.pending(), 0u);
}

TEST(collector, keeps_a_cycle_someone_still_holds) {
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  auto err = ctx.make_error("ValueError", "held");
  auto fut = ctx.make<rt::future_state>();
  fut->set_exception(err);
  auto f = ctx.make<rt::frame_record>("run_coroutine");
  f->set_local("future", fut);
  err->add_frame(f);
  fut.reset();
  f.reset();
  gc.adopt(ctx.take_tracked());
  EXPECT_EQ(gc.collect().collected, 0u) << "the test still holds the exception";
  EXPECT_EQ(err->traceback().size(), 1u) << "a live cycle must not be cleared";
  EXPECT_EQ(gc.pending(), 3u);
  err.reset();
  EXPECT_EQ(gc.collect().collected, 3u);
}

TEST(collector, drops_objects_that_died_on_their_own) {
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  ctx.make_error("ValueError", "no cycle");  // freed at once
  gc.adopt(ctx.take_tracked());
  EXPECT_EQ(gc.pending(), 0u);
}

TEST(collector, every_n_collects_after_each_nth_attempt) {
  rt::collector gc(rt::gc_policy{3});
  std::vector<std::weak_ptr<const void>> payloads;
  for (int i = 1; i <= 7; ++i) {
    rt::attempt_context ctx(i, rt::message::make("q", "a"));
    payloads.push_back(make_cycle(ctx));
    gc.adopt(ctx.take_tracked());
    std::size_t alive = 0;
    for (const auto& p : payloads) alive += p.expired() ? 0 : 1;
    EXPECT_EQ(alive, static_cast<std::size_t>(i % 3)) << "after attempt " << i;
  }
  EXPECT_EQ(gc.collections(), 2u);
  EXPECT_EQ(gc.total_collected(), 18u);
}

TEST(collector, frees_a_cycle_through_a_future_result) {
  // future -> (its result) frame -> (its local) future: the edge lives in the result.
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  std::weak_ptr<const void> payload;
  std::weak_ptr<rt::future_state> future;
  {
    auto fut = ctx.make<rt::future_state>();
    auto f = ctx.make<rt::frame_record>("producer");
    auto data = rt::make_payload(64);
    payload = data;
    f->set_local("data", data);
    f->set_local("future", fut);
    fut->set_result(f);
    future = fut;
  }
  gc.adopt(ctx.take_tracked());
  ASSERT_FALSE(future.expired()) << "reference counting alone cannot free a cycle";
  EXPECT_EQ(gc.collect().collected, 2u);
  EXPECT_TRUE(future.expired());
  EXPECT_TRUE(payload.expired());
}

TEST(ref, refuses_a_pointer_that_does_not_own_the_tracked_object) {
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  auto owner = rt::make_payload(8);
  auto err = ctx.make_error("ValueError", "owned from outside");
  // Aliasing: counts `owner`, points at `err`. A collector subtracting an edge for it would
  // find `err` unreferenced from outside and clear it while the test still holds it.
  std::shared_ptr<rt::error> aliasing(owner, err.get());
  auto f = ctx.make<rt::frame_record>("holder");
  EXPECT_THROW(f->set_local("e", aliasing), std::invalid_argument);
  EXPECT_THROW(rt::ref{aliasing}, std::invalid_argument);
  auto other = ctx.make_error("RuntimeError", "other");
  EXPECT_THROW(other->set_cause(aliasing), std::invalid_argument);
  EXPECT_THROW(other->set_context(aliasing), std::invalid_argument);
  auto fut = ctx.make<rt::future_state>();
  EXPECT_THROW(fut->set_exception(aliasing), std::invalid_argument);
  rt::error on_stack("ValueError", "not owned by any shared_ptr");
  EXPECT_THROW(rt::ref(std::shared_ptr<rt::error>(std::shared_ptr<void>{}, &on_stack)),
               std::invalid_argument);
  // Owning pointers, and untracked values behind any pointer, are fine.
  EXPECT_NO_THROW(f->set_local("e", err));
  EXPECT_NO_THROW(rt::ref(std::shared_ptr<const void>(owner, owner.get() + 4)));
  EXPECT_EQ(f->local_names(), std::vector<std::string>{"e"});
}

TEST(collector, never_clears_an_object_owned_from_outside) {
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  auto err = ctx.make_error("ValueError", "still owned");
  auto payload = rt::make_payload(64);
  err->hold("payload", payload);
  {
    auto f = ctx.make<rt::frame_record>("garbage");
    f->set_local("e", err);   // owning: its count is real
    f->set_local("self", f);  // a garbage cycle around it
  }
  gc.adopt(ctx.take_tracked());
  EXPECT_EQ(gc.collect().collected, 1u) << "only the frame is garbage";
  EXPECT_EQ(err->attribute_count(), 1u) << "the error held from outside kept its attributes";
}

TEST(collector, names_the_path_from_the_retained_exception_to_its_payload) {
  // The leak's cycle for `raise Outer from None` inside `except Inner`: the payload is held
  // through the context only.
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  {
    auto inner = ctx.make_error("Inner", "");
    inner->hold("payload", rt::make_payload(1000));
    auto outer = ctx.make_error("Outer", "");
    outer->set_context(inner);
    outer->from_none();
    auto fut = ctx.make<rt::future_state>();
    fut->set_exception(outer);
    auto f = ctx.make<rt::frame_record>("run_coroutine");
    f->set_local("future", fut);
    outer->add_frame(f);
  }
  gc.adopt(ctx.take_tracked());
  EXPECT_EQ(gc.collect().collected, 4u);
  const auto found = gc.retained();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, "exc.__context__.payload");
  EXPECT_EQ(found[0].exceptions, 1u) << "Inner is Outer's context: one retained exception";
  EXPECT_EQ(found[0].bytes, 1000);
  EXPECT_EQ(found[0].path_bytes, 1000);
}

TEST(collector, names_every_holder_of_a_quarter_and_stops_at_a_spread_list) {
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  {
    // exc.payload (400) and exc.__cause__.payload (400); a frame in the traceback holds a list
    // of ten 40-byte chunks (400 in all, none a quarter) and, shared, exc's own payload.
    auto cause = ctx.make_error("Inner", "");
    cause->hold("payload", rt::make_payload(400));
    auto err = ctx.make_error("Outer", "");
    const auto own = rt::make_payload(400);
    err->hold("payload", own);
    err->set_cause(cause);
    auto chunks = ctx.make<rt::list>();
    for (int i = 0; i < 10; ++i) chunks->append(rt::make_payload(40));
    auto f = ctx.make<rt::frame_record>("gen");
    f->set_local("buffer", chunks);
    f->set_local("same", own);
    f->set_local("self", err);  // the cycle
    err->add_frame(f);
  }
  gc.adopt(ctx.take_tracked());
  gc.collect();
  const auto found = gc.retained();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path,
            "exc.payload and exc.__cause__.payload and exc.__traceback__ -> frame gen() local "
            "'buffer'");
  EXPECT_EQ(found[0].bytes, 1200) << "a block held twice counts once";
  EXPECT_EQ(found[0].path_bytes, 1200);
}

TEST(collector, a_holder_of_exactly_a_quarter_is_named_and_one_just_below_is_not) {
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  {
    // 1200 bytes in all: exc.payload holds 300 (a quarter exactly), exc.__cause__.payload 299
    // (just below), a frame's local 601.
    auto cause = ctx.make_error("Inner", "");
    cause->hold("payload", rt::make_payload(299));
    auto err = ctx.make_error("Outer", "");
    err->hold("payload", rt::make_payload(300));
    err->set_cause(cause);
    auto f = ctx.make<rt::frame_record>("actor");
    f->set_local("big", rt::make_payload(601));
    f->set_local("self", err);  // the cycle
    err->add_frame(f);
  }
  gc.adopt(ctx.take_tracked());
  gc.collect();
  const auto found = gc.retained();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, "exc.payload and exc.__traceback__ -> frame actor() local 'big'");
  EXPECT_EQ(found[0].bytes, 1200);
  EXPECT_EQ(found[0].path_bytes, 901);
}

TEST(collector, names_nothing_for_what_survives_and_no_path_for_a_cycle_without_data) {
  rt::collector gc;
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  auto kept = ctx.make<rt::list>();  // survives: owned from outside
  kept->append(rt::make_payload(500));
  {
    auto err = ctx.make_error("Slim", "");
    auto f = ctx.make<rt::frame_record>("actor");
    f->set_local("kept", kept);
    f->set_local("self", err);
    err->add_frame(f);
  }
  gc.adopt(ctx.take_tracked());
  EXPECT_EQ(gc.collect().collected, 2u);
  const auto found = gc.retained();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, "") << "the list survives the collection: not held by the cycle";
  EXPECT_EQ(found[0].bytes, 0);
  EXPECT_EQ(kept->size(), 1u);
}
