// CPython's exception-handling semantics in the model: the handled exception per task, the
// implicit __context__, `from None`, clearing a traceback, bare re-raises, `except ... as e`.
#include <gtest/gtest.h>

#include "harness/measure/heap.hpp"
#include "harness/runtime/attempt.hpp"
#include "harness/runtime/value.hpp"

namespace rt = leakbench::runtime;

namespace {

std::vector<std::string> names(const rt::error& e) {
  std::vector<std::string> out;
  for (const auto* f : e.traceback()) out.push_back(f->function());
  return out;
}

[[noreturn]] void fail(rt::attempt_context& ctx, const char* function, const char* type) {
  rt::frame f(ctx, function);
  throw ctx.raise(ctx.make_error(type, ""));
}

// Runs `body` and returns the model exception it raised.
template <class F>
std::shared_ptr<rt::error> raised_by(F&& body) {
  try {
    body();
  } catch (const rt::raised& r) {
    return r.exception();
  }
  ADD_FAILURE() << "nothing was raised";
  return nullptr;
}

rt::message msg() { return rt::message::make("q", "a"); }

}  // namespace

TEST(exception_handling, raising_inside_a_handler_sets_the_handled_one_as_context) {
  rt::attempt_context ctx(1, msg());
  const auto outer = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "process", "Inner");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r);
      EXPECT_EQ(ctx.handled(), r.exception());
      throw ctx.raise(ctx.make_error("Outer", ""));
    }
  });
  ASSERT_TRUE(outer->context());
  EXPECT_EQ(outer->context()->type(), "Inner");
  EXPECT_FALSE(outer->cause());
  EXPECT_FALSE(outer->suppress_context());
  EXPECT_EQ(names(*outer), std::vector<std::string>{"actor"});
  EXPECT_EQ(names(*outer->context()), (std::vector<std::string>{"actor", "process"}));
  EXPECT_EQ(ctx.handled(), nullptr) << "the handler's exception is restored when it ends";
}

TEST(exception_handling, raising_after_the_handler_ended_sets_no_context) {
  rt::attempt_context ctx(1, msg());
  const auto slim = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "body", "Big");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r);
    }
    throw ctx.raise(ctx.make_error("Slim", ""));
  });
  EXPECT_FALSE(slim->context());
}

TEST(exception_handling, the_handled_exception_belongs_to_its_task_not_the_attempt) {
  // CPython keeps it per coroutine (gi_exc_state): another task of the same attempt, running
  // while this handler is open, raises with no context.
  rt::attempt_context ctx(1, msg());
  const auto other = ctx.new_task();
  std::shared_ptr<rt::error> from_other;
  rt::frame f(ctx, "actor");
  try {
    fail(ctx, "process", "Inner");
  } catch (const rt::raised& r) {
    const rt::handler h(f, r);
    from_other = raised_by([&] { fail(*other, "sibling", "Other"); });
    EXPECT_EQ(other->handled(), nullptr);
  }
  EXPECT_FALSE(from_other->context());
}

TEST(exception_handling, nested_handlers_give_the_innermost_as_context) {
  rt::attempt_context ctx(1, msg());
  const auto third = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "a", "First");
    } catch (const rt::raised& r1) {
      const rt::handler h1(f, r1);
      try {
        fail(ctx, "b", "Second");
      } catch (const rt::raised& r2) {
        const rt::handler h2(f, r2);
        throw ctx.raise(ctx.make_error("Third", ""));
      }
    }
  });
  ASSERT_TRUE(third->context());
  EXPECT_EQ(third->context()->type(), "Second");
  ASSERT_TRUE(third->context()->context());
  EXPECT_EQ(third->context()->context()->type(), "First");
}

TEST(exception_handling, raising_an_exception_already_on_the_context_chain_cuts_the_cycle) {
  // try: raise A
  // except A as a:
  //     try: raise B          (B.__context__ = A)
  //     except B: raise a     (A.__context__ would be B: CPython cuts B -> A first)
  rt::attempt_context ctx(1, msg());
  std::shared_ptr<rt::error> b;
  const auto a = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "first", "A");
    } catch (const rt::raised& ra) {
      const rt::handler ha(f, ra);
      try {
        fail(ctx, "second", "B");
      } catch (const rt::raised& rb) {
        const rt::handler hb(f, rb);
        b = rb.exception();
        ASSERT_EQ(b->context(), ra.exception());
        throw ctx.raise(ra.exception());
      }
    }
  });
  EXPECT_EQ(a->context(), b);
  EXPECT_FALSE(b->context()) << "the link back to A is cut: no cycle";
  EXPECT_EQ(a->chain().size(), 2u);
}

TEST(exception_handling, raise_from_none_keeps_the_context_but_hides_it) {
  rt::attempt_context ctx(1, msg());
  const auto outer = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "inner", "Inner");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r);
      auto e = ctx.make_error("Outer", "failed");
      e->from_none();
      throw ctx.raise(e);
    }
  });
  EXPECT_FALSE(outer->cause());
  EXPECT_TRUE(outer->suppress_context());
  ASSERT_TRUE(outer->context()) << "from None only suppresses: the context is still held";
  EXPECT_EQ(outer->context()->type(), "Inner");
  EXPECT_EQ(outer->chain().size(), 1u);
  EXPECT_EQ(outer->format(), "Traceback (most recent call last):\n  in actor\nOuter: failed\n");
}

TEST(exception_handling, raise_from_sets_cause_and_suppresses_the_context) {
  rt::attempt_context ctx(1, msg());
  const auto outer = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "inner", "Inner");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r);
      auto e = ctx.make_error("Outer", "");
      e->set_cause(ctx.make_error("Cause", ""));
      throw ctx.raise(e);
    }
  });
  EXPECT_TRUE(outer->suppress_context());
  EXPECT_EQ(outer->context()->type(), "Inner");
  const auto chain = outer->chain();
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain[0]->type(), "Cause");
}

TEST(exception_handling, a_cleared_traceback_starts_fresh_on_the_next_raise) {
  rt::attempt_context ctx(1, msg());
  std::shared_ptr<rt::error> big;
  const auto again = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "body", "Big");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r);
      big = h.exception();
      EXPECT_EQ(names(*big), (std::vector<std::string>{"actor", "body"}));
      big->clear_traceback();  // e.__traceback__ = None
    }
    rt::frame g(ctx, "later");
    throw ctx.raise(big);
  });
  EXPECT_EQ(again, big);
  EXPECT_EQ(names(*big), (std::vector<std::string>{"actor", "later"}));
}

TEST(exception_handling, a_bare_reraise_adds_no_second_entry_for_the_handler_frame) {
  rt::attempt_context ctx(1, msg());
  const auto e = raised_by([&] {
    rt::frame top(ctx, "caller");
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "body", "E");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r);
      throw;  // bare `raise`
    }
  });
  EXPECT_EQ(names(*e), (std::vector<std::string>{"caller", "actor", "body"}));
}

TEST(exception_handling, an_explicit_raise_of_the_caught_exception_adds_the_frame_again) {
  // `except E as e: raise e` adds an entry for the handler's frame, as CPython does.
  rt::attempt_context ctx(1, msg());
  const auto e = raised_by([&] {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "body", "E");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r);
      throw ctx.raise(r.exception());
    }
  });
  EXPECT_EQ(names(*e), (std::vector<std::string>{"actor", "actor", "body"}));
}

TEST(exception_handling, a_reraise_after_the_block_continues_without_a_second_entry) {
  // async with: __aexit__ runs after the C++ handler, then RERAISE.
  rt::attempt_context ctx(1, msg());
  const auto e = raised_by([&] {
    rt::frame top(ctx, "caller");
    rt::frame f(ctx, "actor");
    std::shared_ptr<rt::error> failure;
    try {
      fail(ctx, "body", "E");
    } catch (const rt::raised& r) {
      failure = rt::handler(f, r).exception();
    }
    f.reraise(failure);
  });
  EXPECT_EQ(names(*e), (std::vector<std::string>{"caller", "actor", "body"}));
}

TEST(exception_handling, a_kept_exception_collects_no_unrelated_frame) {
  // A handled exception kept as an exception_ptr (its C++ object alive) must not collect the
  // frames a later, unrelated exception unwinds.
  rt::attempt_context ctx(1, msg());
  std::exception_ptr kept;
  std::shared_ptr<rt::error> handled;
  {
    rt::frame f(ctx, "actor");
    try {
      fail(ctx, "body", "E");
    } catch (const rt::raised& r) {
      handled = rt::handler(f, r).exception();
      kept = std::current_exception();
    }
  }
  const auto frames = handled->traceback().size();
  try {
    rt::frame g(ctx, "unrelated");
    throw std::runtime_error("not a model exception");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(handled->traceback().size(), frames);
}

TEST(exception_handling, two_exceptions_in_flight_in_one_attempt_keep_their_own_frames) {
  // As under gather: task A's exception is delivered to A's waiting frame after task B raised.
  rt::attempt_context ctx(1, msg());
  const auto a = ctx.new_task();
  const auto b = ctx.new_task();
  std::exception_ptr a_failure;
  std::shared_ptr<rt::error> ea, eb;
  try {
    rt::frame waiting(*a, "a_parent");
    try {
      fail(*a, "a_child", "A");
    } catch (...) {
      a_failure = std::current_exception();  // what a completion handler keeps
    }
    eb = raised_by([&] {
      rt::frame pb(*b, "b_parent");
      fail(*b, "b_child", "B");
    });
    std::rethrow_exception(a_failure);  // A's waiting frame resumes with A's exception
  } catch (const rt::raised& r) {
    ea = r.exception();
  }
  EXPECT_EQ(names(*ea), (std::vector<std::string>{"a_parent", "a_child"}));
  EXPECT_EQ(names(*eb), (std::vector<std::string>{"b_parent", "b_child"}));
}

TEST(exception_handling, except_as_unbinds_the_name_when_the_block_ends) {
  rt::attempt_context ctx(1, msg());
  rt::frame f(ctx, "actor");
  try {
    fail(ctx, "body", "E");
  } catch (const rt::raised& r) {
    const rt::handler h(f, r, "e");
    EXPECT_TRUE(f.record()->has_local("e"));
  }
  EXPECT_FALSE(f.record()->has_local("e"));
  // Left by an exception too: Python's `finally: del e`.
  const auto outer = raised_by([&] {
    try {
      fail(ctx, "body", "E");
    } catch (const rt::raised& r) {
      const rt::handler h(f, r, "e");
      throw ctx.raise(ctx.make_error("Outer", ""));
    }
  });
  EXPECT_FALSE(f.record()->has_local("e"));
  EXPECT_EQ(outer->context()->type(), "E");
}

TEST(exception_handling, formatting_reads_the_frames_and_keeps_nothing) {
  rt::attempt_context ctx(1, msg());
  const auto e = raised_by([&] {
    rt::frame f(ctx, "actor");
    f.local("data", rt::make_payload(4096));
    throw ctx.raise(ctx.make_error("ValueError", "boom"));
  });
  const auto heap = leakbench::measure::new_heap().bytes;
  const auto frame = e->traceback().front();
  const long uses = frame->weak_from_this().use_count();
  {
    const std::string text = e->format();
    EXPECT_EQ(text, "Traceback (most recent call last):\n  in actor\nValueError: boom\n");
    ctx.log(text);
  }
  EXPECT_EQ(leakbench::measure::new_heap().bytes, heap);
  EXPECT_EQ(frame->weak_from_this().use_count(), uses);
  EXPECT_EQ(ctx.logged_bytes(), 63u);
}

TEST(exception_handling, format_honours_its_traceback_limit) {
  rt::attempt_context ctx(1, msg());
  const auto e = raised_by([&] {
    rt::frame a(ctx, "a");
    rt::frame b(ctx, "b");
    fail(ctx, "c", "E");
  });
  EXPECT_EQ(e->format(2), "Traceback (most recent call last):\n  in a\n  in b\nE\n");
}
