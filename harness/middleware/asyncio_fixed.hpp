#pragma once

#include "harness/middleware/asyncio.hpp"

namespace leakbench::middleware {

/// AsyncIO as fixed by Dramatiq PR #878: `finally: del future` unbinds the future before the
/// exception leaves run_coroutine, so no cycle forms and the exception dies with its last user.
class asyncio_fixed final : public asyncio {
 public:
  using asyncio::asyncio;
  runtime::value run_coroutine(const std::shared_ptr<runtime::attempt_context>& ctx,
                               const runtime::coroutine_fn& fn) override;
};

}  // namespace leakbench::middleware
