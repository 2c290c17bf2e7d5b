"""What the fake gateway records for the test thread: requests, orders, unexpected traffic, problems."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One message a client sent after the version handshake (startApi included)."""

    conn_id: int
    client_id: int | None  # None until the connection's startApi arrived
    msg_id: int
    name: str
    fields: tuple[str, ...]
    at: datetime  # the world's (simulated) clock


@dataclass(frozen=True, slots=True)
class UnexpectedMessage:
    """Traffic the fake does not implement or could not read; answered or ignored, never fatal."""

    conn_id: int
    client_id: int | None
    msg_id: int | None
    fields: tuple[str, ...]
    reason: str
    at: datetime


@dataclass(slots=True)
class ReceivedOrder:
    """A placeOrder as the gateway saw it, and what became of it (`outcome` follows the order's life)."""

    conn_id: int
    client_id: int
    order_id: int
    account: str
    symbol: str
    action: str
    quantity: float
    order_type: str
    limit_price: float | None
    outside_rth: bool
    tif: str
    order_ref: str
    at: datetime
    perm_id: int = 0
    outcome: str = "received"  # PreSubmitted, Submitted, Filled, Cancelled, rejected 201, rejected 321...
    error_codes: list[int] = field(default_factory=list)


class FakeGatewayError(AssertionError):
    """Raised by `FakeGateway.check()` in the test thread for problems recorded in the server thread."""


class Recorder:
    """The records, written on the server's loop and read from the test thread: every access takes the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._orders: list[ReceivedOrder] = []
        self._unexpected: list[UnexpectedMessage] = []
        self._problems: list[str] = []

    # -- writing (server loop) ---------------------------------------------------------------------------
    def request(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)

    def unexpected_message(self, record: UnexpectedMessage) -> None:
        with self._lock:
            self._unexpected.append(record)

    def problem(self, text: str) -> None:
        with self._lock:
            self._problems.append(text)

    def order(self, order: ReceivedOrder) -> None:
        with self._lock:
            self._orders.append(order)

    def order_outcome(
        self, client_id: int, order_id: int, outcome: str | None, *, perm_id: int = 0, error_code: int | None = None
    ) -> None:
        """What became of the newest order (client_id, order_id): its outcome, perm id, an error code."""
        with self._lock:
            for order in reversed(self._orders):
                if order.client_id == client_id and order.order_id == order_id:
                    order.perm_id = perm_id or order.perm_id
                    if error_code is not None:
                        order.error_codes.append(error_code)
                    if outcome:
                        order.outcome = outcome
                    return

    # -- reading (any thread) ----------------------------------------------------------------------------
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def orders(self) -> list[ReceivedOrder]:
        """Copies: the server keeps updating its own ReceivedOrder objects as the orders live on."""
        with self._lock:
            return [replace(o, error_codes=list(o.error_codes)) for o in self._orders]

    def unexpected(self) -> list[UnexpectedMessage]:
        with self._lock:
            return list(self._unexpected)

    def problems(self) -> list[str]:
        with self._lock:
            return list(self._problems)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._orders.clear()
            self._unexpected.clear()
            self._problems.clear()
