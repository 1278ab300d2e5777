#include "harness/middleware/retries.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace leakbench::middleware {

retries::retries(retries_options opts) : opts_(opts) {
  if (opts_.min_backoff.count() < 0 || opts_.max_backoff.count() < 0) {
    throw std::invalid_argument("retry backoff must not be negative");
  }
  if (opts_.min_backoff > opts_.max_backoff) {
    throw std::invalid_argument(fmt::format("min_backoff {} ms exceeds max_backoff {} ms",
                                            opts_.min_backoff.count(), opts_.max_backoff.count()));
  }
}

std::chrono::milliseconds retries::backoff(std::uint32_t retry) {
  // min_backoff * 2^retries, capped; the exponent is capped first so the product cannot overflow.
  const auto exponent = std::min<std::uint32_t>(retry, 32);
  const long double uncapped = static_cast<long double>(opts_.min_backoff.count()) *
                               static_cast<long double>(std::uint64_t{1} << exponent);
  const auto b = static_cast<std::int64_t>(
      std::min(uncapped, static_cast<long double>(opts_.max_backoff.count())));
  if (!opts_.jitter || b < 2) return std::chrono::milliseconds(b);
  std::lock_guard lock(rng_mutex_);
  return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(b / 2, b)(rng_));
}

void retries::after_process_message(runtime::attempt_context& ctx,
                                    const std::shared_ptr<runtime::error>& exception) {
  if (!exception) return;
  const runtime::message& m = ctx.msg();
  const std::uint32_t limit = m.options.max_retries.value_or(opts_.max_retries);
  const std::uint32_t retry = m.options.retries + 1;
  if (retry > limit) {
    ctx.give_up(
        fmt::format("gave up after {} retries: {}", m.options.retries, exception->describe()));
    return;
  }
  runtime::message next = m;
  next.options.retries = retry;
  // Dramatiq: message.options["traceback"] = traceback.format_exc(limit=30). Replaced on each
  // retry: the message grows once, by one formatted traceback.
  next.options.traceback = exception->format(k_traceback_limit);
  ctx.retry(std::move(next), backoff(retry));
}

}  // namespace leakbench::middleware
