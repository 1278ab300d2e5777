// LargeResult: the actor returns P successfully: no exception, no retry, nothing retained.
// One iteration is one new message. Both variants: about 0.
#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class large_result final : public scenario {
 public:
  std::int64_t expected_leaky(const config&) const override { return 0; }
  bool fails() const override { return false; }
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "large_result");
          auto data = f.local("data", rt::make_payload(p));
          co_return data;  // the worker drops it: there is no result backend
        });
  }
};

LEAKBENCH_SCENARIO(large_result, "LargeResult", 4);

}  // namespace
}  // namespace leakbench::scenarios
