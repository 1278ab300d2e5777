// Generator: an async generator buffers P in chunks (P/8, at most 1 MiB: 32 of them at the
// default 32 MiB), then raises from inside itself; the actor consumes it, its loop variable
// `chunk` bound to the last one. The buffer is a local of the generator's frame alone; a generator
// that raised is finished and drops its frame, as CPython's does, so only the traceback's entry for
// that frame holds the buffer: leaky retains P.
#include <algorithm>

#include "harness/runtime/value.hpp"
#include "scenarios/scenario.hpp"

namespace leakbench::scenarios {
namespace {

namespace rt = runtime;
constexpr std::size_t k_max_chunk = std::size_t{1} << 20;

// The async generator object: owns its frame between resumptions (Python's ag_frame).
class chunk_generator final : public rt::gc_object {
 public:
  chunk_generator(rt::attempt_context& ctx, std::size_t total)
      : frame_(ctx.make<rt::frame_record>("buffer_chunks")),
        total_(total),
        chunk_(std::clamp<std::size_t>(total / 8, 1, k_max_chunk)) {
    auto buffer = ctx.make<rt::list>();
    buffer_ = buffer.get();
    frame_->set_local("buffer", std::move(buffer));
  }

  /// `await gen.__anext__()`: the next chunk, or the generator's own failure once P is buffered.
  rt::asio::awaitable<rt::value> next(rt::attempt_context& ctx) {
    rt::frame f(ctx, frame_);  // resumes the same frame record
    if (filled_ >= total_) {
      frame_.reset();  // finished: the traceback's entry is all that is left of the frame
      throw ctx.raise(ctx.make_error("RuntimeError", "generator failed"));
    }
    const std::size_t n = std::min(chunk_, total_ - filled_);
    buffer_->append(rt::make_payload(n));  // buffer.append(chunk)
    filled_ += n;
    co_return buffer_->back();
  }

  void referents(const std::function<void(const rt::referent&)>& visit) const override {
    if (frame_) visit({{rt::step::kind::attribute, "ag_frame"}, frame_.get()});
  }
  void clear() override { frame_.reset(); }

 private:
  std::shared_ptr<rt::frame_record> frame_;
  rt::list* buffer_;  // the frame's local, valid while the frame runs: owned by the frame alone
  std::size_t total_;
  std::size_t chunk_;  // the loop's `chunk` holds one: a small share of P at any size
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
