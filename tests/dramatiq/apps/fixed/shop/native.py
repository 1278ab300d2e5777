"""An extra module whose busy thread carries a system name of its own (as a C extension's
thread sets it with prctl), unlike its Python name."""

from __future__ import annotations

import ctypes
import threading

_PR_SET_NAME = 15


def _spin() -> None:
    ctypes.CDLL(None).prctl(_PR_SET_NAME, b"busyc", 0, 0, 0)
    while True:
        sum(range(1000))


threading.Thread(target=_spin, name="native-spinner", daemon=True).start()
