"""Fixtures for the fake-gateway and probe tests: worlds, a running fake, ib_async clients, a log guard.

Import the fixtures you need into a test module: `from tests.unit.tws_fixtures import ...` (pytest finds
fixtures by name in the module namespace).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from harness.fakes.tws import FakeGateway, World, always_open, example_world_path, load_world
from harness.fakes.tws.world import NEW_YORK

WAIT = 3.0  # every wait in these tests is bounded by this many seconds
# A Wednesday 10:00 New York time: inside the regular session under the default Mon-Fri 09:30-16:00 rule.
SESSION_OPEN_AT = datetime(2025, 1, 8, 10, 0, tzinfo=NEW_YORK)
SESSION_CLOSED_AT = datetime(2025, 1, 8, 8, 0, tzinfo=NEW_YORK)  # pre-market: outside regular hours


def paper_world(**changes: object) -> World:
    world = load_world(example_world_path("paper"))
    world.session_open = always_open
    for key, value in changes.items():
        setattr(world, key, value)
    return world


def wait_for(condition: Callable[[], object], timeout: float = WAIT, what: str = "condition") -> None:
    """Poll without blocking a running ib_async loop: ib.sleep lets the client's loop deliver messages."""
    from ib_async import util

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        # ib_async raises from a blocking call when the gateway drops the socket; keep polling.
        with contextlib.suppress(ConnectionError):
            util.sleep(0.01)


class IbLogGuard(logging.Handler):
    """WARNING+ records from ib_async's decoder/wrapper/ib loggers; codes a test provokes are allowed."""

    WATCHED = ("ib_async.Decoder", "ib_async.wrapper", "ib_async.ib")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.allowed_codes: set[int] = set()
        self.allowed_patterns: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name in self.WATCHED:
            self.records.append(record)

    def allow(self, *codes: int, patterns: tuple[str, ...] = ()) -> None:
        self.allowed_codes.update(codes)
        self.allowed_patterns.extend(patterns)

    def offending(self) -> list[str]:
        bad = []
        for record in self.records:
            message = record.getMessage()
            code = re.search(r"(?:Error|Warning) (\d+), reqId", message)
            if code and int(code.group(1)) in self.allowed_codes:
                continue
            if "Canceled order" in message and self.allowed_codes & {201, 202, 10147}:
                continue
            if "validation warning" in message and 321 in self.allowed_codes:
                continue
            if any(p in message for p in self.allowed_patterns):
                continue
            bad.append(f"{record.name} {record.levelname}: {message[:300]}")
        return bad


@pytest.fixture
def ib_log_guard() -> Iterator[IbLogGuard]:
    """Fails the test if ib_async logs a decoder error or an unprovoked warning about the fake's messages."""
    guard = IbLogGuard()
    logger = logging.getLogger("ib_async")
    old_level = logger.level
    logger.addHandler(guard)
    if logger.getEffectiveLevel() > logging.WARNING:
        logger.setLevel(logging.WARNING)
    yield guard
    logger.removeHandler(guard)
    logger.setLevel(old_level)
    bad = guard.offending()
    assert not bad, "ib_async complained about the fake gateway:\n" + "\n".join(bad)


@pytest.fixture
def gateway(ib_log_guard: IbLogGuard) -> Iterator[FakeGateway]:
    """A running paper fake (session always open) per test; check() at teardown."""
    with FakeGateway(paper_world()) as fake:
        yield fake
        fake.check()


@pytest.fixture
def connect(gateway: FakeGateway) -> Iterator[Callable[..., object]]:
    """`connect(client_id=1, readonly=False, fake=gateway, timeout=2)` -> a connected ib_async IB."""
    from ib_async import IB

    clients: list[IB] = []

    def make(
        client_id: int = 1,
        readonly: bool = False,
        fake: FakeGateway | None = None,
        timeout: float = 2.0,
        **kwargs: object,
    ) -> IB:
        target = fake or gateway
        ib = IB()
        clients.append(ib)
        ib.connect(target.host, target.port, clientId=client_id, readonly=readonly, timeout=timeout, **kwargs)
        return ib

    yield make
    for ib in clients:
        ib.disconnect()
