"""One client connection of the fake gateway: version handshake -> startApi -> requests and their answers.

Runs on the gateway's event loop only. Shared state (world, order book, records) is the gateway's: a session
reaches it only through `GatewaySide`, as ib_async's Decoder reaches its wrapper only through named methods.
This module imports nothing that imports it.
"""

from __future__ import annotations

import asyncio
import traceback
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from . import encoder, unserved
from .decoder import (
    PlaceOrderRequest,
    as_int,
    field,
    message_id,
    parse_place_order,
    parse_req_executions,
    request_name,
)
from .desk import MarketDesk
from .faults import Faults
from .framing import FrameReader, FramingError, pack, parse_version_range, split_fields
from .records import RecordedRequest, Recorder, UnexpectedMessage
from .timefmt import parse_ib_time as parse_execution_filter_time
from .whatif import WhatIfRefused, what_if
from .world import Execution, Position, World

T = TypeVar("T")

FLUSH_AT_BYTES = 64 * 1024  # a long answer is written in pieces of about this size while it is being built
INVALID_ACCOUNT_CODE = 321  # what a real gateway answers a request naming an account it does not manage
CLIENT_ID_IN_USE_TEXT = "Unable to connect as the client id is already in use. Retry with a unique client id."
FARM_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
# Requests ib_async's connect() fires to sync; `drop_mid_sync` closes the socket on the first of these.
SYNC_REQUESTS = frozenset({61, 5, 99, 6, 76, 7})
ACCOUNT_SUMMARY_TAGS = (
    "AccountType",
    "NetLiquidation",
    "TotalCashValue",
    "SettledCash",
    "AccruedCash",
    "BuyingPower",
    "EquityWithLoanValue",
    "GrossPositionValue",
    "AvailableFunds",
    "ExcessLiquidity",
    "InitMarginReq",
    "MaintMarginReq",
    "Cushion",
)


class GatewaySide(Protocol):
    """All a session may ask of its gateway (backend.Backend implements it); all on the gateway's loop."""

    min_version: int
    max_version: int
    records: Recorder

    @property
    def world(self) -> World:
        """The live world, to read now (never kept: a reset replaces it); changed only by the gateway."""
        ...

    @property
    def faults(self) -> Faults: ...

    def now(self) -> datetime: ...

    def next_conn_id(self) -> int: ...

    def session_opened(self, session: Session) -> None: ...

    def claim_client_id(self, session: Session, client_id: int) -> bool: ...

    def session_closed(self, session: Session) -> None: ...

    def place_order(self, conn_id: int, client_id: int, request: PlaceOrderRequest) -> None: ...

    def cancel_order(self, client_id: int, order_id: int) -> None: ...

    def cancel_all(self) -> None: ...


class Session(asyncio.Protocol):
    """One client connection: version handshake -> startApi -> requests. Lives on the server's loop."""

    def __init__(self, gateway: GatewaySide) -> None:
        self.gateway = gateway
        self.conn_id = gateway.next_conn_id()
        self.client_id: int | None = None
        self.server_version = gateway.max_version
        self.state = "hello"  # hello -> start_api -> ready; "silent" and "closed" are terminal
        self.transport: asyncio.Transport | None = None
        self._reader = FrameReader(expect_magic=True)
        self._inbox: deque[bytes] = deque()  # payloads not yet answered, in arrival order
        self._delayed: asyncio.TimerHandle | None = None  # an answer held back by the answer_delay fault
        self._outbox: list[bytes] = []  # frames not yet written: one transport.write per answer, not per frame
        self._outbox_bytes = 0
        self._flush_scheduled = False
        self._answering = False  # inside _answer_inbox, which writes the outbox itself when it is done
        # Live subscriptions: after a fill the gateway pushes new positions and account values to them.
        self.positions_subscribed = False
        self.account_updates_for: str | None = None
        self.multi_subscriptions: dict[int, str] = {}
        self.summary_subscriptions: dict[int, set[str]] = {}
        self.pnl_subscriptions: dict[int, str] = {}  # reqPnL: reqId -> account
        # Contract details, market data, bars: the desk answers and streams them (desk.py).
        self.desk = MarketDesk(self.send, lambda: gateway.world, gateway.now, lambda: self.server_version)

    # asyncio.Protocol -----------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.gateway.session_opened(self)

    def data_received(self, data: bytes) -> None:
        try:
            payloads = self._reader.feed(data)
        except FramingError as exc:
            self._unexpected(None, [], f"not the TWS protocol: {exc}")
            self.close()
            return
        self._inbox.extend(payloads)
        self._answer_inbox()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = "closed"
        self._outbox.clear()
        self._outbox_bytes = 0
        self._inbox.clear()
        self.gateway.session_closed(self)
        if self._delayed is not None:
            self._delayed.cancel()

    # plumbing --------------------------------------------------------------------------------------------
    def send(self, fields: list[str]) -> None:
        """Queue one frame. What is queued goes out in one write: after the request being answered, or at the
        end of this turn of the loop for pushes. One write is one send() and one wake-up of the client instead
        of one per frame (an account download is some forty frames); the bytes and their order are the same."""
        if self.transport is None or self.transport.is_closing():
            return
        frame = pack(fields)
        self._outbox.append(frame)
        self._outbox_bytes += len(frame)
        if self._outbox_bytes >= FLUSH_AT_BYTES:  # a long answer (100,000 executions) goes out as it is built
            self._flush()
        elif not self._flush_scheduled and not self._answering:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._outbox:
            return
        data = b"".join(self._outbox)
        self._outbox.clear()
        self._outbox_bytes = 0
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        """Write what is queued, then close (the transport sends buffered bytes before it closes)."""
        self._flush()
        self.state = "closed"
        if self.transport is not None:
            self.transport.close()

    def _unexpected(self, msg_id: int | None, fields: list[str], reason: str) -> None:
        self.gateway.records.unexpected_message(
            UnexpectedMessage(self.conn_id, self.client_id, msg_id, tuple(fields), reason, self.gateway.now())
        )

    def _answer_inbox(self) -> None:
        """Answer payloads strictly in arrival order, at once, in the turn of the loop they arrived in; an
        answer_delay holds the rest back until the delayed answer is out (slow answers never reorder)."""
        if self._answering or self._delayed is not None:
            return
        self._answering = True
        try:
            while self._inbox and self.state != "closed":
                answer = self._guarded(self._admit, self._inbox.popleft())
                if answer is None:
                    continue
                delay = self.gateway.faults.answer_delay
                if delay > 0:
                    self._delayed = asyncio.get_running_loop().call_later(delay, self._answer_late, answer)
                    break
                self._guarded(answer)
        finally:
            self._answering = False
        self._flush()

    def _answer_late(self, answer: Callable[[], None]) -> None:
        self._delayed = None
        if self.state != "closed":
            self._guarded(answer)
        self._answer_inbox()

    def _guarded(self, step: Callable[..., T], *args: Any) -> T | None:
        """A fault of the fake is recorded for check(), never raised on the loop; the next payload still runs."""
        try:
            return step(*args)
        except Exception:
            self.gateway.records.problem(f"conn {self.conn_id}: {traceback.format_exc()}")
            return None

    def _admit(self, payload: bytes) -> Callable[[], None] | None:
        """Record one payload and do what must happen at once; return the answer to a ready-state request."""
        gateway = self.gateway
        if self.state == "silent":
            return None
        if self.state == "hello":
            self._hello(payload)
            return None
        fields = split_fields(payload)
        msg_id = message_id(fields)
        if msg_id is None:
            self._unexpected(None, fields, "message id is not a number")
            return None
        gateway.records.request(
            RecordedRequest(self.conn_id, self.client_id, msg_id, request_name(msg_id), tuple(fields), gateway.now())
        )
        if self.state == "start_api":
            if msg_id == 71:
                self._start_api(fields)
            else:
                self._unexpected(msg_id, fields, "request before startApi")
            return None
        if gateway.faults.drop_mid_sync and msg_id in SYNC_REQUESTS:
            self.close()
            return None
        handler = _HANDLERS.get(msg_id)
        if handler is None:
            return lambda: self._unsupported(msg_id, fields)
        return lambda: handler(self, fields)

    def _hello(self, payload: bytes) -> None:
        gateway = self.gateway
        try:
            client_min, client_max, _options = parse_version_range(payload)
        except FramingError as exc:
            self._unexpected(None, [], f"bad version handshake: {exc}")
            self.close()
            return
        if gateway.faults.silent_handshake:
            self.state = "silent"
            return
        version = min(client_max, gateway.max_version)
        if version < gateway.min_version or version < client_min:
            # A real gateway drops clients it cannot talk to; nothing is sent.
            self._unexpected(
                None,
                [],
                f"client versions {client_min}..{client_max} outside "
                f"{gateway.min_version}..{gateway.max_version}: refused",
            )
            self.close()
            return
        self.server_version = version
        self.state = "start_api"
        self.send(encoder.server_hello(version, gateway.now()))

    def _start_api(self, fields: list[str]) -> None:
        gateway = self.gateway
        client_id = as_int(field(fields, 2), -1)
        if not gateway.claim_client_id(self, client_id):
            self.send(encoder.error(self.server_version, -1, 326, CLIENT_ID_IN_USE_TEXT))
            self.close()
            return
        self.client_id = client_id
        self.state = "ready"
        world = gateway.world
        self.send(encoder.managed_accounts(world.account_ids))
        self.send(encoder.next_valid_id(world.next_order_id))
        for code, text in FARM_NOTICES:
            self.send(encoder.error(self.server_version, -1, code, text))

    def _unsupported(self, msg_id: int, fields: list[str]) -> None:
        """A request the fake does not serve ends at once (unserved.py): the empty answer its caller waits for, if
        any, and error 322 on its request id (else -1). It is recorded, so check() fails."""
        self._unexpected(msg_id, fields, f"{request_name(msg_id)} is not served by the fake gateway")
        if msg_id in unserved.EMPTY_ANSWERS:
            self.send(unserved.EMPTY_ANSWERS[msg_id])
        req_id = unserved.unserved_req_id(msg_id, fields)
        self.send(encoder.error(self.server_version, req_id, unserved.UNSERVED_CODE, unserved.unserved_text(msg_id)))

    def push_market(self) -> None:
        """Stream this connection's market data, bars and real-time bars (the gateway's tick calls it)."""
        if self.state == "ready":
            self.desk.push()

    # request handlers ------------------------------------------------------------------------------------
    def req_ids(self, fields: list[str]) -> None:
        self.send(encoder.next_valid_id(self.gateway.world.next_order_id))

    def req_managed_accts(self, fields: list[str]) -> None:
        self.send(encoder.managed_accounts(self.gateway.world.account_ids))

    def req_current_time(self, fields: list[str]) -> None:
        self.send(encoder.current_time(self.gateway.now()))

    def req_positions(self, fields: list[str]) -> None:
        self.positions_subscribed = True
        for position in self.gateway.world.positions:
            self.send(encoder.position(position))
        self.send(encoder.position_end())

    def req_positions_multi(self, fields: list[str]) -> None:
        req_id, account = as_int(field(fields, 2)), field(fields, 3)
        for position in self.gateway.world.positions:
            if account in ("", "All", position.account):
                self.send(encoder.position_multi(req_id, position))
        self.send(encoder.position_multi_end(req_id))

    def req_open_orders(self, fields: list[str]) -> None:
        """reqOpenOrders: this client's orders (client 0 also sees every other client's, as with TWS)."""
        every = self.client_id == 0
        self._send_open_orders(lambda o: every or o.client_id == self.client_id)

    def req_all_open_orders(self, fields: list[str]) -> None:
        self._send_open_orders(lambda o: True)

    def _send_open_orders(self, wanted: Callable[[Any], bool]) -> None:
        for order in self.gateway.world.open_orders:
            if wanted(order):
                self.send(encoder.open_order(self.server_version, order))
                self.send(encoder.order_status(order))
        self.send(encoder.open_order_end())

    def req_completed_orders(self, fields: list[str]) -> None:
        api_only = field(fields, 1) == "1"
        for order in self.gateway.world.completed_orders:
            if not api_only or order.client_id != 0 or order.order_id != 0:
                self.send(encoder.completed_order(self.server_version, order))
        self.send(encoder.completed_orders_end())

    def _account_values(self, account_id: str) -> list[tuple[str, str, str]]:
        world = self.gateway.world
        account = world.account(account_id)
        if account is None:
            return []
        net = world.net_liquidation(account_id)
        gross = world.market_value(account_id)
        buying_power = account.effective_buying_power()
        cur = account.currency
        return [
            ("AccountCode", account_id, ""),
            ("AccountType", account.account_type, ""),
            ("NetLiquidation", f"{net:.2f}", cur),
            ("TotalCashValue", f"{account.cash:.2f}", cur),
            ("CashBalance", f"{account.cash:.2f}", cur),
            ("SettledCash", f"{account.cash:.2f}", cur),
            ("AccruedCash", "0.00", cur),
            ("BuyingPower", f"{buying_power:.2f}", cur),
            ("EquityWithLoanValue", f"{net:.2f}", cur),
            ("GrossPositionValue", f"{gross:.2f}", cur),
            ("AvailableFunds", f"{min(buying_power, net):.2f}", cur),
            ("ExcessLiquidity", f"{net:.2f}", cur),
            ("InitMarginReq", "0.00", cur),
            ("MaintMarginReq", "0.00", cur),
            ("Cushion", "1", ""),
            ("Currency", cur, cur),
        ]

    def req_account_updates(self, fields: list[str]) -> None:
        subscribe, account_id = field(fields, 2) == "1", field(fields, 3)
        world = self.gateway.world
        if not subscribe:
            self.account_updates_for = None
            return
        account_id = account_id or (world.account_ids[0] if world.account_ids else "")
        self.account_updates_for = account_id
        self.push_account_updates(account_id, symbol=None)
        self.send(encoder.account_download_end(account_id))

    def push_account_updates(self, account_id: str, symbol: str | None) -> None:
        """Account values, then portfolio lines (all, or one symbol's; quantity 0 once it is closed)."""
        world = self.gateway.world
        for key, value, currency in self._account_values(account_id):
            self.send(encoder.update_account_value(key, value, currency, account_id))
        positions = [p for p in world.positions if p.account == account_id and symbol in (None, p.symbol)]
        if symbol is not None and not positions:
            positions = [Position(account_id, symbol, 0.0, 0.0)]
        for position in positions:
            market = world.price_of(position.symbol, position.avg_cost)
            self.send(encoder.update_portfolio(position, market))
        self.send(encoder.update_account_time(world.clock.now()))

    def push_fill(self, account_id: str, symbol: str) -> None:
        """What a real gateway streams to live subscriptions after a fill in `account_id`."""
        world = self.gateway.world
        if self.positions_subscribed:
            position = world.position(account_id, symbol) or Position(account_id, symbol, 0.0, 0.0)
            self.send(encoder.position(position))
        if self.account_updates_for == account_id:
            self.push_account_updates(account_id, symbol)
        for req_id, acct in self.multi_subscriptions.items():
            if acct in ("", "All", account_id):
                for key, value, currency in self._account_values(account_id):
                    self.send(encoder.account_update_multi(req_id, account_id, key, value, currency))
        for req_id, tags in self.summary_subscriptions.items():
            self._send_summary(req_id, tags, [account_id])
        self.push_pnl(account_id)

    def push_pnl(self, account_id: str) -> None:
        """One pnl message to each of this connection's reqPnL subscriptions for `account_id`."""
        account = self.gateway.world.account(account_id)
        if account is None or self.gateway.faults.silent_pnl:
            return
        for req_id, acct in self.pnl_subscriptions.items():
            if acct == account_id:
                self.send(encoder.pnl(req_id, account.daily_pnl, account.unrealized_pnl, account.realized_pnl))

    def req_pnl(self, fields: list[str]) -> None:
        """reqPnL (92): `92 | reqId | account | modelCode` (no version). The model code is not modelled."""
        req_id, account_id = as_int(field(fields, 1)), field(fields, 2)
        if self.gateway.world.account(account_id) is None:
            self.send(
                encoder.error(
                    self.server_version,
                    req_id,
                    INVALID_ACCOUNT_CODE,
                    f"Error validating request.-'cq' : cause - Invalid account code '{account_id}'.",
                )
            )
            return
        self.pnl_subscriptions[req_id] = account_id
        self.push_pnl(account_id)

    def cancel_pnl(self, fields: list[str]) -> None:
        self.pnl_subscriptions.pop(as_int(field(fields, 1)), None)

    def req_account_updates_multi(self, fields: list[str]) -> None:
        req_id, account_id = as_int(field(fields, 2)), field(fields, 3)
        world = self.gateway.world
        self.multi_subscriptions[req_id] = account_id
        accounts = world.account_ids if account_id in ("", "All") else [account_id]
        for acct in accounts:
            for key, value, currency in self._account_values(acct):
                self.send(encoder.account_update_multi(req_id, acct, key, value, currency))
        self.send(encoder.account_update_multi_end(req_id))

    def req_account_summary(self, fields: list[str]) -> None:
        req_id = as_int(field(fields, 2))
        tags = {t for t in field(fields, 4).split(",") if t}
        self.summary_subscriptions[req_id] = tags
        self._send_summary(req_id, tags, self.gateway.world.account_ids)
        self.send(encoder.account_summary_end(req_id))

    def _send_summary(self, req_id: int, tags: set[str], accounts: list[str]) -> None:
        for acct in accounts:
            for tag, value, currency in self._account_values(acct):
                if tag in ACCOUNT_SUMMARY_TAGS and (not tags or tag in tags):
                    self.send(encoder.account_summary(req_id, acct, tag, value, currency))

    def cancel_positions(self, fields: list[str]) -> None:
        self.positions_subscribed = False

    def cancel_account_summary(self, fields: list[str]) -> None:
        self.summary_subscriptions.pop(as_int(field(fields, 2)), None)

    def cancel_account_updates_multi(self, fields: list[str]) -> None:
        self.multi_subscriptions.pop(as_int(field(fields, 2)), None)

    def req_executions(self, fields: list[str]) -> None:
        wanted = parse_req_executions(fields)
        since = parse_execution_filter_time(wanted.time)
        for execution in self.gateway.world.executions:
            if _execution_matches(
                execution,
                wanted.client_id,
                wanted.account,
                since,
                wanted.symbol,
                wanted.sec_type,
                wanted.exchange,
                wanted.side,
            ):
                self.send(encoder.exec_details(self.server_version, wanted.req_id, execution))
                self.send(encoder.commission_report(execution, execution.currency))
        self.send(encoder.exec_details_end(wanted.req_id))

    def place_order(self, fields: list[str]) -> None:
        assert self.client_id is not None
        request = parse_place_order(fields, self.server_version)
        if request.what_if:
            self._what_if(request)
            return
        self.gateway.place_order(self.conn_id, self.client_id, request)

    def _what_if(self, request: PlaceOrderRequest) -> None:
        """placeOrder with whatIf: an openOrder carrying the margin and commission it would cost; nothing placed."""
        assert self.client_id is not None
        try:
            order, state = what_if(self.gateway.world, self.client_id, request)
        except WhatIfRefused as refused:
            self.send(encoder.error(self.server_version, request.order_id, refused.code, refused.text))
            return
        self.send(encoder.open_order(self.server_version, order, what_if=state.fields()))

    def cancel_order(self, fields: list[str]) -> None:
        assert self.client_id is not None
        self.gateway.cancel_order(self.client_id, as_int(field(fields, 2)))

    def req_global_cancel(self, fields: list[str]) -> None:
        self.gateway.cancel_all()

    def ignore(self, fields: list[str]) -> None:
        """Requests that need no answer and change nothing here (cancels, reqAutoOpenOrders, setServerLogLevel)."""


def _execution_matches(
    e: Execution,
    client_id: int,
    account: str,
    since: datetime | None,
    symbol: str,
    sec_type: str,
    exchange: str,
    side: str,
) -> bool:
    # TWS treats an unset (0 / empty) filter field as "any".
    return (
        (not client_id or e.client_id == client_id)
        and (not account or e.account == account)
        and (since is None or e.time >= since)
        and (not symbol or e.symbol == symbol)
        and (not sec_type or e.sec_type == sec_type)
        and (not exchange or e.exchange == exchange)
        and (not side or e.side == side or (side, e.side) in {("BUY", "BOT"), ("SELL", "SLD")})
    )


def _desk(name: str) -> Callable[[Session, list[str]], None]:
    """A request the connection's market-data desk answers."""
    return lambda session, fields: getattr(session.desk, name)(fields)


_HANDLERS: dict[int, Callable[[Session, list[str]], None]] = {
    **{msg_id: Session.ignore for msg_id in unserved.ACCEPTED_WITHOUT_ANSWER},
    1: _desk("req_mkt_data"),
    2: _desk("cancel_mkt_data"),
    3: Session.place_order,
    4: Session.cancel_order,
    5: Session.req_open_orders,
    6: Session.req_account_updates,
    7: Session.req_executions,
    8: Session.req_ids,
    9: _desk("req_contract_details"),
    16: Session.req_all_open_orders,
    17: Session.req_managed_accts,
    20: _desk("req_historical_data"),
    25: _desk("cancel_historical_data"),
    49: Session.req_current_time,
    50: _desk("req_real_time_bars"),
    51: _desk("cancel_real_time_bars"),
    58: Session.req_global_cancel,
    59: _desk("req_market_data_type"),
    61: Session.req_positions,
    62: Session.req_account_summary,
    63: Session.cancel_account_summary,
    64: Session.cancel_positions,
    74: Session.req_positions_multi,
    75: Session.ignore,
    76: Session.req_account_updates_multi,
    77: Session.cancel_account_updates_multi,
    87: _desk("req_head_timestamp"),
    90: _desk("cancel_head_timestamp"),
    91: _desk("req_market_rule"),
    92: Session.req_pnl,
    93: Session.cancel_pnl,
    99: Session.req_completed_orders,
}
