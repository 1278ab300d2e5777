// ContextManager: the actor enters an async scoped resource that owns P, bound to a local,
// and raises inside the scope; __aexit__ does not release the buffer. The actor's frame keeps
// the resource: leaky retains P.
#include <exception>

#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;
namespace asio = rt::asio;

// `async with scoped_resource(P) as r:` — entering and leaving are real suspensions.
class scoped_resource final : public rt::gc_object {
 public:
  explicit scoped_resource(std::size_t bytes) : buffer_(rt::make_payload(bytes)) {}

  asio::awaitable<void> enter() {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
  /// __aexit__: returns false (the exception propagates) and keeps the buffer.
  asio::awaitable<bool> exit(std::shared_ptr<rt::error>) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    co_return false;
  }

  void referents(const std::function<void(const rt::referent&)>& visit) const override {
    visit(buffer_.as_referent({rt::step::kind::attribute, "buffer"}));
  }
  void clear() override { buffer_ = {}; }

 private:
  rt::ref buffer_;
};

class context_manager final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> asio::awaitable<rt::value> {
          rt::frame f(ctx, "context_manager");
          auto resource = f.local("resource", ctx.make<scoped_resource>(p));
          co_await resource->enter();
          std::shared_ptr<rt::error> failure;
          try {
            throw ctx.raise(ctx.make_error("ValueError", "failed inside the scope"));
          } catch (const rt::raised& r) {
            failure = rt::handler(f, r).exception();  // C++ cannot co_await inside a handler
          }
          if (!co_await resource->exit(failure)) f.reraise(failure);  // RERAISE
          co_return nullptr;
        });
  }
};

LEAKBENCH_SCENARIO(context_manager, "ContextManager", 7);

}  // namespace
}  // namespace leakbench::scenarios
