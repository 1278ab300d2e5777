#include "bench/interrupt.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>

namespace leakbench::bench {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_child{0};  // where signals are forwarded
std::atomic<bool> g_quiet{false};
constexpr int k_max_hooks = 8;
std::atomic<void (*)() noexcept> g_hooks[2][k_max_hooks]{};  // by phase; set at start-up
static_assert(std::atomic<int>::is_always_lock_free, "used from a signal handler");
static_assert(std::atomic<bool>::is_always_lock_free, "used from a signal handler");

void say(const char* text, std::size_t n) {
  const ssize_t written = ::write(STDERR_FILENO, text, n);  // async-signal-safe, unlike stdio
  (void)written;
}

extern "C" void on_signal(int sig) {
  if (const int child = g_child.load(); child > 0) ::kill(child, sig);
  int none = 0;
  const bool quiet = g_quiet.load();
  if (!g_signal.compare_exchange_strong(none, sig)) {
    constexpr char again[] = "leakbench: interrupted again: exiting now\n";
    if (!quiet) say(again, sizeof again - 1);
    for (auto& phase : g_hooks) {
      for (auto& hook : phase) {
        if (auto* fn = hook.load()) fn();
      }
    }
    ::_exit(128 + sig);
  }
  constexpr char first[] =
      "leakbench: interrupted: stopping at the next retry boundary (again to exit at once)\n";
  if (!quiet) say(first, sizeof first - 1);
}

}  // namespace

void install_interrupt_handlers(bool quiet) {
  g_quiet.store(quiet);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a blocked read or wait resumes; the flag is checked at retries
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void at_immediate_exit(exit_phase phase, void (*fn)() noexcept) {
  for (auto& hook : g_hooks[static_cast<int>(phase)]) {
    void (*none)() noexcept = nullptr;
    if (hook.compare_exchange_strong(none, fn)) return;
  }
  std::abort();  // an invariant: more hooks than slots is a programming error
}

void forward_signals_to(int pid) { g_child.store(pid); }

int interrupted() { return g_signal.load(); }

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "a signal";
  }
}

}  // namespace leakbench::bench
