#include "harness/middleware/asyncio_fixed.hpp"

namespace leakbench::middleware {
namespace {

// Python's `finally:` block: runs before the frame's record joins the traceback, because it is
// declared after the frame and so destroyed first.
struct del_local {
  runtime::frame& f;
  const char* name;
  ~del_local() { f.del(name); }
};

}  // namespace

runtime::value asyncio_fixed::run_coroutine(const std::shared_ptr<runtime::attempt_context>& ctx,
                                            const runtime::coroutine_fn& fn) {
  runtime::frame f(*ctx, "run_coroutine");
  const auto future = f.local("future", submit(ctx, fn));
  const del_local finally{f, "future"};  // the #878 fix
  return wait(*ctx, *future);
}

}  // namespace leakbench::middleware
