"""Loopback ports for tests: one nobody listens on, and retries when a free port is taken.

A port found free can be taken by another process before our server binds it, and a fixed port
such as 9 may have a listener on some machine. So a refused port is held (bound, never
listening) for as long as the test uses it, and servers started on a free port are retried.
"""

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

HOST = "127.0.0.1"
ATTEMPTS = 3
T = TypeVar("T")


class PortTaken(Exception):
    """The server could not bind the port it was given: try another one."""


def free_port() -> int:
    """A loopback port free right now (another process may still take it: see `on_free_port`)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def on_free_port(start: Callable[[int], T], attempts: int = ATTEMPTS) -> T:
    """`start(port)` on a fresh free port, again on another one each time it raises PortTaken."""
    for attempt in range(1, attempts + 1):
        try:
            return start(free_port())
        except PortTaken:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


@contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound by us, never listening, until exit."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        yield int(sock.getsockname()[1])
