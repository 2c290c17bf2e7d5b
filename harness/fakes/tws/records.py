"""What the fake gateway records for the test thread: requests, orders, unexpected traffic, problems."""

from __future__ import annotations

from dataclasses import dataclass, field
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
