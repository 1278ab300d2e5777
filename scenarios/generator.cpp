// Generator: an async generator buffers P in 1 MiB chunks, then raises from inside itself; the
// actor consumes it. The generator's frame, which outlives each resumption as Python's does,
// holds the buffer and joins the traceback: leaky retains P.
#include <algorithm>
#include <vector>

#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;
constexpr std::size_t k_chunk = std::size_t{1} << 20;

using chunks = std::vector<std::shared_ptr<std::byte[]>>;

// The generator object: owns its frame between resumptions (Python's ag_frame).
class chunk_generator final : public rt::gc_object {
 public:
  chunk_generator(rt::attempt_context& ctx, std::size_t total)
      : frame_(ctx.make<rt::frame_record>("buffer_chunks")), total_(total) {
    frame_->set_local("buffer", buffer_);
  }

  /// `await gen.__anext__()`: the next chunk, or the generator's own failure once P is buffered.
  rt::asio::awaitable<rt::value> next(rt::attempt_context& ctx) {
    rt::frame f(ctx, frame_);  // resumes the same frame record
    if (filled_ >= total_) throw ctx.raise(ctx.make_error("RuntimeError", "generator failed"));
    const std::size_t n = std::min(k_chunk, total_ - filled_);
    buffer_->push_back(rt::make_payload(n));
    filled_ += n;
    co_return buffer_->back();
  }

  void traverse(const std::function<void(const rt::gc_object*)>& visit) const override {
    if (frame_) visit(frame_.get());
  }
  void clear() override { frame_.reset(); }

 private:
  std::shared_ptr<rt::frame_record> frame_;
  std::shared_ptr<chunks> buffer_ = std::make_shared<chunks>();
  std::size_t total_;
  std::size_t filled_ = 0;
};

class generator final : public scenario {
 public:
  void define(rt::actor_registry& actors, const std::string& name, const config& c) const override {
    actors.add_coroutine(
        name, [p = c.payload](rt::attempt_context& ctx) -> rt::asio::awaitable<rt::value> {
          rt::frame f(ctx, "generator");
          auto gen = f.local("gen", ctx.make<chunk_generator>(ctx, p));
          for (;;) f.local("chunk", co_await gen->next(ctx));  // async for chunk in gen: ...
        });
  }
};

LEAKBENCH_SCENARIO(generator, "Generator", 6);

}  // namespace
}  // namespace leakbench::scenarios
