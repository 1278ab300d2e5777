// ClearTracebackOutside, a workaround on trial that works: the same cleanup, raised after the
// except block.
//     try: await body()                      # raises Big(data)
//     except Big as e: e.__traceback__ = None; msg = str(e); del e
//     raise Slim(msg)
// Once the except block is over nothing is being handled: Slim has no __context__, Big dies
// with its block, and nothing of P is retained.
#include "scenarios/big_body.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class clear_traceback_outside final : public scenario {
 public:
  std::int64_t expected_leaky(const config&) const override { return 0; }
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "clear_traceback_outside");
          std::string msg;
          try {
            co_await big_body(ctx, p);
          } catch (const rt::raised& r) {
            const rt::handler h(f, r, "e");
            h.exception()->clear_traceback();
            msg = h.exception()->describe();
            f.del("e");
          }
          throw ctx.raise(ctx.make_error("Slim", msg));
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(clear_traceback_outside, "ClearTracebackOutside", 13);

}  // namespace
}  // namespace leakbench::scenarios
