// ClearTraceback, a workaround on trial: strip the big exception, raise a slim one.
//     try: await body()                      # raises Big(data)
//     except Big as e: e.__traceback__ = None; msg = str(e); del e
//                      raise Slim(msg) from None
// Raised inside the except block, Slim gets Big as its __context__ anyway, and Big holds P:
// leaky still retains P.
#include "scenarios/big_body.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class clear_traceback final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "clear_traceback");
          try {
            co_await big_body(ctx, p);
          } catch (const rt::raised& r) {
            const rt::handler h(f, r, "e");
            h.exception()->clear_traceback();
            const std::string msg = h.exception()->describe();
            f.del("e");
            auto slim = ctx.make_error("Slim", msg);
            slim->from_none();
            throw ctx.raise(slim);
          }
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(clear_traceback, "ClearTraceback", 12);

}  // namespace
}  // namespace leakbench::scenarios
