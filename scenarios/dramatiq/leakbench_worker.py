"""The real Dramatiq worker leakbench drives over Redis, one process per benchmark.

Usage::

    python3 -u leakbench_worker.py --url URL --namespace NS --scenario NAME
        [--threads K] [--gc off|python|every] [--worker-timeout MS]
        [--expect-dir DIR] [--verbose]
    python3 -u leakbench_worker.py --probe [--expect-dir DIR]

Runs a ``dramatiq.Worker`` (K worker threads) on a ``RedisBroker(url=URL,
namespace=NS)`` with Dramatiq's default middleware plus AsyncIO and the
scenarios' actors (leakbench_actors.py); leakbench enqueues the messages.

stdout carries JSON lines only, one object each, and nothing else:

- ``ready``, once the worker runs: ``pid``, ``dramatiq_version``,
  ``dramatiq_file``, ``dramatiq_commit``, ``python_version``,
  ``python_executable``, ``gc``, ``threads``, ``scenario``,
  ``worker_timeout``;
- one reply per command read from stdin, one command a line:

  - ``collect``: a cycle collection, its garbage named first (see
    leakbench_paths.py); ``collected`` with ``objects``, the unreachable
    objects it found;
  - ``paths``: the same, then ``paths`` with ``retained`` (one entry per
    distinct path, most exceptions first: ``path``, ``exceptions``,
    ``bytes``, ``path_bytes``, ``types``) and ``unreached`` (``blocks``,
    ``bytes``: payload in the garbage that no retained exception reached),
    the totals of every ``collect`` and ``paths`` since start-up;
  - ``status``: ``status`` with ``payloads`` and ``payload_bytes`` (the
    payload blocks alive), ``gc_enabled``, ``gc_count`` (gc.get_count()) and
    ``gc_collections`` (per generation, since start);
  - ``stop``: the clean stop below;
  - anything else: ``error`` with ``reason``, and the worker runs on;

- ``stopped`` with ``reason`` (``stop``, ``SIGTERM``, ``SIGINT`` or ``eof``)
  and ``stop_seconds`` (worker.stop() and broker.close()), or with
  ``during: "start-up"`` when a signal came before the worker started;
  end of stdin stops the worker too, as leakbench has died;
- ``error`` with ``reason`` (and a few fields naming what was found), when
  start-up fails;
- ``probe`` with ``--probe``: ``dramatiq_version``, ``dramatiq_file``,
  ``dramatiq_commit``, ``python_version``, ``python_executable``,
  ``redis_version`` (the redis-py client's).

Dramatiq's logging goes to stderr, at WARNING and above (everything with
``--verbose``): each failed attempt logs its traceback there, about 2 KiB,
so whoever reads stderr must keep draining it.

Exit codes:

- 0: stopped (``stop``, SIGTERM, SIGINT, end of stdin), also during
  start-up; ``--probe`` succeeded;
- 1: an unexpected error (its traceback on stderr);
- 3: Redis cannot be reached at start-up;
- 4: bad arguments, an unknown scenario, ``redis`` or ``dramatiq`` cannot
  be imported, or dramatiq is not under ``--expect-dir``.

A SIGTERM or SIGINT that comes before this script has installed its
handlers (while the interpreter starts, some 50 ms) ends the process by the
signal's default action.
"""

import argparse
import gc
import json
import logging
import os
import platform
import re
import select
import signal
import subprocess
import sys
import time

# leakbench runs this from its source tree: leave no __pycache__ there.
sys.dont_write_bytecode = True

EXIT_ERROR = 1
EXIT_UNREACHABLE = 3
EXIT_SETUP = 4


class _Stop(BaseException):
    """A stop signal arrived during start-up."""


class _Failed(Exception):
    """Start-up failed: the reason, and the exit code."""

    def __init__(self, reason, code, **fields):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.fields = fields


_stop = {"reason": None, "starting": True}


def _on_signal(signum, _frame):
    # Once running, the wake-up pipe tells the command loop; during start-up
    # only an exception gets the main thread out of whatever it waits on.
    if _stop["reason"] is None:
        _stop["reason"] = signal.Signals(signum).name
        if _stop["starting"]:
            raise _Stop


def emit(event, **fields):
    """Writes one JSON line on stdout; False once stdout is gone."""
    try:
        sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
        sys.stdout.flush()
        return True
    except (OSError, ValueError):  # leakbench closed its end
        sys.stdout = open(os.devnull, "w")
        return False


def _interpreter():
    return os.path.realpath(sys.executable)


def _where():
    return f"python {_interpreter()}, sys.path[0:3] {sys.path[0:3]}"


def _mask(url):
    """The URL with its password hidden."""
    return re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", url)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Failed(f"bad arguments: {message}", EXIT_SETUP)


def parse_args(argv):
    parser = _Parser(description="leakbench's real Dramatiq worker")
    parser.add_argument("--probe", action="store_true",
                        help="print the versions and locations, then exit")
    parser.add_argument("--url", help="redis://host:port[/db] or unix:///path/to/socket")
    parser.add_argument("--namespace", help="the prefix of every Redis key")
    parser.add_argument("--scenario", help="the actor to serve, e.g. Nested")
    parser.add_argument("--threads", type=int, default=1, help="worker threads (K)")
    parser.add_argument("--gc", choices=("off", "python", "every"), default="off",
                        help="off: no cycle collection; python: CPython's own; "
                             "every: only on `collect` commands")
    parser.add_argument("--worker-timeout", type=int, default=1000,
                        help="Dramatiq's worker_timeout, ms")
    parser.add_argument("--expect-dir", help="fail unless dramatiq is imported from under DIR")
    parser.add_argument("--verbose", action="store_true", help="log everything to stderr")
    args = parser.parse_args(argv)
    if not args.probe:
        missing = [f"--{n}" for n in ("url", "namespace", "scenario") if not getattr(args, n)]
        if missing:
            parser.error(f"missing {', '.join(missing)}")
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        if args.worker_timeout < 1:
            parser.error("--worker-timeout must be at least 1 ms")
    return args


def import_packages(expect_dir):
    """Imports redis and dramatiq; checks where dramatiq comes from."""
    for name in ("redis", "dramatiq"):
        try:
            __import__(name)
        except Exception as e:  # an ImportError, or a broken package
            raise _Failed(f"cannot import {name}: {e} ({_where()})", EXIT_SETUP,
                          python_executable=_interpreter(), sys_path=sys.path[0:3]) from None
    import dramatiq

    found = os.path.realpath(dramatiq.__file__)
    if expect_dir:
        expected = os.path.realpath(expect_dir)
        if not found.startswith(expected.rstrip(os.sep) + os.sep):
            raise _Failed(f"dramatiq imported from {found}, expected under {expected} ({_where()})",
                          EXIT_SETUP, dramatiq_file=found, expected_dir=expected)
    return found


def dramatiq_commit(package_file):
    """The commit of the dramatiq source in use, or None.

    The git commit of the package's parent folder if that folder is a
    checkout of its own, else a hex suffix of 7 to 40 digits at the end of
    its name (``dramatiq-b0e96f9``).
    """
    parent = os.path.dirname(os.path.dirname(package_file))
    try:
        top = subprocess.run(["git", "-C", parent, "rev-parse", "--show-toplevel", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True)
        lines = top.stdout.split()
        if len(lines) == 2 and os.path.realpath(lines[0]) == os.path.realpath(parent):
            return lines[1]
    except (OSError, subprocess.SubprocessError):
        pass  # no git, or not a checkout
    match = re.search(r"(?:^|[-_.])([0-9a-fA-F]{7,40})$", os.path.basename(parent))
    return match.group(1).lower() if match else None


def describe(package_file):
    """The fields the probe and ready lines share."""
    import dramatiq
    import redis

    return {
        "dramatiq_version": dramatiq.__version__,
        "dramatiq_file": package_file,
        "dramatiq_commit": dramatiq_commit(package_file),
        "python_version": platform.python_version(),
        "python_executable": _interpreter(),
        "redis_version": redis.__version__,
    }


def prepare_redis(url, broker):
    """Fails with exit code 3 unless the server at ``url`` answers.

    Also loads Dramatiq's Lua scripts: on a server that lacks them, each
    script's first call fails with NoScriptError, and redis-py's error
    handling leaves that exception in a reference cycle, garbage the first
    attempt would otherwise be blamed for.
    """
    import redis

    timeouts = {"socket_timeout": 2}
    if not url.lower().startswith("unix:"):
        timeouts["socket_connect_timeout"] = 2  # a Unix socket connects at once or fails
    try:
        client = redis.Redis.from_url(url, **timeouts)
    except ValueError as e:
        raise _Failed(f"bad arguments: --url {_mask(url)}: {e}", EXIT_SETUP) from None
    try:
        client.ping()
        for script in broker.scripts.values():
            client.script_load(script.script)
    except redis.RedisError as e:
        raise _Failed(f"cannot reach Redis at {_mask(url)}: {e}", EXIT_UNREACHABLE) from None
    finally:
        client.connection_pool.disconnect()


def make_broker(url, namespace, scenario):
    """The RedisBroker with the actors declared; checks the scenario is one."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware.asyncio import AsyncIO

    try:
        broker = RedisBroker(url=url, namespace=namespace)
    except ValueError as e:
        raise _Failed(f"bad arguments: --url {_mask(url)}: {e}", EXIT_SETUP) from None
    broker.add_middleware(AsyncIO())
    dramatiq.set_broker(broker)  # the actors declare themselves on it
    import leakbench_actors  # noqa: F401

    if scenario not in broker.actors:
        raise _Failed(f"unknown scenario '{scenario}': known are {', '.join(broker.actors)}",
                      EXIT_SETUP, known=list(broker.actors))
    return broker


def _read_commands(wakeup):
    """Yields the commands read from stdin, then None once told to stop."""
    stdin = sys.stdin.fileno()
    pending = b""
    while True:
        if _stop["reason"] is not None:
            yield None
            return
        ready, _, _ = select.select([stdin, wakeup], [], [])
        if wakeup in ready:
            try:
                signums = os.read(wakeup, 64)
            except BlockingIOError:
                signums = b""
            # The byte is the signal's number: the handler itself may not
            # have run yet if the signal hit another thread.
            if signums and _stop["reason"] is None:
                _stop["reason"] = signal.Signals(signums[0]).name
            continue
        chunk = os.read(stdin, 65536)
        if not chunk:
            if pending.strip():
                yield pending.decode(errors="replace").strip()
            _stop["reason"] = _stop["reason"] or "eof"
            continue
        pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            command = line.decode(errors="replace").strip()
            if command:
                yield command


def serve(retention, wakeup):
    """Answers commands until told to stop; returns why it stops."""
    from leakbench_payload import alive

    for command in _read_commands(wakeup):
        if command is None:
            break
        if command == "stop":
            _stop["reason"] = "stop"
            break
        if command == "collect":
            emit("collected", objects=retention.collect())
        elif command == "paths":
            retention.collect()
            emit("paths", **retention.report())
        elif command == "status":
            payloads, payload_bytes = alive()
            emit("status", payloads=payloads, payload_bytes=payload_bytes,
                 gc_enabled=gc.isenabled(), gc_count=list(gc.get_count()),
                 gc_collections=[s["collections"] for s in gc.get_stats()])
        else:
            emit("error", reason=f"unknown command '{command}': "
                                 "expected collect, paths, status or stop")
    return _stop["reason"]


def run(args):
    package_file = import_packages(args.expect_dir)
    import dramatiq
    from leakbench_paths import Retention

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    broker = make_broker(args.url, args.namespace, args.scenario)
    prepare_redis(args.url, broker)

    info = describe(package_file)
    del info["redis_version"]
    if args.gc != "python":
        gc.collect()  # start-up's own garbage is not the first attempt's
        gc.disable()

    # From here a stop signal no longer raises: the worker, once started,
    # is stopped the clean way, and the wake-up pipe tells the command loop.
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_r, False)
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w, warn_on_full_buffer=False)
    _stop["starting"] = False
    worker = dramatiq.Worker(broker, worker_threads=args.threads,
                             worker_timeout=args.worker_timeout)
    worker.start()
    if _stop["reason"] is None:
        emit("ready", pid=os.getpid(), **info, gc=args.gc, threads=args.threads,
             scenario=args.scenario, worker_timeout=args.worker_timeout)
        reason = serve(Retention(), wakeup_r)
    else:
        reason = _stop["reason"]  # stopped while the worker started

    started = time.monotonic()
    worker.stop()
    broker.close()
    broker.client.connection_pool.disconnect()
    emit("stopped", reason=reason, stop_seconds=round(time.monotonic() - started, 3))
    return 0


def main(argv):
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _on_signal)
    try:
        args = parse_args(argv)
        if args.probe:
            emit("probe", **describe(import_packages(args.expect_dir)))
            return 0
        return run(args)
    except _Failed as e:
        emit("error", reason=e.reason, **e.fields)
        return e.code
    except _Stop:
        # No worker thread runs yet: nothing to stop.
        emit("stopped", reason=_stop["reason"], during="start-up")
        return 0
    except Exception as e:
        logging.getLogger("leakbench.worker").exception("unexpected error")
        emit("error", reason=f"unexpected error: {type(e).__name__}: {e}")
        # The event loop's thread is not a daemon: it would keep the
        # interpreter from exiting.
        sys.stdout.flush()
        os._exit(EXIT_ERROR)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
