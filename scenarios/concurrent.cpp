// Concurrent: K messages in flight at once on K worker threads; each attempt allocates P/2,
// waits about 20 ms on the loop so the attempts overlap, and raises. One iteration is one
// retry round of all K. Leaky: K * P/2 per round.
#include <chrono>

#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class concurrent final : public scenario {
 public:
  std::int64_t expected_leaky(const config& c) const override {
    return static_cast<std::int64_t>(c.concurrency * (c.payload / 2));
  }
  std::size_t messages(const config& c) const override { return c.concurrency; }
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [half = c.payload / 2](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "concurrent");
          auto data = f.local("data", rt::make_payload(half));
          co_await rt::sleep(ctx, std::chrono::milliseconds(20));  // overlap with the other K-1
          auto err = ctx.make_error("ValueError", "concurrent failure");
          err->hold("payload", data);
          throw ctx.raise(err);
        });
  }
};

LEAKBENCH_SCENARIO(concurrent, "Concurrent", 3);

}  // namespace
}  // namespace leakbench::scenarios
