"""An extra module with an actor whose every call leaves a reference cycle behind, as much app
code does (a node that points back at its parent), holding a buffer until the collector runs."""

from __future__ import annotations

import dramatiq


class Node:
    def __init__(self, size: int) -> None:
        self.buffer = bytearray(size)
        self.me = self  # the cycle


@dramatiq.actor(queue_name="default")
def build_tree(size: int) -> None:
    Node(size)
