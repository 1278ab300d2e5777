#pragma once

namespace leakbench::bench {

/// Installs SIGINT and SIGTERM handlers: the first signal asks the running benchmark to stop
/// at its next retry boundary (so that its keys are removed and the JSON is completed); a
/// second one exits at once with 128 + the signal.
/// `quiet`: say nothing (a child leakbench: its parent speaks for both).
void install_interrupt_handlers(bool quiet = false);

/// While `pid` > 0, the handler also sends every signal it receives to `pid` (a benchmark's
/// child leakbench, in its own process group); 0 stops that.
void forward_signals_to(int pid);

/// When a hook registered with at_immediate_exit runs: children end before their files go.
enum class exit_phase { stop_children, remove_files };

/// Registers `fn` to run in the signal handler before a second signal's immediate exit, phase
/// by phase (at most 8 hooks): it must be async-signal-safe.
void at_immediate_exit(exit_phase phase, void (*fn)() noexcept);

/// The first signal received, or 0.
int interrupted();

/// "SIGINT", "SIGTERM".
const char* signal_name(int sig);

/// What a benchmark that never started because of a signal says; left out of the JSON.
inline constexpr const char* k_not_run = "not run: leakbench was interrupted";

}  // namespace leakbench::bench
