"""The payload every scenario allocates: a block of resident bytes.

A subclass of ``bytearray`` so that the retention walk can tell a payload
block from any other object, and so that the worker can count the blocks
still alive.  ``bytearray(n)`` zero-fills its buffer, which touches every
page: the bytes are resident, and RSS sees them (``bytes(n)`` comes from
``calloc`` and would stay unmapped until written).
"""

import itertools
import threading
import weakref

# Every payload block still alive, whoever holds it, under a serial number
# (a bytearray is unhashable, so a WeakSet cannot hold it).  Blocks are made
# on the event loop's thread and counted on the main one: the lock keeps an
# insertion from changing the mapping while it is iterated.
_alive = weakref.WeakValueDictionary()
_serials = itertools.count()
_alive_lock = threading.Lock()


class Payload(bytearray):
    """``size`` zero bytes, resident."""

    def __init__(self, size):
        super().__init__(size)
        with _alive_lock:
            _alive[next(_serials)] = self


def alive():
    """How many payload blocks are alive, and their bytes: ``(count, bytes)``."""
    with _alive_lock:
        sizes = [len(block) for block in _alive.values()]
    return len(sizes), sum(sizes)
