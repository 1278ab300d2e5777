"""Start-up of leakbench's worker: the packages, the broker, and a team's own app.

Without ``--app`` the worker builds its own ``RedisBroker``.  With it, the
broker is whatever the app builds, loaded as the ``dramatiq`` command loads
it (``dramatiq.cli.import_broker``, the current folder first on
``sys.path``, ``process_boot`` emitted, extra modules imported); middleware
``forks`` are never started.  Only Dramatiq's ``RedisBroker`` and
``RabbitmqBroker`` are supported: their connection is probed here (they
connect lazily), so that an unreachable broker is exit 3 at once.
"""

from __future__ import annotations

import importlib
import os
import platform
import re
import subprocess
import sys
import threading
import traceback
from typing import Any, Optional

EXIT_ERROR = 1
EXIT_UNREACHABLE = 3
EXIT_SETUP = 4

#: The brokers leakbench drives, by module and class.
SUPPORTED_BROKERS = {
    ("dramatiq.brokers.redis", "RedisBroker"): "redis",
    ("dramatiq.brokers.rabbitmq", "RabbitmqBroker"): "rabbitmq",
}


class Failed(Exception):
    """Start-up failed: the reason, and the exit code."""

    def __init__(self, reason: str, code: int, **fields: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.fields = fields


def interpreter() -> str:
    return os.path.realpath(sys.executable)


def where() -> str:
    return f"python {interpreter()}, sys.path[0:3] {sys.path[0:3]}"


def mask(url: str) -> str:
    """The URL with its password hidden."""
    return re.sub(r"(//[^/@]*?:)[^/@]*@", r"\1***@", url)


def under(path: str, folders: list[str]) -> bool:
    """True if ``path`` is inside one of ``folders`` (both resolved)."""
    found = os.path.realpath(path)
    return any(found.startswith(os.path.realpath(f).rstrip(os.sep) + os.sep) for f in folders)


def import_packages(expect_dir: Optional[str]) -> str:
    """Imports redis and dramatiq; checks where dramatiq comes from; its file."""
    for name in ("redis", "dramatiq"):
        try:
            __import__(name)
        except Exception as e:  # an ImportError, or a broken package
            raise Failed(f"cannot import {name}: {e} ({where()})", EXIT_SETUP,
                         python_executable=interpreter(), sys_path=sys.path[0:3]) from None
    import dramatiq

    found = os.path.realpath(dramatiq.__file__)
    if expect_dir:
        if not under(found, [expect_dir]):
            expected = os.path.realpath(expect_dir)
            raise Failed(f"dramatiq imported from {found}, expected under {expected} ({where()})",
                         EXIT_SETUP, dramatiq_file=found, expected_dir=expected)
    return found


def dramatiq_commit(package_file: str) -> Optional[str]:
    """The commit of the dramatiq source in use, or None.

    The git commit of the package's parent folder if that folder is a
    checkout of its own, else a hex suffix of 7 to 40 digits at the end of
    its name (``dramatiq-b0e96f9``).
    """
    parent = os.path.dirname(os.path.dirname(package_file))
    try:
        top = subprocess.run(["git", "-C", parent, "rev-parse", "--show-toplevel", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True)
        lines = top.stdout.split()
        if len(lines) == 2 and os.path.realpath(lines[0]) == os.path.realpath(parent):
            return lines[1]
    except (OSError, subprocess.SubprocessError):
        pass  # no git, or not a checkout
    match = re.search(r"(?:^|[-_.])([0-9a-fA-F]{7,40})$", os.path.basename(parent))
    return match.group(1).lower() if match else None


def describe(package_file: str) -> dict[str, Any]:
    """The fields the probe and ready lines share."""
    import dramatiq
    import redis

    return {
        "dramatiq_version": dramatiq.__version__,
        "dramatiq_file": package_file,
        "dramatiq_commit": dramatiq_commit(package_file),
        "python_version": platform.python_version(),
        "python_executable": interpreter(),
        "redis_version": redis.__version__,
    }


def own_broker(url: str, namespace: str) -> Any:
    """leakbench's own RedisBroker on ``url`` (exit 4 for a URL it refuses)."""
    from dramatiq.brokers.redis import RedisBroker

    try:
        broker = RedisBroker(url=url, namespace=namespace)
    except ValueError as e:
        raise Failed(f"bad arguments: --url {mask(url)}: {e}", EXIT_SETUP) from None
    return broker


def broker_kind(broker: Any) -> str:
    """"redis" or "rabbitmq"; exit 4 naming any other broker class."""
    cls = type(broker)
    for base in cls.__mro__:
        kind = SUPPORTED_BROKERS.get((base.__module__, base.__name__))
        if kind:
            return kind
    raise Failed(f"the app's broker is a {cls.__module__}.{cls.__qualname__}: leakbench drives "
                 "Dramatiq's RedisBroker and RabbitmqBroker only", EXIT_SETUP,
                 broker_class=f"{cls.__module__}.{cls.__qualname__}")


def broker_url(broker: Any) -> str:
    """Where ``broker`` connects, password masked: redis://, unix:// or amqp://."""
    if broker_kind(broker) == "redis":
        kw = broker.client.connection_pool.connection_kwargs
        user = kw.get("username") or ""
        auth = f"{user}:***@" if kw.get("password") else (f"{user}@" if user else "")
        if kw.get("path"):
            return f"unix://{auth}{kw['path']}?db={kw.get('db', 0)}"
        return f"redis://{auth}{kw.get('host', 'localhost')}:{kw.get('port', 6379)}/{kw.get('db', 0)}"
    params = broker.parameters if isinstance(broker.parameters, list) else [broker.parameters]
    urls = []
    for p in params:
        user = getattr(p.credentials, "username", "")
        vhost = "%2F" if p.virtual_host == "/" else p.virtual_host
        urls.append(f"amqp://{user}:***@{p.host}:{p.port}/{vhost}")
    return ";".join(urls)


def probe(broker: Any, timeout: float) -> None:
    """Connects ``broker`` now (it connects lazily): exit 3 with one line if it cannot, or if it
    does not answer within ``timeout`` seconds (a port that accepts and stays silent)."""
    kind = broker_kind(broker)
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            if kind == "redis":
                broker.client.ping()
            else:
                broker.connection  # noqa: B018 (opens it)
        except Exception as e:  # redis-py's and pika's errors alike
            outcome.append(e)

    thread = threading.Thread(target=connect, name="leakbench-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise Failed(f"the broker at {broker_url(broker)} did not answer within {timeout:g} s",
                     EXIT_UNREACHABLE)
    if outcome:
        e = outcome[0]
        reason = one_line(str(e)) or type(e).__name__
        if reason == type(e).__name__ and e.args:
            reason = f"{reason}: {one_line(repr(e.args[0]))}"
        raise Failed(f"cannot reach the broker at {broker_url(broker)}: {reason}",
                     EXIT_UNREACHABLE)


def one_line(text: str) -> str:
    """``text`` on one line."""
    return " ".join(text.split())


def load_app(spec: str, expect_under: list[str]) -> tuple[Any, str]:
    """Imports the app as ``dramatiq SPEC`` does; its broker and the main module's file.

    ``spec``: ``module``, ``module:broker_attribute`` or ``module:callable``,
    then extra modules that declare actors, comma-separated.  Imported from
    the current folder and ``PYTHONPATH``; when ``expect_under`` names
    folders, the main module must come from under one of them.
    """
    from dramatiq.cli import import_broker

    main, *extra = [part.strip() for part in spec.split(",")]
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `dramatiq` does (its --path defaults to .)
    try:
        module, broker = import_broker(main)
        for name in extra:
            importlib.import_module(name)
    except Exception as e:  # the app's own error: say its last line and where from
        last = one_line(traceback.format_exception_only(type(e), e)[-1])
        if isinstance(e, SyntaxError) and e.filename:
            last += f" ({e.filename}, line {e.lineno})"
        raise Failed(f"cannot import the app {spec}: {last} (python {interpreter()}, "
                     f"PYTHONPATH {os.environ.get('PYTHONPATH', '')}, in {os.getcwd()})",
                     EXIT_SETUP) from None
    app_file = os.path.realpath(getattr(module, "__file__", "") or "")
    if expect_under and not under(app_file, expect_under):
        raise Failed(f"the app {main} was imported from {app_file}, not from under its "
                     f"variant's paths {':'.join(expect_under)}", EXIT_SETUP, app_file=app_file)
    broker_kind(broker)
    broker.emit_after("process_boot")
    return broker, app_file


def ensure_asyncio(broker: Any) -> bool:
    """Adds Dramatiq's AsyncIO middleware if the broker lacks it; True if added."""
    from dramatiq.middleware.asyncio import AsyncIO

    if any(isinstance(m, AsyncIO) for m in broker.middleware):
        return False
    broker.add_middleware(AsyncIO())
    return True


def remove_queue(broker: Any, queue: str) -> None:
    """Empties ``queue`` and its delay and dead-letter queues, and on RabbitMQ deletes them."""
    broker.flush(queue)
    if broker_kind(broker) != "rabbitmq":
        return  # RedisBroker.flush removes them: Redis keeps no empty queue
    import pika
    from dramatiq.common import dq_name, xq_name

    for name in (queue, dq_name(queue), xq_name(queue)):
        try:
            broker.channel.queue_delete(name)
        except pika.exceptions.AMQPChannelError:
            del broker.channel  # the broker closed the channel: a fresh one for the next
