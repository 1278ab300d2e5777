"""The app as `dramatiq shop.tasks` loads it: a broker from SHOP_BROKER_URL (redis:// or amqp://),
the app's middleware, sync and async actors, one that succeeds and sends a message of its own.

The two checkouts, keeping/ and fixed/, differ in shop/digest.py alone: its FailureDigest.
"""

from __future__ import annotations

import os
from typing import Any

import dramatiq

from shop.digest import FailureDigest

_url = os.environ.get("SHOP_BROKER_URL", "redis://127.0.0.1:6379/0")
if _url.startswith("amqp"):
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    broker: dramatiq.Broker = RabbitmqBroker(url=_url)
else:
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=_url)
broker.add_middleware(FailureDigest())
dramatiq.set_broker(broker)


class InvoiceError(Exception):
    """A failed rendering; it keeps the half-rendered document."""

    def __init__(self, message: str, document: bytearray) -> None:
        super().__init__(message)
        self.document = document


@dramatiq.actor(queue_name="invoices")
def render_invoice(order_id: int, size: int) -> None:
    document = bytearray(size)  # zero-filled: every page resident
    raise InvoiceError(f"cannot render invoice {order_id}", document)


@dramatiq.actor(queue_name="catalog")
async def fetch_catalog(size: int) -> None:
    page = bytearray(size)
    raise InvoiceError("the catalog service is down", page)


@dramatiq.actor(queue_name="audit")
def audit(event: str) -> None:
    """Where the app's own code sends: leakbench must leave this queue alone."""


@dramatiq.actor(queue_name="default")
def ping(**_: Any) -> str:
    audit.send("pinged")
    return "pong"
