"""leakbench's thirteen scenarios as real async Dramatiq actors.

Each actor is the Python that leakbench's C++ model of the scenario stands
for (scenarios/*.cpp, docs/model.md): the same allocations, the same
exceptions in the same roles, and the same function and local names, which
the retention walk prints in its paths.  The actor's name is the scenario's
benchmark name.

Every message carries the same keyword arguments, the knobs:
``payload`` (P, bytes), ``depth`` (D, awaited calls for DeepTraceback) and
``chunk`` (Generator's chunk size, min(P/8, 1 MiB) and at least 1).  Each
actor takes the ones it reads and ignores the rest.

Importing this module declares nothing: :func:`declare` declares the
actors on Dramatiq's global broker, under names and a queue of the
worker's choosing (a team's app may have an actor named ``Single``).  The
functions stay plain ``async def``s, so their frames read as before.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable

import dramatiq

from leakbench_payload import Payload

logger = logging.getLogger("leakbench.actors")

_SCENARIOS: dict[str, Callable[..., Any]] = {}


def scenario(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a function as the scenario ``name``'s actor."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        _SCENARIOS[name] = fn
        return fn

    return register


def declare(prefix: str, queue: str) -> dict[str, dramatiq.Actor]:
    """Declares every scenario's actor as ``prefix + name`` on ``queue``; name -> actor.

    ``max_retries=0``: a failed attempt is dead-lettered at once, as
    leakbench sends every attempt itself.
    """
    return {name: dramatiq.actor(fn, actor_name=prefix + name, queue_name=queue, **no_retries())
            for name, fn in _SCENARIOS.items()}


def no_retries() -> dict[str, Any]:
    """``max_retries=0`` where the broker has Retries (an app's broker may not: an option no
    middleware defines is an error to Dramatiq)."""
    return {"max_retries": 0} if "max_retries" in dramatiq.get_broker().actor_options else {}


def names() -> list[str]:
    """The scenarios, in their order."""
    return list(_SCENARIOS)


class Failure(Exception):
    """An actor's error; keyword arguments become its attributes.

    ``Failure("msg", payload=data)`` keeps ``self.payload = data``.  The data
    stays out of ``args``, so that logging the error prints the message only.
    """

    def __init__(self, message, **attributes):
        super().__init__(message)
        self.__dict__.update(attributes)


class Inner(Failure):
    """The inner error of a chain."""


class Outer(Failure):
    """The error raised over an inner one."""


class Big(Failure):
    """The error holding the data, in the ClearTraceback scenarios."""


class Slim(Failure):
    """The error raised instead of Big, with its message only."""


# Single: the actor allocates P and raises an error that holds it.
@scenario("Single")
async def single(payload, **_knobs):
    data = Payload(payload)
    raise Failure("single failure", payload=data)


# Nested: the cause chain holds both payloads (2P). Outside an except
# block, `from` sets __cause__ only.
@scenario("Nested")
async def nested(payload, **_knobs):
    raise Outer("outer failure", payload=Payload(payload)) from Inner(
        "inner failure", payload=Payload(payload)
    )


# Concurrent: K attempts in flight on K worker threads; each allocates P/2
# and waits on the loop so that the attempts overlap, then raises.
@scenario("Concurrent")
async def concurrent(payload, **_knobs):
    data = Payload(payload // 2)
    await asyncio.sleep(0.02)
    raise Failure("concurrent failure", payload=data)


# LargeResult: returns P successfully; with no result backend, the worker
# drops it (and logs a warning that it did).
@scenario("LargeResult")
async def large_result(payload, **_knobs):
    data = Payload(payload)
    return data


async def descend(level):
    if level == 0:
        raise LookupError("bottom reached")
    return await descend(level - 1)


# DeepTraceback: P held by the actor's frame alone, D awaited calls above
# the small error.
@scenario("DeepTraceback")
async def deep_traceback(payload, depth, **_knobs):
    data = Payload(payload)  # held by this frame alone
    return await descend(depth - 1 if depth > 0 else 0)


async def buffer_chunks(total, size):
    """Buffers ``total`` bytes in chunks of ``size``, then fails itself."""
    buffer = []
    filled = 0
    while filled < total:
        part = Payload(min(size, total - filled))
        buffer.append(part)
        filled += len(part)
        yield part
    raise RuntimeError("generator failed")


# Generator: the buffer is a local of the generator's frame alone; once the
# generator raised, only the traceback's entry for that frame holds it.
@scenario("Generator")
async def generator(payload, chunk, **_knobs):
    gen = buffer_chunks(payload, chunk)
    # The loop variable is the model's `chunk`: it rebinds the knob.
    async for chunk in gen:
        pass


class ScopedResource:
    """An async resource that owns P; leaving it does not release it."""

    def __init__(self, size):
        self.buffer = Payload(size)

    async def __aenter__(self):
        await asyncio.sleep(0)  # entering and leaving really suspend
        return self

    async def __aexit__(self, exc_type, exc, tb):
        await asyncio.sleep(0)
        return False  # the exception propagates


# ContextManager: raises inside `async with` a resource that owns P, bound
# to a local of the actor's frame.
@scenario("ContextManager")
async def context_manager(payload, **_knobs):
    async with ScopedResource(payload) as resource:
        raise ValueError("failed inside the scope")


def digest(data):
    """A short digest of the block's head (FNV-1a), as the model computes."""
    h = 14695981039346656037
    for byte in data[:64]:
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


# MetadataOnly (a workaround on trial): the error keeps metadata only, but
# the traceback keeps the frame and its local `data`.
@scenario("MetadataOnly")
async def metadata_only(payload, **_knobs):
    data = Payload(payload)
    raise Failure(f"failed on {len(data)} bytes", size=len(data), digest=digest(data))


def process(data):
    raise Inner("cannot process")


# LogAndRaise (a workaround on trial): log the inner error, raise a simple
# outer one. Its traceback and its __context__ keep the frames with `data`.
@scenario("LogAndRaise")
async def log_and_raise(payload, **_knobs):
    data = Payload(payload)
    try:
        process(data)
    except Inner:
        logger.exception("failed")
        raise Outer("Processing failed")


# RaiseFromNone (a workaround on trial): `from None` only hides __context__
# from the report; Outer still holds Inner, which holds P.
@scenario("RaiseFromNone")
async def raise_from_none(payload, **_knobs):
    try:
        raise Inner("inner failure", payload=Payload(payload))
    except Inner:
        raise Outer("failed") from None


# DelBeforeRaise (a workaround that works): nothing references P when the
# error is raised.
@scenario("DelBeforeRaise")
async def del_before_raise(payload, **_knobs):
    data = Payload(payload)
    size = len(data)
    del data
    raise Failure(f"failed on {size} bytes", size=size)


async def body(payload):
    data = Payload(payload)
    raise Big("body failed", payload=data)


# ClearTraceback (a workaround on trial): raised inside the except block,
# Slim gets Big as its __context__ anyway, and Big holds P.
@scenario("ClearTraceback")
async def clear_traceback(payload, **_knobs):
    try:
        await body(payload)
    except Big as e:
        e.__traceback__ = None
        msg = str(e)
        del e
        raise Slim(msg) from None


# ClearTracebackOutside (a workaround that works): raised after the except
# block, Slim has no __context__, and Big dies with its block.
@scenario("ClearTracebackOutside")
async def clear_traceback_outside(payload, **_knobs):
    try:
        await body(payload)
    except Big as e:
        e.__traceback__ = None
        msg = str(e)
        del e
    raise Slim(msg)
