// RaiseFromNone, a workaround on trial: hide the inner error with `from None`.
//     try: raise Inner(data)
//     except Inner: raise Outer("failed") from None
// `from None` only sets __suppress_context__: the traceback hides Inner, but Outer's
// __context__ still holds it, and it holds P: leaky still retains P.
#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class raise_from_none final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "raise_from_none");
          try {
            auto inner = ctx.make_error("Inner", "inner failure");
            inner->hold("payload", rt::make_payload(p));
            throw ctx.raise(inner);
          } catch (const rt::raised& r) {
            const rt::handler h(f, r);
            auto outer = ctx.make_error("Outer", "failed");
            outer->from_none();
            throw ctx.raise(outer);
          }
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(raise_from_none, "RaiseFromNone", 10);

}  // namespace
}  // namespace leakbench::scenarios
