// Scenarios' actors run on their own: what their exceptions hold, and through what.
// The Generator test: P is held only through the traceback's entry for the generator's frame, as in
// CPython, where a finished async generator drops its frame.
#include <gtest/gtest.h>

#include "harness/measure/heap.hpp"
#include "harness/runtime/actor.hpp"
#include "scenarios/scenario.hpp"

namespace rt = leakbench::runtime;
namespace sc = leakbench::scenarios;

namespace {

constexpr std::size_t k_payload = 1 << 20;

// Runs the registered scenario's actor once on a loop of its own; returns what it raised.
std::shared_ptr<rt::error> run_actor(const std::string& scenario, rt::attempt_context& ctx) {
  rt::actor_registry actors;
  for (const auto& e : sc::all()) {
    if (e.name == scenario) e.make()->define(actors, e.name, sc::config{.payload = k_payload});
  }
  const auto* actor = actors.find(scenario);
  EXPECT_NE(actor, nullptr) << scenario << " is not registered";
  if (actor == nullptr) return nullptr;
  const auto fn = std::get<rt::coroutine_fn>(*actor);
  std::shared_ptr<rt::error> failure;
  rt::asio::io_context io;
  rt::asio::co_spawn(
      io,
      [&]() -> rt::asio::awaitable<void> {
        try {
          co_await fn(ctx);
        } catch (const rt::raised& r) {
          failure = r.exception();
        }
      },
      rt::asio::detached);
  io.run();
  return failure;
}

std::vector<std::string> names(const rt::error& e) {
  std::vector<std::string> out;
  for (const auto* f : e.traceback()) out.push_back(f->function());
  return out;
}

}  // namespace

TEST(generator_scenario, holds_the_buffer_only_through_the_generator_frame_in_the_traceback) {
  rt::attempt_context ctx(1, rt::message::make("q", "Generator"));
  auto err = run_actor("Generator", ctx);
  ASSERT_TRUE(err);
  ASSERT_EQ(names(*err), (std::vector<std::string>{"generator", "buffer_chunks"}));
  const rt::frame_record* actor = err->traceback()[0];
  const rt::frame_record* gen = err->traceback()[1];
  EXPECT_TRUE(gen->has_local("buffer"));
  // The actor's frame holds the generator object, which holds no frame any more, and the loop
  // variable: the last chunk.
  EXPECT_EQ(actor->local_names(), (std::vector<std::string>{"gen", "chunk"}));
  std::size_t through_gen = 0;
  actor->find_local("gen")->tracked->referents([&](const rt::referent&) { ++through_gen; });
  EXPECT_EQ(through_gen, 0u) << "a generator that raised has dropped its frame";

  // Cut the generator's frame out of the traceback (tb.tb_next = None): P goes, all but the
  // chunk the actor's `chunk` still holds (P/8).
  const auto before = leakbench::measure::new_heap().bytes;
  err->truncate_traceback(1);
  const auto freed = before - leakbench::measure::new_heap().bytes;
  EXPECT_GE(freed, static_cast<std::int64_t>(k_payload - k_payload / 8));
  EXPECT_LT(freed, static_cast<std::int64_t>(k_payload));
}

TEST(workaround_scenarios, build_the_exception_graphs_python_builds) {
  {  // MetadataOnly: a small error, but the actor's frame keeps `data`.
    rt::attempt_context ctx(1, rt::message::make("q", "MetadataOnly"));
    const auto e = run_actor("MetadataOnly", ctx);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->attribute_count(), 2u);
    EXPECT_TRUE(e->traceback()[0]->has_local("data"));
  }
  {  // LogAndRaise: logged, then Outer with Inner as implicit context; both frames keep `data`.
    rt::attempt_context ctx(1, rt::message::make("q", "LogAndRaise"));
    const auto e = run_actor("LogAndRaise", ctx);
    ASSERT_TRUE(e && e->context());
    EXPECT_GT(ctx.logged_bytes(), 0u);
    EXPECT_EQ(e->context()->type(), "Inner");
    EXPECT_EQ(names(*e->context()), (std::vector<std::string>{"log_and_raise", "process"}));
    for (const auto* f : e->context()->traceback()) EXPECT_TRUE(f->has_local("data"));
    EXPECT_NE(e->format().find("During handling of the above exception"), std::string::npos);
  }
  {  // RaiseFromNone: the context is kept, suppressed from the report.
    rt::attempt_context ctx(1, rt::message::make("q", "RaiseFromNone"));
    const auto e = run_actor("RaiseFromNone", ctx);
    ASSERT_TRUE(e && e->context());
    EXPECT_TRUE(e->suppress_context());
    EXPECT_EQ(e->context()->attribute_count(), 1u);
    EXPECT_EQ(e->format().find("Inner"), std::string::npos);
    EXPECT_FALSE(e->traceback()[0]->has_local("e")) << "the except block's name is gone";
  }
  {  // DelBeforeRaise: the frame no longer binds `data`.
    rt::attempt_context ctx(1, rt::message::make("q", "DelBeforeRaise"));
    const auto e = run_actor("DelBeforeRaise", ctx);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->traceback()[0]->local_names(), std::vector<std::string>{"size"});
  }
  {  // ClearTraceback: Big lost its traceback, but Slim holds Big as its context.
    rt::attempt_context ctx(1, rt::message::make("q", "ClearTraceback"));
    const auto e = run_actor("ClearTraceback", ctx);
    ASSERT_TRUE(e && e->context());
    EXPECT_EQ(e->context()->type(), "Big");
    EXPECT_TRUE(e->context()->traceback().empty());
    EXPECT_EQ(e->traceback()[0]->local_names(), std::vector<std::string>{});
  }
  {  // ClearTracebackOutside: raised after the block, Slim has no context.
    rt::attempt_context ctx(1, rt::message::make("q", "ClearTracebackOutside"));
    const auto e = run_actor("ClearTracebackOutside", ctx);
    ASSERT_TRUE(e);
    EXPECT_FALSE(e->context());
  }
}
