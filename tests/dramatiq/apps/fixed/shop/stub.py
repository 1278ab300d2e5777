"""An app whose broker leakbench does not drive: Dramatiq's StubBroker."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

broker = StubBroker()
dramatiq.set_broker(broker)


@dramatiq.actor
def noop() -> None:
    """Never runs here."""
