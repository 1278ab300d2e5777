#include "harness/middleware/asyncio_leaky.hpp"

namespace leakbench::middleware {

runtime::value asyncio_leaky::run_coroutine(const std::shared_ptr<runtime::attempt_context>& ctx,
                                            const runtime::coroutine_fn& fn) {
  runtime::frame f(*ctx, "run_coroutine");
  const auto future = f.local("future", submit(ctx, fn));
  return wait(*ctx, *future);
}

}  // namespace leakbench::middleware
