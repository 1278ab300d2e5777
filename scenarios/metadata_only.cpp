// MetadataOnly, a workaround on trial: keep only metadata in the exception.
//     data = load(P)
//     raise Failure(size=len(data), digest=digest(data))
// The error holds a few bytes, but the traceback keeps the actor's frame and its local `data`:
// leaky still retains P.
#include <fmt/format.h>

#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;

// A short digest of the block's head (FNV-1a): metadata, as a workaround would log it.
std::string digest(const rt::payload& data) {
  std::uint64_t h = 14695981039346656037ull;
  for (std::size_t i = 0; i < std::min<std::size_t>(data.size, 64); ++i) {
    h = (h ^ static_cast<std::uint8_t>(data[i])) * 1099511628211ull;
  }
  return fmt::format("{:016x}", h);
}

class metadata_only final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "metadata_only");
          auto data = f.local("data", rt::make_payload(p));
          auto err = ctx.make_error("Failure", fmt::format("failed on {} bytes", data.size));
          err->hold("size", std::make_shared<std::size_t>(data.size));
          err->hold("digest", std::make_shared<std::string>(digest(data)));
          throw ctx.raise(err);
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(metadata_only, "MetadataOnly", 8);

}  // namespace
}  // namespace leakbench::scenarios
