#pragma once
// The body coroutine both ClearTraceback scenarios await: binds P and raises Big(P).
//     async def body(): data = load(P); raise Big(data)
#include "harness/runtime/event_loop.hpp"
#include "harness/runtime/value.hpp"

namespace leakbench::scenarios {

inline runtime::asio::awaitable<runtime::value> big_body(runtime::attempt_context& ctx,
                                                         std::size_t bytes) {
  runtime::frame f(ctx, "body");
  auto data = f.local("data", runtime::make_payload(bytes));
  auto big = ctx.make_error("Big", "body failed");
  big->hold("payload", data);
  throw ctx.raise(big);
  co_return nullptr;
}

}  // namespace leakbench::scenarios
