// DelBeforeRaise, a workaround on trial that works: drop the data before raising.
//     data = load(P); size = len(data)
//     del data
//     raise Failure(size)
// Nothing references P when the exception is raised: leaky retains only the exception's own
// small graph.
#include <fmt/format.h>

#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

class del_before_raise final : public scenario {
 public:
  std::int64_t expected_leaky(const config&) const override { return 0; }
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "del_before_raise");
          std::size_t size = 0;
          {
            const auto data = f.local("data", rt::make_payload(p));
            size = data.size;
            f.local("size", std::make_shared<std::size_t>(size));
            f.del("data");
          }  // the C++ handle goes too: the local was the only reference
          auto err = ctx.make_error("Failure", fmt::format("failed on {} bytes", size));
          err->hold("size", std::make_shared<std::size_t>(size));
          throw ctx.raise(err);
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(del_before_raise, "DelBeforeRaise", 11);

}  // namespace
}  // namespace leakbench::scenarios
