// LogAndRaise, a workaround on trial: log the inner error, raise a simple outer one.
//     try: process(data)                        # raises Inner("cannot process"), no data
//     except Inner: logger.exception("failed"); raise Outer("Processing failed")
// Outer's traceback keeps the actor's frame, and its implicit __context__ (Inner) keeps the
// frames of the actor and of process, each with `data`: leaky still retains P.
#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

// A plain helper: `def process(data): raise Inner("cannot process")`.
[[noreturn]] void process(rt::attempt_context& ctx, const rt::payload& data) {
  rt::frame f(ctx, "process");
  f.local("data", data);
  throw ctx.raise(ctx.make_error("Inner", "cannot process"));
}

class log_and_raise final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "log_and_raise");
          auto data = f.local("data", rt::make_payload(p));
          try {
            process(ctx, data);
          } catch (const rt::raised& r) {
            const rt::handler h(f, r);
            ctx.log("failed\n" + h.exception()->format());  // reads the frames, keeps nothing
            throw ctx.raise(ctx.make_error("Outer", "Processing failed"));
          }
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(log_and_raise, "LogAndRaise", 9);

}  // namespace
}  // namespace leakbench::scenarios
