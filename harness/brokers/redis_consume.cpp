// The Redis broker's consuming side: slots, BLMOVE, waking blocked consumers.
#include "harness/brokers/redis_broker.hpp"

#include <fmt/format.h>

#include "harness/brokers/redis_scripts.hpp"

namespace leakbench::brokers {
namespace {

using scripts::k_promote;
using scripts::k_requeue;

using clock = std::chrono::steady_clock;

std::string seconds_arg(std::chrono::milliseconds ms) {
  return fmt::format("{:.3f}", static_cast<double>(ms.count()) / 1000.0);
}

}  // namespace

std::uint64_t redis_broker::take_slot() {
  std::lock_guard lock(slots_mutex_);
  if (free_slots_.empty()) return slots_++;
  const std::uint64_t slot = *free_slots_.begin();
  free_slots_.erase(free_slots_.begin());
  return slot;
}

void redis_broker::free_slot(std::uint64_t slot) {
  std::lock_guard lock(slots_mutex_);
  free_slots_.insert(slot);
}

std::size_t redis_broker::requeue_unsettled(redis_connection& c) {
  std::vector<delivery> pending;
  {
    std::lock_guard lock(unsettled_mutex_);
    pending.swap(unsettled_);
  }
  std::size_t moved = 0;
  for (std::size_t i = 0; i < pending.size(); ++i) {
    try {
      moved += static_cast<std::size_t>(
          c.command({"EVAL", k_requeue, "2", inflight_key(pending[i].queue, pending[i].tag),
                     key("queue", pending[i].queue), pending[i].body})
              .integer);
      free_slot(pending[i].tag);
    } catch (const broker_error&) {
      std::lock_guard lock(unsettled_mutex_);
      unsettled_.insert(unsettled_.end(), pending.begin() + static_cast<std::ptrdiff_t>(i),
                        pending.end());
      throw;
    }
  }
  return moved;
}

std::optional<delivery> redis_broker::consume(std::string_view queue,
                                              std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  const std::uint64_t wakes = wakes_.load();
  // A slot of its own: the in-flight list the delivery will sit in holds nothing else until it
  // is settled, so a lost move can be checked there.
  struct held_slot {
    redis_broker& b;
    const std::uint64_t slot;
    bool delivered = false;
    ~held_slot() {
      if (!delivered) b.free_slot(slot);
    }
  } held{*this, take_slot()};
  const std::string ready = key("queue", queue), delayed = key("delayed", queue);
  const std::string inflight = inflight_key(queue, held.slot);
  auto c = connection();
  {
    // Registered (once per list) so that whoever finds this broker dead knows which queue its
    // in-flight messages belong to.
    std::lock_guard lock(registered_mutex_);
    if (registered_.insert(inflight).second) {
      try {
        retry_once(*c, [&](redis_connection& r) {
          r.command({"HSET", key("inflight"), inflight, queue});
        });
      } catch (...) {
        registered_.erase(inflight);
        throw;
      }
    }
  }
  // Lost settles, if any: the server answers again, give them back (each checks its message is
  // still in flight, so a retry puts none back twice).
  retry_once(*c, [&](redis_connection& r) { return requeue_unsettled(r); });
  bool lost = false;  // one lost move is checked and waited again; a second is thrown
  for (;;) {
    if (closed_.load() || wakes_.load() != wakes) return std::nullopt;
    const long long next_eta = retry_once(*c, [&](redis_connection& r) {
      return r.command({"EVAL", k_promote, "3", delayed, ready, inflight}).integer;
    });
    auto block = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (next_eta >= 0) block = std::min(block, std::chrono::milliseconds(next_eta));
    redis_value got;
    try {
      got = move(*c, ready, inflight, block, wakes);
    } catch (const connection_lost&) {
      if (lost) throw;
      lost = true;
      // Not repeated blindly: had it moved a message, a second would move another. The slot's
      // list holds the message if it did.
      got = retry_once(*c, [&](redis_connection& r) {
        return r.command({"LINDEX", inflight, "0"});
      });
    }
    if (got.type == redis_value::kind::string) {
      held.delivered = true;
      return delivery{std::string(queue), got.str, held.slot};
    }
    if (clock::now() >= deadline) return std::nullopt;
  }
}

redis_value redis_broker::move(redis_connection& c, const std::string& ready,
                               const std::string& inflight, std::chrono::milliseconds block,
                               std::uint64_t wakes) {
  // BLMOVE's timeout 0 means forever: a non-blocking LMOVE stands in for it.
  if (block.count() < 1) return c.command({"LMOVE", ready, inflight, "LEFT", "RIGHT"});
  // Registered before the wake generation is checked: a waker that missed the check sees
  // the registration and unblocks it, even if BLMOVE is not on the server yet.
  const long long id = retry_once(c, [](redis_connection& r) { return r.client_id(); });
  {
    std::lock_guard lock(blocked_mutex_);
    blocked_.insert(id);
  }
  struct unregister {
    redis_broker& b;
    long long id;
    ~unregister() {
      std::lock_guard lock(b.blocked_mutex_);
      b.blocked_.erase(id);
    }
  } const registered{*this, id};
  if (wakes_.load() != wakes) return {};
  return c.blocking_command({"BLMOVE", ready, inflight, "LEFT", "RIGHT", seconds_arg(block)},
                            block);
}

void redis_broker::close() {
  closed_ = true;
  wake_consumers();
}

void redis_broker::wake_consumers() {
  ++wakes_;
  const auto give_up = clock::now() + std::chrono::seconds(2);
  while (clock::now() < give_up) {
    std::vector<long long> ids;
    {
      std::lock_guard lock(blocked_mutex_);
      ids.assign(blocked_.begin(), blocked_.end());
    }
    if (ids.empty()) return;
    try {
      // Unblocking one twice is harmless: its consumer sees the wake generation either way.
      repeatable([&](redis_connection& c) {
        for (long long id : ids) c.command({"CLIENT", "UNBLOCK", std::to_string(id)});
      });
    } catch (const broker_error&) {
      return;  // the server is away: the consumers' own I/O timeouts end their waits
    }
    // An id registered but whose BLMOVE has not reached the server yet: unblock it again.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace leakbench::brokers
