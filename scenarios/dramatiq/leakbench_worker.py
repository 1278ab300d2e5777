"""The real Dramatiq worker leakbench drives, one process per benchmark.

Usage::

    python3 -u leakbench_worker.py --url URL --queue Q --scenario NAME
        --kwargs JSON [--namespace NS] [--threads K] [--gc off|python|every]
        [--worker-timeout MS] [--expect-dir DIR] [--verbose]
    python3 -u leakbench_worker.py --flush --url URL --queue Q [--namespace NS]
    python3 -u leakbench_worker.py --probe [--expect-dir DIR]

Runs a ``dramatiq.Worker`` (K worker threads) that consumes queue Q only,
on a ``RedisBroker(url=URL, namespace=NS)`` with Dramatiq's default
middleware, AsyncIO, the scenarios' actors (leakbench_actors.py) and
leakbench's :class:`leakbench_events.Attempts`.  Everything goes through
Dramatiq's public API: each attempt is
``actor.message_with_options(kwargs=..., max_retries=0).copy(queue_name=Q)``
sent with ``broker.enqueue``, from this process, on its main thread; at the
end ``broker.flush(Q)`` empties Q and its delay and dead-letter queues.
No key or script of the broker's is named here.

stdout is one channel of JSON lines (leakbench_events.Channel): replies,
``{"reply": COMMAND, ...}``, and events, ``{"event": NAME, ...}``.

Events:

- ``ready``, once the worker runs and a warm-up message has been through
  the same API (so that the first attempt is not blamed for redis-py's
  NoScriptError garbage and first-use costs): ``pid``,
  ``dramatiq_version``, ``dramatiq_file``, ``dramatiq_commit``,
  ``python_version``, ``python_executable``, ``gc``, ``threads``,
  ``scenario``, ``queue``, ``worker_timeout``;
- ``attempt``, one per message leakbench sent, once Dramatiq settled it:
  ``id``, ``actor``, ``outcome`` (``failed``, ``succeeded``, ``skipped``,
  or ``unprocessed``: settled without either hook), ``settled`` (``ack``
  or ``nack``); for a processed message ``held_blocks`` and ``held_bytes``
  (the payload blocks of this round still alive at
  ``after_process_message``); for a failed one ``exception`` (its type),
  ``raised_by_actor`` (a frame of the actors' file is on its traceback)
  and ``own_message`` (such a frame received this message's own token);
  for a succeeded one ``result`` (its type); ``check_error`` if a check
  itself failed;
- ``stopped`` with ``reason`` (``stop``, ``SIGTERM``, ``SIGINT`` or
  ``eof``) and ``stop_seconds`` (worker.stop(), the flush and
  broker.close()), or with ``during: "start-up"`` when a signal came before
  the worker started; end of stdin stops the worker too, as leakbench has
  died;
- ``error`` with ``reason`` (and a few fields naming what was found), when
  start-up fails;
- ``probe`` with ``--probe``: ``dramatiq_version``, ``dramatiq_file``,
  ``dramatiq_commit``, ``python_version``, ``python_executable``,
  ``redis_version`` (the redis-py client's); ``flushed`` with ``--flush``.

Commands, one a line on stdin, each answered by one reply:

- ``send N``: starts a round (the payload blocks counted from here) and
  sends N messages of the scenario with the ``--kwargs`` knobs; ``ids``,
  their message ids.  Their ``attempt`` events may come before the reply;
- ``collect``: a cycle collection, its garbage named first (see
  leakbench_paths.py); ``objects``, the unreachable objects it found;
- ``paths``: the same, then ``retained`` (one entry per distinct path,
  most exceptions first: ``path``, ``exceptions``, ``bytes``,
  ``path_bytes``, ``types``) and ``unreached`` (``blocks``, ``bytes``:
  payload in the garbage that no retained exception reached), the totals of
  every ``collect`` and ``paths`` since start-up;
- ``stop``: the clean stop below (its reply is the ``stopped`` event);
- anything else: ``{"reply": "error", "command": ..., "reason": ...}``,
  and the worker runs on.

Dramatiq's logging goes to stderr, at WARNING and above (everything with
``--verbose``): each failed attempt logs its traceback there, about 2 KiB,
so whoever reads stderr must keep draining it.

Exit codes:

- 0: stopped (``stop``, SIGTERM, SIGINT, end of stdin), also during
  start-up; ``--probe`` or ``--flush`` succeeded;
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
import threading
import time

# leakbench runs this from its source tree: leave no __pycache__ there.
sys.dont_write_bytecode = True

# As Dramatiq's actors accept queue names.
_QUEUE_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9._-]*")

WARMUP_ACTOR = "leakbench_warm_up"

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


from leakbench_channel import Channel  # noqa: E402 (after dont_write_bytecode)

_channel = Channel()


def emit(event, **fields):
    """Writes one event line on stdout; False once stdout is gone."""
    return _channel.event(event, **fields)


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
    parser.add_argument("--flush", action="store_true",
                        help="empty and remove --queue (a killed worker's), then exit")
    parser.add_argument("--url", help="redis://host:port[/db] or unix:///path/to/socket")
    parser.add_argument("--namespace", default="leakbench-dramatiq",
                        help="the RedisBroker's namespace (default leakbench-dramatiq)")
    parser.add_argument("--queue", help="the queue of leakbench's own to send to and consume")
    parser.add_argument("--scenario", help="the actor to serve, e.g. Nested")
    parser.add_argument("--kwargs", help="the knobs every message carries, a JSON object")
    parser.add_argument("--threads", type=int, default=1, help="worker threads (K)")
    parser.add_argument("--gc", choices=("off", "python", "every"), default="off",
                        help="off: no cycle collection; python: CPython's own; "
                             "every: only on `collect` commands")
    parser.add_argument("--worker-timeout", type=int, default=1000,
                        help="Dramatiq's worker_timeout, ms")
    parser.add_argument("--expect-dir", help="fail unless dramatiq is imported from under DIR")
    parser.add_argument("--verbose", action="store_true", help="log everything to stderr")
    args = parser.parse_args(argv)
    if args.probe:
        return args
    needed = ("url", "queue") if args.flush else ("url", "queue", "scenario", "kwargs")
    missing = [f"--{n}" for n in needed if not getattr(args, n)]
    if missing:
        parser.error(f"missing {', '.join(missing)}")
    if not _QUEUE_NAME.fullmatch(args.queue):
        parser.error(f"--queue {args.queue!r} is not a queue name")
    if args.flush:
        return args
    try:
        args.kwargs = json.loads(args.kwargs)
    except ValueError as e:
        parser.error(f"--kwargs is not JSON: {e}")
    if not isinstance(args.kwargs, dict):
        parser.error("--kwargs must be a JSON object")
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


def prepare_redis(url):
    """Fails with exit code 3 unless the server at ``url`` answers a PING."""
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
    except redis.RedisError as e:
        raise _Failed(f"cannot reach Redis at {_mask(url)}: {e}", EXIT_UNREACHABLE) from None
    finally:
        client.connection_pool.disconnect()


def make_broker(url, namespace):
    """The RedisBroker, with AsyncIO; its actors are declared by the caller."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker
    from dramatiq.middleware.asyncio import AsyncIO

    try:
        broker = RedisBroker(url=url, namespace=namespace)
    except ValueError as e:
        raise _Failed(f"bad arguments: --url {_mask(url)}: {e}", EXIT_SETUP) from None
    broker.add_middleware(AsyncIO())
    dramatiq.set_broker(broker)  # the actors declare themselves on it
    return broker


def declare_actors(broker, scenario):
    """Declares the scenarios' actors and the warm-up's; the scenario's actor."""
    import dramatiq

    import leakbench_actors  # noqa: F401 (declares them)

    actors = broker.get_declared_actors()
    if scenario not in actors:
        known = sorted(a for a in actors if a != WARMUP_ACTOR)
        raise _Failed(f"unknown scenario '{scenario}': known are {', '.join(known)}",
                      EXIT_SETUP, known=known)

    def nothing():
        """The warm-up's actor: its message takes the path every attempt takes, once."""

    dramatiq.actor(nothing, actor_name=WARMUP_ACTOR, max_retries=0)
    return broker.get_actor(scenario)


def warm_up(broker, attempts, queue):
    """Sends one message through the path every attempt takes and waits until it settles.

    The first enqueue and the first fetch each load a Lua script, and
    redis-py's NoScriptError handling leaves a cycle: garbage the caller
    collects before the first attempt instead of blaming it.
    """
    settled = threading.Event()
    message = broker.get_actor(WARMUP_ACTOR).message_with_options(max_retries=0)
    message = message.copy(queue_name=queue)
    attempts.watch(message.message_id, lambda _outcome: settled.set())
    broker.enqueue(message)
    while not settled.wait(0.05):
        if _stop["reason"] is not None:
            return False
    return True


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


class Sender:
    """Sends the scenario's messages to the queue, as any producer would."""

    def __init__(self, broker, actor, queue, kwargs):
        self._broker = broker
        self._actor = actor
        self._queue = queue
        self._kwargs = kwargs
        self._sent = 0

    def send(self, count):
        """Starts a round and sends ``count`` messages; their ids.

        Each message's kwargs carry a token of its own under ``attempt``
        (the actors take it in ``**_knobs``): the Attempts middleware checks
        that the exception it is handed came from an actor frame that
        received this very message.
        """
        import leakbench_payload
        from leakbench_events import ATTEMPT_KEY

        leakbench_payload.start_round()
        ids = []
        for _ in range(count):
            self._sent += 1
            kwargs = {**self._kwargs, ATTEMPT_KEY: f"{self._queue}-{self._sent}"}
            message = self._actor.message_with_options(kwargs=kwargs, max_retries=0)
            self._broker.enqueue(message.copy(queue_name=self._queue))
            ids.append(message.message_id)
        return ids


def serve(retention, sender, wakeup):
    """Answers commands until told to stop; returns why it stops."""
    for command in _read_commands(wakeup):
        if command is None:
            break
        words = command.split()
        if words == ["stop"]:
            _stop["reason"] = "stop"
            break
        if words == ["collect"]:
            _channel.reply("collect", objects=retention.collect())
        elif words == ["paths"]:
            retention.collect()
            _channel.reply("paths", **retention.report())
        elif len(words) == 2 and words[0] == "send" and words[1].isdigit() and int(words[1]) > 0:
            _channel.reply("send", ids=sender.send(int(words[1])))
        else:
            _channel.reply("error", command=words[0] if words else "",
                           reason=f"unknown command '{command}': "
                                  "expected send N, collect, paths or stop")
    return _stop["reason"]


def run(args):
    package_file = import_packages(args.expect_dir)
    import dramatiq
    from leakbench_events import Attempts
    from leakbench_paths import Retention

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    broker = make_broker(args.url, args.namespace)
    actor = declare_actors(broker, args.scenario)
    import leakbench_actors

    # The file's name as its code objects carry it: an exception is the actor's own if one of
    # its frames is on the traceback.
    attempts = Attempts(_channel, args.queue, leakbench_actors.__file__)
    broker.add_middleware(attempts)
    broker.declare_queue(args.queue)
    prepare_redis(args.url)

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
    worker = dramatiq.Worker(broker, queues={args.queue}, worker_threads=args.threads,
                             worker_timeout=args.worker_timeout)
    worker.start()
    if warm_up(broker, attempts, args.queue):
        if args.gc != "python":
            gc.collect()  # the warm-up's garbage, NoScriptError's cycle among it
        emit("ready", pid=os.getpid(), **info, gc=args.gc, threads=args.threads,
             scenario=args.scenario, queue=args.queue, worker_timeout=args.worker_timeout)
        reason = serve(Retention(), Sender(broker, actor, args.queue, args.kwargs), wakeup_r)
    else:
        reason = _stop["reason"]  # stopped while the worker started

    started = time.monotonic()
    worker.stop()
    broker.flush(args.queue)
    broker.close()
    broker.client.connection_pool.disconnect()
    emit("stopped", reason=reason, stop_seconds=round(time.monotonic() - started, 3))
    return 0


def flush(args):
    """Empties and removes a queue a killed worker left, through the broker's API."""
    import_packages(args.expect_dir)
    prepare_redis(args.url)
    broker = make_broker(args.url, args.namespace)
    broker.declare_queue(args.queue)
    broker.flush(args.queue)
    broker.close()
    broker.client.connection_pool.disconnect()
    emit("flushed", queue=args.queue)
    return 0


def main(argv):
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _on_signal)
    try:
        args = parse_args(argv)
        if args.probe:
            emit("probe", **describe(import_packages(args.expect_dir)))
            return 0
        return flush(args) if args.flush else run(args)
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
