"""The app's middleware: a digest of recent failures, for its health page."""

from __future__ import annotations

from typing import Any

import dramatiq


class FailureDigest(dramatiq.Middleware):
    """Keeps each failed message's exception (and so everything it holds)."""

    def __init__(self) -> None:
        self.recent: list[BaseException] = []

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        if exception is not None:
            self.recent.append(exception)
