// DeepTraceback: the actor holds P as a local and awaits D calls deep; the innermost raises a
// small error that holds no data. Only the frames hold P: leaky retains P.
#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

rt::asio::awaitable<rt::value> descend(rt::attempt_context& ctx, std::size_t level) {
  rt::frame f(ctx, "descend");
  if (level == 0) throw ctx.raise(ctx.make_error("LookupError", "bottom reached"));
  co_return co_await descend(ctx, level - 1);
}

class deep_traceback final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name,
        [p = c.payload, d = c.depth](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "deep_traceback");
          f.local("data", rt::make_payload(p));  // held by the frame alone
          co_return co_await descend(ctx, d == 0 ? 0 : d - 1);
        });
  }
};

LEAKBENCH_SCENARIO(deep_traceback, "DeepTraceback", 5);

}  // namespace
}  // namespace leakbench::scenarios
