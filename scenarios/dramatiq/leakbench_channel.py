"""stdout, the worker's one channel to leakbench, and its single writer.

Replies to commands and events, one JSON object a line, written by
:class:`Channel` alone (one lock, one write and flush per line), so that no
two lines cross, whichever thread writes.  A reply names its command
(``{"reply": "send", ...}``); an event names itself (``{"event":
"attempt", ...}``); leakbench never takes one for the other.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any


class Channel:
    """The single writer of stdout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = True

    def _write(self, fields: dict[str, Any]) -> bool:
        line = json.dumps(fields) + "\n"
        with self._lock:
            if not self._open:
                return False
            try:
                sys.stdout.write(line)
                sys.stdout.flush()
                return True
            except (OSError, ValueError):  # leakbench closed its end
                self._open = False
                sys.stdout = open(os.devnull, "w")
                return False

    def event(self, name: str, /, **fields: Any) -> bool:
        """Writes an event line; False once stdout is gone."""
        return self._write({"event": name, **fields})

    def reply(self, command: str, /, **fields: Any) -> bool:
        """Writes the reply to ``command``; False once stdout is gone."""
        return self._write({"reply": command, **fields})
