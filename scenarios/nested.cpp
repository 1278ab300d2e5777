// Nested: `raise Outer(P) from Inner(P)`. The cause chain holds both payloads: leaky 2P.
#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class nested final : public scenario {
 public:
  std::int64_t expected_leaky(const config& c) const override {
    return 2 * static_cast<std::int64_t>(c.payload);
  }
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "nested");
          auto inner = ctx.make_error("Inner", "inner failure");
          inner->hold("payload", rt::make_payload(p));
          auto outer = ctx.make_error("Outer", "outer failure");
          outer->hold("payload", rt::make_payload(p));
          outer->set_cause(inner);  // `from Inner(...)`: outside an except block, no __context__
          throw ctx.raise(outer);
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(nested, "Nested", 2);

}  // namespace
}  // namespace leakbench::scenarios
