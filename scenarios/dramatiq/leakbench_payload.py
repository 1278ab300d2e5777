"""The payload every scenario allocates: a block of resident bytes.

A subclass of ``bytearray`` so that the retention walk can tell a payload
block from any other object, and so that the worker can count the blocks
still alive.  ``bytearray(n)`` zero-fills its buffer, which touches every
page: the bytes are resident, and RSS sees them (``bytes(n)`` comes from
``calloc`` and would stay unmapped until written).
"""

import threading
import weakref

# Every payload block still alive, whoever holds it, under a serial number
# (a bytearray is unhashable, so a WeakSet cannot hold it).  Blocks are made
# on the event loop's thread and counted on the main one: the lock keeps an
# insertion from changing the mapping while it is iterated.
_alive = weakref.WeakValueDictionary()
_next_serial = 0
_round = []  # weak references to the blocks made since start_round()
_alive_lock = threading.Lock()


class Payload(bytearray):
    """``size`` zero bytes, resident."""

    def __init__(self, size):
        global _next_serial
        super().__init__(size)
        with _alive_lock:
            _alive[_next_serial] = self
            _next_serial += 1
            _round.append(weakref.ref(self))


def alive():
    """How many payload blocks are alive, and their bytes: ``(count, bytes)``."""
    with _alive_lock:
        sizes = [len(block) for block in _alive.values()]
    return len(sizes), sum(sizes)



def start_round():
    """Starts counting the blocks of a new round of attempts (see :func:`alive_in_round`)."""
    with _alive_lock:
        _round.clear()


def alive_in_round():
    """The blocks made since :func:`start_round` that are still alive: ``(count, bytes)``."""
    with _alive_lock:
        sizes = [len(block) for block in (ref() for ref in _round) if block is not None]
    return len(sizes), sum(sizes)
