"""An app whose broker has no Retries middleware: failed messages are acked, not retried."""

from __future__ import annotations

import os

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Callbacks, TimeLimit

broker = RedisBroker(url=os.environ.get("SHOP_BROKER_URL", "redis://127.0.0.1:6379/0"),
                     middleware=[TimeLimit(), Callbacks()])
dramatiq.set_broker(broker)


@dramatiq.actor
def nothing() -> None:
    """The app's only actor."""
