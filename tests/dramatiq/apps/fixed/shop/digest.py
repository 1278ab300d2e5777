"""The app's middleware: a digest of recent failures, for its health page."""

from __future__ import annotations

from typing import Any

import dramatiq


class FailureDigest(dramatiq.Middleware):
    """Keeps a one-line summary of each failure, never the exception itself."""

    def __init__(self) -> None:
        self.recent: list[str] = []

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if exception is not None:
            self.recent.append(f"{message.actor_name}: {type(exception).__name__}")
            del self.recent[:-100]
