"""An extra module that starts a thread that never sleeps, as a busy poller or profiler would."""

from __future__ import annotations

import threading


def _poll() -> None:
    while True:
        sum(range(1000))  # busy: never blocks


threading.Thread(target=_poll, name="catalog-poller", daemon=True).start()
