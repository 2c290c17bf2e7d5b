"""What every connection of one fake gateway shares: the world, the order book, fault knobs, client ids, records.

Lives on the gateway's event loop only (FakeGateway hops there for the test thread). A session reaches it
through the methods `session.GatewaySide` lists, the way ib_async's Decoder only calls its wrapper's
methods; FakeGateway drives the rest. Order events go back to the session holding the order's client id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import encoder
from .decoder import PlaceOrderRequest
from .exchange import Event, Exchange
from .faults import Faults
from .records import ReceivedOrder, Recorder
from .world import World

if TYPE_CHECKING:  # types only: the session module never imports this one, so there is no cycle
    from .session import Session


class Backend:
    """The shared state of one fake gateway; every method runs on the gateway's event loop."""

    def __init__(self, world: World, *, min_version: int, max_version: int) -> None:
        self.min_version, self.max_version = min_version, max_version
        self.records = Recorder()
        world.align_con_ids()
        self._world = world
        self._exchange = Exchange(world)
        self._faults = Faults()
        self._occupied_client_ids: set[int] = set()
        self._sessions: set[Session] = set()
        self._by_client_id: dict[int, Session] = {}
        self._conn_seq = 0

    # -- what a session asks (session.GatewaySide) --------------------------------------------------------
    @property
    def world(self) -> World:
        """The live world: read it, do not keep it (reset replaces it)."""
        return self._world

    @property
    def faults(self) -> Faults:
        return self._faults

    def now(self) -> datetime:
        return self._world.clock.now()

    def next_conn_id(self) -> int:
        self._conn_seq += 1
        return self._conn_seq

    def session_opened(self, session: Session) -> None:
        self._sessions.add(session)

    def claim_client_id(self, session: Session, client_id: int) -> bool:
        """Give `client_id` to `session`; False when another connection (or `occupy_client_id`) holds it."""
        if client_id in self._by_client_id or client_id in self._occupied_client_ids:
            return False
        self._by_client_id[client_id] = session
        return True

    def session_closed(self, session: Session) -> None:
        self._sessions.discard(session)
        if session.client_id is not None and self._by_client_id.get(session.client_id) is session:
            del self._by_client_id[session.client_id]

    def place_order(self, conn_id: int, client_id: int, request: PlaceOrderRequest) -> None:
        """Record the placeOrder as received, hand it to the order book, tell the clients what became of it."""
        self.records.order(
            ReceivedOrder(
                conn_id=conn_id,
                client_id=client_id,
                order_id=request.order_id,
                account=request.account,
                symbol=request.symbol,
                action=request.action,
                quantity=request.quantity,
                order_type=request.order_type,
                limit_price=request.limit_price,
                outside_rth=request.outside_rth,
                tif=request.tif,
                order_ref=request.order_ref,
                at=self.now(),
            )
        )
        self._deliver(self._exchange.place(client_id, request))
        self.records.order_outcome(
            client_id, request.order_id, self._exchange.outcomes.get((client_id, request.order_id))
        )

    def cancel_order(self, client_id: int, order_id: int) -> None:
        self._deliver(self._exchange.cancel(client_id, order_id))

    def cancel_all(self) -> None:
        self._deliver(self._exchange.cancel_all())

    # -- what FakeGateway drives ---------------------------------------------------------------------------
    def reset(self, world: World) -> None:
        """A fresh world and order book; no faults, no occupied client ids, no records. Connections stay."""
        world.align_con_ids()
        self._world = world
        self._exchange = Exchange(world)
        self._faults = Faults()
        self._occupied_client_ids.clear()
        self.records.clear()

    def set_faults(self, **changes: Any) -> Faults:
        self._faults = replace(self._faults, **changes)
        return self._faults

    def clear_faults(self) -> None:
        self._faults = Faults()

    def occupy_client_id(self, client_id: int) -> None:
        self._occupied_client_ids.add(client_id)

    def release_client_id(self, client_id: int) -> None:
        self._occupied_client_ids.discard(client_id)

    @property
    def client_ids(self) -> list[int]:
        return sorted(self._by_client_id)

    @property
    def session_count(self) -> int:
        return len(self._sessions)

    @property
    def has_resting_orders(self) -> bool:
        return self._exchange.has_resting()

    def match_resting(self) -> None:
        """Fill what the (possibly changed) world now lets fill, and tell the owners."""
        self._exchange.world = self._world
        self._deliver(self._exchange.match_resting())

    def set_pnl(
        self, account_id: str, daily_pnl: float | None, unrealized_pnl: float | None, realized_pnl: float | None
    ) -> None:
        account = self._world.account(account_id)
        if account is None:
            raise KeyError(f"no account {account_id!r} in the world")
        account.daily_pnl, account.unrealized_pnl, account.realized_pnl = daily_pnl, unrealized_pnl, realized_pnl
        for session in list(self._sessions):
            session.push_pnl(account_id)

    def push_market_data(self) -> None:
        """Let every connection stream its market data, bars and real-time bars as the clock moves."""
        for session in list(self._sessions):
            session.push_market()

    def broadcast_error(self, code: int, text: str) -> None:
        """An error message (reqId -1) to every connection past startApi."""
        for session in self._ready_sessions():
            session.send(encoder.error(session.server_version, -1, code, text))

    def close_sessions(self) -> None:
        for session in list(self._sessions):
            session.close()

    # -- order events ----------------------------------------------------------------------------------------
    def _ready_sessions(self) -> Iterable[Session]:
        return list(self._by_client_id.values())

    def _deliver(self, events: list[Event]) -> None:
        """Turn order-book events into messages for the session holding each order's client id."""
        for event in events:
            if event.order is not None:
                outcome = self._exchange.outcomes.get((event.client_id, event.order.order_id))
                self.records.order_outcome(event.client_id, event.order.order_id, outcome, perm_id=event.order.perm_id)
            if event.kind == "error":
                outcome = self._exchange.outcomes.get((event.client_id, event.req_id))
                self.records.order_outcome(event.client_id, event.req_id, outcome, error_code=event.code)
            session = self._by_client_id.get(event.client_id)
            if session is not None:
                session.send(_encode_event(session.server_version, event))
            if event.kind == "commission" and event.execution is not None:
                for subscriber in self._ready_sessions():
                    subscriber.push_fill(event.execution.account, event.execution.symbol)


def _encode_event(server_version: int, event: Event) -> list[str]:
    if event.kind == "open_order" and event.order is not None:
        return encoder.open_order(server_version, event.order)
    if event.kind == "order_status" and event.order is not None:
        return encoder.order_status(event.order, event.last_fill_price)
    if event.kind == "execution" and event.execution is not None:
        return encoder.exec_details(server_version, -1, event.execution)
    if event.kind == "commission" and event.execution is not None:
        return encoder.commission_report(event.execution, event.execution.currency)
    return encoder.error(server_version, event.req_id, event.code, event.text)
