"""The retention walk on cycles built by hand, without Dramatiq or Redis.

    /usr/bin/python3 -m unittest discover -s scenarios/dramatiq
"""

import asyncio
import gc
import unittest

from leakbench_paths import Retention
from leakbench_payload import Payload, alive


class Failure(Exception):
    def __init__(self, message, **attributes):
        super().__init__(message)
        self.__dict__.update(attributes)


def leak(fail):
    """Calls ``fail`` and keeps what it raised in a cycle, as run_coroutine's
    ``future`` local did: exception -> traceback -> this frame -> local."""
    try:
        fail()
    except BaseException as e:
        kept = e  # noqa: F841 (the cycle itself)


def single():
    data = Payload(1000)
    raise Failure("single failure", payload=data)


def nested():
    raise Failure("outer", payload=Payload(1000)) from Failure("inner", payload=Payload(1000))


def raise_from_none():
    try:
        raise Failure("inner", payload=Payload(1000))
    except Failure:
        raise Failure("outer") from None


def del_before_raise():
    data = Payload(1000)
    size = len(data)
    del data
    raise Failure(f"failed on {size} bytes", size=size)


def metadata_only():
    data = Payload(1000)
    raise Failure("failed", size=len(data))


async def buffer_chunks(total, size):
    buffer = []
    while sum(map(len, buffer)) < total:
        buffer.append(Payload(size))
        yield buffer[-1]
    raise RuntimeError("generator failed")


async def generator():
    async for chunk in buffer_chunks(800, 100):
        pass


class RetentionTest(unittest.TestCase):
    def setUp(self):
        gc.disable()
        gc.collect()

    def tearDown(self):
        gc.enable()

    def paths(self, *fails, alive_after=(0, 0)):
        for fail in fails:
            leak(fail)
        retention = Retention()
        retention.collect()
        self.assertEqual(alive(), alive_after, "the collection frees what it named")
        return [(e["path"], e["exceptions"], e["bytes"], e["path_bytes"])
                for e in retention.report()["retained"]]

    def test_an_attribute(self):
        self.assertEqual(self.paths(single, single), [("exc.payload", 2, 2000, 2000)])

    def test_a_cause_is_not_retained_on_its_own(self):
        self.assertEqual(self.paths(nested),
                         [("exc.payload and exc.__cause__.payload", 1, 2000, 2000)])

    def test_a_context(self):
        self.assertEqual(self.paths(raise_from_none), [("exc.__context__.payload", 1, 1000, 1000)])

    def test_a_frame_local(self):
        self.assertEqual(self.paths(metadata_only),
                         [("exc.__traceback__ -> frame metadata_only() local 'data'", 1, 1000,
                           1000)])

    def test_no_block(self):
        self.assertEqual(self.paths(del_before_raise), [("", 1, 0, 0)])

    def test_a_list_of_chunks_ends_the_path(self):
        # The actor's `chunk` holds the last chunk and is reached first.
        self.assertEqual(self.paths(lambda: asyncio.run(generator())),
                         [("exc.__traceback__ -> frame buffer_chunks() local 'buffer'", 1, 800,
                           700)])

    def test_totals_add_up_over_collections(self):
        retention = Retention()
        for _ in range(3):
            leak(single)
            retention.collect()
        (entry,) = retention.report()["retained"]
        self.assertEqual((entry["exceptions"], entry["bytes"]), (3, 3000))

    def test_a_block_alive_elsewhere_is_not_retained(self):
        data = Payload(1000)

        def fail():
            raise Failure("failed", payload=data)

        self.assertEqual(self.paths(fail, alive_after=(1, 1000)), [("", 1, 0, 0)])


if __name__ == "__main__":
    unittest.main()
