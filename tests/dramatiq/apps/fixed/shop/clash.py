"""An extra module whose actor has a scenario's name, as an app's may."""

from __future__ import annotations

import dramatiq


@dramatiq.actor(actor_name="Single", queue_name="default")
def single_order(size: int) -> None:
    raise ValueError(f"order of {size} bytes refused")
