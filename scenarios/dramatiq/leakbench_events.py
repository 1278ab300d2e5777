"""How the worker learns each attempt's outcome, from Dramatiq's public hooks.

:class:`Attempts` is a Dramatiq middleware on the broker.  Dramatiq calls
its hooks in the worker threads: ``after_process_message`` (the actor
returned or raised) or ``after_skip_message`` (a middleware skipped the
message: the actor never ran), then ``after_ack`` or ``after_nack`` (the
broker settled it).  All fire before the worker calls
``message.clear_exception()``, which is why leakbench still waits for every
thread to sleep before it samples.  What is checked of the attempt's work
is checked at ``after_process_message``, while the exception and the
result are still alive, and put in the ``attempt`` event sent once the
message is settled.  A message Dramatiq cannot decode fires no hook: only
leakbench's timeout sees it.
"""

from __future__ import annotations

import gc
import threading
from typing import Any, Callable, Optional

import dramatiq
from dramatiq.common import q_name

import leakbench_payload
from leakbench_channel import Channel


def _actor_frames(exception: BaseException, filename: str) -> list[Any]:
    """The frames of ``filename`` on the exception's traceback, outermost first."""
    frames = []
    tb = exception.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _received(frame: Any, token: Any) -> bool:
    """True if ``frame``'s keyword arguments hold ``token`` itself (not an equal copy).

    gc.get_referents reads a finished frame's locals without making the
    f_locals snapshot that reading ``frame.f_locals`` would leave on it.
    """
    return any(isinstance(r, dict) and r.get(ATTEMPT_KEY) is token
               for r in gc.get_referents(frame))


#: The keyword argument that carries each message's own token to its actor.
ATTEMPT_KEY = "attempt"


class Attempts(dramatiq.Middleware):
    """Reports each attempt on ``queue``: its outcome, what it held, and when it is settled.

    ``actors_file``: the file of the scenarios' actors; an exception is the
    actor's (``raised_by_actor``) if one of its frames is on the traceback,
    and this message's (``own_message``) if such a frame received the
    message's own ``attempt`` token, the very object, as a keyword argument.  ``on_settled``
    takes the messages leakbench did not send (the warm-up), by message id.
    """

    def __init__(self, channel: Channel, queue: str, actors_file: str) -> None:
        self._channel = channel
        self._queue = queue
        self._actors_file = actors_file
        self._lock = threading.Lock()
        self._outcomes: dict[str, dict[str, Any]] = {}
        self._elsewhere = 0  # messages the app's code sent to other queues, not yet reported
        self._internal: dict[str, Callable[[dict[str, Any]], None]] = {}

    def watch(self, message_id: str, on_settled: Callable[[dict[str, Any]], None]) -> None:
        """Hands the outcome of ``message_id`` to ``on_settled`` instead of leakbench."""
        with self._lock:
            self._internal[message_id] = on_settled

    def before_enqueue(self, broker: dramatiq.Broker, message: Any, delay: Any) -> None:
        # What an actor's own code sends (.send(), pipelines, callbacks) goes to the app's
        # queues: counted, reported with the next settled attempt.
        if q_name(message.queue_name) != self._queue:
            with self._lock:
                self._elsewhere += 1

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *,
                              result: Any = None,
                              exception: Optional[BaseException] = None) -> None:
        if message.queue_name != self._queue:
            return
        outcome: dict[str, Any] = {
            "id": message.message_id,
            "actor": message.actor_name,
            "outcome": "succeeded" if exception is None else "failed",
        }
        try:  # a hook that raises would leave garbage of its own, and lose the outcome
            outcome["held_blocks"], outcome["held_bytes"] = leakbench_payload.alive_in_round()
            if exception is not None:
                outcome["exception"] = type(exception).__qualname__
                frames = _actor_frames(exception, self._actors_file)
                outcome["raised_by_actor"] = bool(frames)
                token = message.kwargs.get(ATTEMPT_KEY)
                outcome["own_message"] = token is not None and any(
                    _received(f, token) for f in frames)
            else:
                outcome["result"] = type(result).__qualname__
        except Exception as e:  # noqa: BLE001 (reported, not raised)
            outcome["check_error"] = f"{type(e).__name__}: {e}"
        with self._lock:
            self._outcomes[message.message_id] = outcome

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if message.queue_name != self._queue:
            return
        with self._lock:
            self._outcomes[message.message_id] = {
                "id": message.message_id, "actor": message.actor_name, "outcome": "skipped"}

    def after_ack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._settled(message, "ack")

    def after_nack(self, broker: dramatiq.Broker, message: Any) -> None:
        self._settled(message, "nack")

    def _settled(self, message: Any, how: str) -> None:
        if message.queue_name != self._queue:
            return
        with self._lock:
            outcome = self._outcomes.pop(message.message_id, None)
            internal = self._internal.pop(message.message_id, None)
            elsewhere, self._elsewhere = self._elsewhere, 0
        if outcome is None:  # settled without being processed or skipped
            outcome = {"id": message.message_id, "actor": message.actor_name,
                       "outcome": "unprocessed"}
        outcome["settled"] = how
        outcome["enqueued_elsewhere"] = elsewhere
        if internal is not None:
            internal(outcome)
        else:
            self._channel.event("attempt", **outcome)
