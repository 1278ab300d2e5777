#pragma once

#include "harness/middleware/asyncio.hpp"

namespace leakbench::middleware {

/// AsyncIO as before Dramatiq PR #878: run_coroutine's frame keeps `future` as it raises, so
/// the exception's traceback holds the frame that holds the future that holds the exception.
class asyncio_leaky final : public asyncio {
 public:
  using asyncio::asyncio;
  runtime::value run_coroutine(const std::shared_ptr<runtime::attempt_context>& ctx,
                               const runtime::coroutine_fn& fn) override;
};

}  // namespace leakbench::middleware
