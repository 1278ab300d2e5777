#include "harness/runtime/error.hpp"

#include <gtest/gtest.h>

#include "harness/runtime/attempt.hpp"
#include "harness/runtime/value.hpp"

namespace rt = leakbench::runtime;

namespace {

[[noreturn]] void inner(rt::attempt_context& ctx) {
  rt::frame f(ctx, "inner");
  f.local("buffer", rt::make_payload(16));
  throw ctx.raise(ctx.make_error("KeyError", "k"));
}

void middle(rt::attempt_context& ctx) {
  rt::frame f(ctx, "middle");
  inner(ctx);
}

void outer_raises_from(rt::attempt_context& ctx) {
  rt::frame f(ctx, "outer");
  try {
    middle(ctx);
  } catch (const rt::raised& r) {
    const rt::handler h(f, r);
    auto e = ctx.make_error("ValueError", "wrapped");
    e->set_cause(r.exception());
    e->set_context(r.exception());
    throw ctx.raise(e);
  }
}

std::vector<std::string> names(const rt::error& e) {
  std::vector<std::string> out;
  for (const auto* f : e.traceback()) out.push_back(f->function());
  return out;
}

}  // namespace

TEST(error_model, traceback_lists_frames_outermost_first_as_python_does) {
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  std::shared_ptr<rt::error> caught;
  {
    rt::frame top(ctx, "process_message");
    try {
      middle(ctx);
    } catch (const rt::raised& r) {
      caught = rt::handler(top, r).exception();
    }
  }
  ASSERT_TRUE(caught);
  EXPECT_EQ(names(*caught), (std::vector<std::string>{"process_message", "middle", "inner"}));
  EXPECT_TRUE(caught->traceback().back()->has_local("buffer")) << "the frame keeps its locals";
}

TEST(error_model, raise_from_keeps_cause_and_context_in_python_order) {
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  std::shared_ptr<rt::error> caught;
  try {
    outer_raises_from(ctx);
  } catch (const rt::raised& r) {
    caught = r.exception();
  }
  ASSERT_TRUE(caught && caught->cause());
  EXPECT_EQ(caught->cause()->type(), "KeyError");
  EXPECT_EQ(caught->context(), caught->cause());
  EXPECT_EQ(names(*caught), (std::vector<std::string>{"outer"}));
  EXPECT_EQ(names(*caught->cause()), (std::vector<std::string>{"outer", "middle", "inner"}));
  const auto chain = caught->chain();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0]->type(), "KeyError");
  EXPECT_EQ(chain[1]->type(), "ValueError");
  EXPECT_EQ(caught->format(),
            "Traceback (most recent call last):\n  in outer\n  in middle\n  in inner\nKeyError: k\n"
            "\nThe above exception was the direct cause of the following exception:\n\n"
            "Traceback (most recent call last):\n  in outer\nValueError: wrapped\n");
}

TEST(error_model, context_without_cause_reads_during_handling) {
  auto first = std::make_shared<rt::error>("KeyError", "k");
  auto second = std::make_shared<rt::error>("TypeError", "t");
  second->set_context(first);
  EXPECT_NE(second->format().find("During handling of the above exception"), std::string::npos);
}

TEST(error_model, a_handled_exception_does_not_collect_later_frames) {
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  std::shared_ptr<rt::error> handled;
  try {
    inner(ctx);
  } catch (const rt::raised& r) {
    handled = r.exception();
  }
  const std::size_t frames = handled->traceback().size();
  try {
    rt::frame f(ctx, "unrelated");
    throw std::runtime_error("not a model exception");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(handled->traceback().size(), frames);
}

TEST(error_model, frame_del_unbinds_a_local) {
  rt::attempt_context ctx(1, rt::message::make("q", "a"));
  rt::frame f(ctx, "run_coroutine");
  auto p = f.local("future", rt::make_payload(8));
  EXPECT_TRUE(f.record()->has_local("future"));
  f.del("future");
  EXPECT_FALSE(f.record()->has_local("future"));
  EXPECT_EQ(p.use_count(), 1);
}
