// Single: the actor allocates P and raises an error that holds it. Leaky retains P per retry.
#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class single final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "single");
          auto data = f.local("data", rt::make_payload(p));
          auto err = ctx.make_error("ValueError", "single failure");
          err->hold("payload", data);  // raise Failure(data): self.payload = data
          throw ctx.raise(err);
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(single, "Single", 1);

}  // namespace
}  // namespace leakbench::scenarios
