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
- ``threads``: ``threads``, the Python threads' names by their system
  thread id (the ``ready`` event has them too, as ``thread_names``);
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



class _Stop(BaseException):
    """A stop signal arrived during start-up."""


_stop = {"reason": None, "starting": True}


ACTOR_PREFIX = "leakbench_"  # the scenarios' actors beside an app's


def _on_signal(signum, _frame):
    # Once running, the wake-up pipe tells the command loop; during start-up
    # only an exception gets the main thread out of whatever it waits on.
    if _stop["reason"] is None:
        _stop["reason"] = signal.Signals(signum).name
        if _stop["starting"]:
            raise _Stop


from leakbench_channel import Channel  # noqa: E402 (after dont_write_bytecode)
from leakbench_setup import (  # noqa: E402
    EXIT_ERROR, EXIT_SETUP, Failed, broker_kind, broker_url, describe, ensure_asyncio,
    import_packages, load_app, own_broker, probe, remove_queue)

_channel = Channel()


def emit(event, **fields):
    """Writes one event line on stdout; False once stdout is gone."""
    return _channel.event(event, **fields)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Failed(f"bad arguments: {message}", EXIT_SETUP)


def parse_args(argv):
    parser = _Parser(description="leakbench's real Dramatiq worker")
    parser.add_argument("--probe", action="store_true",
                        help="print the versions and locations (and the app's), then exit")
    parser.add_argument("--flush", action="store_true",
                        help="empty and remove --queue (a killed worker's), then exit")
    parser.add_argument("--url", help="leakbench's own broker: redis://host:port[/db] or "
                                      "unix:///path/to/socket (not with --app)")
    parser.add_argument("--app", help="the team's app, as `dramatiq SPEC` takes it: "
                                      "module[:broker_or_callable][,extra_module...]")
    parser.add_argument("--expect-app-under", default="",
                        help="fail unless the app's module is under one of these "
                             "colon-separated folders")
    parser.add_argument("--namespace", default="leakbench-dramatiq",
                        help="the own RedisBroker's namespace (default leakbench-dramatiq)")
    parser.add_argument("--queue", help="the queue of leakbench's own to send to and consume")
    parser.add_argument("--scenario", help="the scenario to serve, e.g. Nested")
    parser.add_argument("--kwargs", help="the knobs every scenario message carries, a JSON object")
    parser.add_argument("--message-actor", help="the app's actor to send to instead of a scenario")
    parser.add_argument("--message-args", default='{"args": [], "kwargs": {}}',
                        help='its arguments: {"args": [...], "kwargs": {...}}')
    parser.add_argument("--threads", type=int, default=1, help="worker threads (K)")
    parser.add_argument("--gc", choices=("off", "python", "every"), default="off",
                        help="off: no cycle collection; python: CPython's own; "
                             "every: only on `collect` commands")
    parser.add_argument("--worker-timeout", type=int, default=1000,
                        help="Dramatiq's worker_timeout, ms")
    parser.add_argument("--expect-dir", help="fail unless dramatiq is imported from under DIR")
    parser.add_argument("--connect-timeout", type=float, default=10.0,
                        help="seconds the broker has to answer at start-up (default 10)")
    parser.add_argument("--verbose", action="store_true", help="log everything to stderr")
    args = parser.parse_args(argv)
    args.expect_app_under = [p for p in args.expect_app_under.split(":") if p]
    if args.url and args.app:
        parser.error("--url and --app exclude each other: the app's broker is the app's")
    if args.probe:
        return args
    if not args.url and not args.app:
        parser.error("missing --url or --app")
    needed = ["queue"]
    if not args.flush:
        needed += ["message_actor"] if args.message_actor else ["scenario", "kwargs"]
    missing = [f"--{n.replace('_', '-')}" for n in needed if not getattr(args, n)]
    if missing:
        parser.error(f"missing {', '.join(missing)}")
    if not _QUEUE_NAME.fullmatch(args.queue):
        parser.error(f"--queue {args.queue!r} is not a queue name")
    if args.flush:
        return args
    for name in ("kwargs", "message_args"):
        value = getattr(args, name)
        if value is None:
            continue
        try:
            setattr(args, name, json.loads(value))
        except ValueError as e:
            parser.error(f"--{name.replace('_', '-')} is not JSON: {e}")
        if not isinstance(getattr(args, name), dict):
            parser.error(f"--{name.replace('_', '-')} must be a JSON object")
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.worker_timeout < 1:
        parser.error("--worker-timeout must be at least 1 ms")
    return args


def open_broker(args):
    """The broker, the app's file (or None), and whether AsyncIO was added."""
    import dramatiq

    if args.app:
        broker, app_file = load_app(args.app, args.expect_app_under)
    else:
        broker, app_file = own_broker(args.url, args.namespace), None
    added = ensure_asyncio(broker)
    dramatiq.set_broker(broker)
    probe(broker, args.connect_timeout)
    return broker, app_file, added and bool(args.app)


def app_actors(broker):
    """The actors the app declared (leakbench's own left out)."""
    return sorted(a for a in broker.get_declared_actors()
                  if not a.startswith(ACTOR_PREFIX) and a != WARMUP_ACTOR)


def declare_actors(broker, args):
    """Declares the scenarios' actors and the warm-up's on ``args.queue``; the one to send to.

    Without an app the scenarios keep their names; with one they are
    ``leakbench_<name>``, which cannot collide with the app's.
    """
    import dramatiq

    import leakbench_actors

    prefix = ACTOR_PREFIX if args.app else ""
    known_apps = app_actors(broker)
    scenarios = leakbench_actors.declare(prefix, args.queue)

    def nothing():
        """The warm-up's actor: its message takes the path every attempt takes, once."""

    dramatiq.actor(nothing, actor_name=WARMUP_ACTOR, queue_name=args.queue,
                   **leakbench_actors.no_retries())
    if args.message_actor:
        if args.message_actor not in known_apps:
            raise Failed(f"unknown actor '{args.message_actor}': the app declares "
                         f"{', '.join(known_apps) or 'none'}", EXIT_SETUP, known=known_apps)
        return broker.get_actor(args.message_actor)
    if args.scenario not in scenarios:
        known = leakbench_actors.names()
        raise Failed(f"unknown scenario '{args.scenario}': known are {', '.join(known)}",
                     EXIT_SETUP, known=known)
    return scenarios[args.scenario]


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
    """Sends the benchmark's messages to the queue, as any producer would."""

    def __init__(self, broker, actor, queue, args, kwargs, tokens):
        self._broker = broker
        self._actor = actor
        self._queue = queue
        self._args = tuple(args)
        self._kwargs = kwargs
        self._tokens = tokens
        self._sent = 0

    def send(self, count):
        """Starts a round and sends ``count`` messages; their ids.

        A scenario's message carries a token of its own in its kwargs
        (``attempt``, which the actors take in ``**_knobs``): the Attempts
        middleware checks that the exception it is handed came from an actor
        frame that received this very message.  An app's message is sent
        with its arguments as given.
        """
        import leakbench_payload
        from leakbench_events import ATTEMPT_KEY

        leakbench_payload.start_round()
        ids = []
        for _ in range(count):
            self._sent += 1
            kwargs = self._kwargs
            if self._tokens:
                kwargs = {**kwargs, ATTEMPT_KEY: f"{self._queue}-{self._sent}"}
            message = self._actor.message_with_options(args=self._args, kwargs=kwargs,
                                                       max_retries=0)
            self._broker.enqueue(message.copy(queue_name=self._queue))
            ids.append(message.message_id)
        return ids


def thread_names():
    """The Python threads by their system thread id (what /proc/PID/task/* lists)."""
    return {str(t.native_id): t.name for t in threading.enumerate() if t.native_id is not None}


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
        elif words == ["threads"]:
            _channel.reply("threads", threads=thread_names())
        elif len(words) == 2 and words[0] == "send" and words[1].isdigit() and int(words[1]) > 0:
            _channel.reply("send", ids=sender.send(int(words[1])))
        else:
            _channel.reply("error", command=words[0] if words else "",
                           reason=f"unknown command '{command}': "
                                  "expected send N, collect, paths, threads or stop")
    return _stop["reason"]


def app_fields(args, broker, app_file, asyncio_added):
    """What the probe and ready lines say of the broker and the app."""
    fields = {"broker_class": f"{type(broker).__module__}.{type(broker).__qualname__}",
              "broker_url": broker_url(broker), "broker_kind": broker_kind(broker)}
    if args.app:
        fields.update(app=args.app, app_file=app_file, asyncio_added=asyncio_added,
                      actors=app_actors(broker))
    return fields


def run(args):
    package_file = import_packages(args.expect_dir)
    import dramatiq
    from leakbench_events import Attempts
    from leakbench_paths import Retention

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    broker, app_file, asyncio_added = open_broker(args)
    actor = declare_actors(broker, args)
    import leakbench_actors

    # The file's name as its code objects carry it: an exception is the actor's own if one of
    # its frames is on the traceback.
    attempts = Attempts(_channel, args.queue, leakbench_actors.__file__)
    broker.add_middleware(attempts)
    broker.declare_queue(args.queue)

    info = describe(package_file)
    del info["redis_version"]
    info.update(app_fields(args, broker, app_file, asyncio_added))
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
    try:
        if warm_up(broker, attempts, args.queue):
            if args.gc != "python":
                gc.collect()  # the warm-up's garbage, NoScriptError's cycle among it
            emit("ready", pid=os.getpid(), **info, gc=args.gc, threads=args.threads,
                 thread_names=thread_names(),
                 scenario=args.scenario, message_actor=args.message_actor, queue=args.queue,
                 worker_timeout=args.worker_timeout)
            if args.message_actor:
                sender = Sender(broker, actor, args.queue, args.message_args.get("args", []),
                                args.message_args.get("kwargs", {}), tokens=False)
            else:
                sender = Sender(broker, actor, args.queue, [], args.kwargs, tokens=True)
            reason = serve(Retention(), sender, wakeup_r)
        else:
            reason = _stop["reason"]  # stopped while the worker started
    finally:
        started = time.monotonic()
        worker.stop()
        remove_queue(broker, args.queue)
        broker.close()
    emit("stopped", reason=reason, stop_seconds=round(time.monotonic() - started, 3))
    return 0


def flush(args):
    """Empties and removes a queue a killed worker left, through the broker's API."""
    import_packages(args.expect_dir)
    broker, _, _ = open_broker(args)
    broker.declare_queue(args.queue)
    remove_queue(broker, args.queue)
    broker.close()
    emit("flushed", queue=args.queue)
    return 0


def probe_app(args):
    """The probe line: versions and locations, and with --app what the app is."""
    fields = describe(import_packages(args.expect_dir))
    if args.app:
        broker, app_file, asyncio_added = open_broker(args)
        fields.update(app_fields(args, broker, app_file, asyncio_added))
        broker.close()
    return fields


def main(argv):
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _on_signal)
    try:
        args = parse_args(argv)
        if args.probe:
            emit("probe", **probe_app(args))
            return 0
        return flush(args) if args.flush else run(args)
    except Failed as e:
        emit("error", reason=" ".join(e.reason.split()), code=e.code, **e.fields)
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
