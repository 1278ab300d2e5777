#pragma once

// The one place the project includes Asio from. Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>: include it first.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace leakbench::runtime {
namespace asio = boost::asio;
}  // namespace leakbench::runtime
