"""Order reconciliation: what the bot logged against what the paper account holds. Pure: facts in, facts out.

    logged = parse_bot_orders(block.lines)                 # the bot's "Order submitted: ..." lines
    result = reconcile(logged.orders, broker_orders(facts), client_id=1, rejections=logged.rejections)

A logged order is matched to the account by (client id, order id) first (open orders and executions carry
both), then by order ref + symbol + side among the records that carry no ids (completed orders). Matched
records are compared on symbol, side and quantity. Records from the bot's client id that no logged order
explains are `unknown`. Everything is a dict lookup: linear in the number of orders.
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from harness.core.redact import masked_repr
from harness.probes.logs import Pattern

# "Order submitted: id=3 ref=strategy-A BUY 1 SPY @ 1.00" (the price is optional: market orders have none).
ORDER_SUBMITTED_REGEX = (
    r"Order submitted: id=(?P<order_id>\d+) ref=(?P<ref>\S*) (?P<side>BUY|SELL) (?P<quantity>\d+(?:\.\d+)?) "
    r"(?P<symbol>[A-Za-z0-9.\-]+)(?: @ (?P<price>\d+(?:\.\d+)?))?"
)
# "Order rejected: id=3 code=201 reason=Order rejected - reason:YOUR ORDER IS NOT ACCEPTED..."
ORDER_REJECTED_REGEX = r"Order rejected: id=(?P<order_id>\d+) code=(?P<code>\d+) reason=(?P<reason>.*)$"
# "Order status: id=3 PreSubmitted"
ORDER_STATUS_REGEX = r"Order status: id=(?P<order_id>\d+) (?P<status>\w+)"
ORDER_SUBMITTED = re.compile(ORDER_SUBMITTED_REGEX)
ORDER_REJECTED = re.compile(ORDER_REJECTED_REGEX)
ORDER_STATUS = re.compile(ORDER_STATUS_REGEX)
# The same, as harness.probes.logs patterns (for `logs.scan`).
ORDER_SUBMITTED_PATTERN = Pattern(ORDER_SUBMITTED_REGEX, regex=True)
ORDER_REJECTED_PATTERN = Pattern(ORDER_REJECTED_REGEX, regex=True)

PENDING_STATES = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "PendingCancel"})
DONE_UNFILLED_STATES = frozenset({"Cancelled", "ApiCancelled", "Inactive"})
_FUNDS_WORDS = ("BUYING POWER", "INSUFFICIENT", "EQUITY", "MARGIN", "FUNDS")


# -- facts ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LoggedOrder:
    """One order the bot says it submitted."""

    order_id: int
    ref: str
    side: str  # BUY / SELL
    quantity: float
    symbol: str
    price: float | None = None
    where: str = ""  # file:line
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoggedRejection:
    order_id: int
    code: int
    reason: str
    where: str = ""

    @property
    def insufficient_funds(self) -> bool:
        return self.code == 201 and any(word in self.reason.upper() for word in _FUNDS_WORDS)


@dataclass(frozen=True, slots=True)
class BotOrderLog:
    """The orders, rejections and last statuses the bot logged in one startup block."""

    orders: tuple[LoggedOrder, ...] = ()
    rejections: tuple[LoggedRejection, ...] = ()
    statuses: tuple[tuple[int, str], ...] = ()  # (order id, last status logged)

    def status_of(self, order_id: int) -> str | None:
        return dict(self.statuses).get(order_id)


@dataclass(frozen=True, slots=True, repr=False)
class BrokerOrder:
    """One order as the account shows it: an open order, a completed order, or executions summed per order."""

    source: str  # "open", "completed", "execution"
    client_id: int | None
    order_id: int | None
    perm_id: int
    order_ref: str
    symbol: str
    side: str  # BUY / SELL
    quantity: float  # ordered quantity (executions: shares filled)
    status: str  # Filled, Submitted, PreSubmitted, Cancelled, ...
    account: str = ""
    limit_price: float | None = None
    filled: float = 0.0

    __repr__ = masked_repr  # tracebacks, -l and -vvv show the account masked


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which made building one Matched
# per order most of the cost of a 100,000-order reconciliation (bench/bench_reconcile.py). Nothing mutates it.
@dataclass(slots=True)
class Matched:
    logged: LoggedOrder
    broker: BrokerOrder | None  # None: rejected at the gateway, so no record in the account
    status: str  # filled / submitted / pending / cancelled / rejected
    matched_by: str  # "client id + order id", "order ref", "rejection"
    reason: str = ""  # rejection reason


@dataclass(frozen=True, slots=True)
class Mismatched:
    logged: LoggedOrder
    broker: BrokerOrder
    fields: tuple[tuple[str, str, str], ...]  # (field, logged, account)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    client_id: int
    matched: tuple[Matched, ...] = ()
    missing: tuple[LoggedOrder, ...] = ()
    unknown: tuple[BrokerOrder, ...] = ()
    mismatched: tuple[Mismatched, ...] = ()
    earlier_starts: tuple[BrokerOrder, ...] = ()  # the bot's, logged by an earlier start since the switch

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unknown or self.mismatched)

    @property
    def rejected(self) -> tuple[Matched, ...]:
        return tuple(m for m in self.matched if m.status == "rejected")


# -- parsing --------------------------------------------------------------------------------------------------
def _number(text: str | None) -> float | None:
    return None if text is None else float(text)


def parse_bot_orders(lines: Iterable[Any]) -> BotOrderLog:
    """Orders, rejections and statuses from log lines (harness.probes.logs.LogLine, or plain strings)."""
    orders: list[LoggedOrder] = []
    rejections: list[LoggedRejection] = []
    statuses: dict[int, str] = {}
    for line in lines:
        text = line if isinstance(line, str) else line.text
        where = "" if isinstance(line, str) else line.where
        if "Order " not in text:
            continue
        found = ORDER_SUBMITTED.search(text)
        if found:
            orders.append(LoggedOrder(
                order_id=int(found["order_id"]), ref=found["ref"], side=found["side"],
                quantity=float(found["quantity"]), symbol=found["symbol"].upper(), price=_number(found["price"]),
                where=where, at=None if isinstance(line, str) else line.timestamp,
            ))
            continue
        found = ORDER_REJECTED.search(text)
        if found:
            rejections.append(LoggedRejection(int(found["order_id"]), int(found["code"]), found["reason"].strip(),
                                              where))
            continue
        found = ORDER_STATUS.search(text)
        if found:
            statuses[int(found["order_id"])] = found["status"]
    return BotOrderLog(tuple(orders), tuple(rejections), tuple(statuses.items()))


# -- the account side -----------------------------------------------------------------------------------------
def _side(action: str) -> str:
    action = action.upper()
    return {"BOT": "BUY", "SLD": "SELL"}.get(action, action)


def broker_orders(facts: Any) -> tuple[BrokerOrder, ...]:
    """Open orders, completed orders and executions of a harness.probes.gateway.GatewayFacts, as BrokerOrders.

    Executions of an order already listed as open are folded into it; the others are summed per order.
    """
    out: list[BrokerOrder] = []
    open_keys: set[tuple[int, int]] = set()
    for o in facts.open_orders:
        open_keys.add((o.client_id, o.order_id))
        out.append(BrokerOrder("open", o.client_id, o.order_id, o.perm_id, o.order_ref, o.symbol.upper(),
                               _side(o.action), o.quantity, o.status, o.account, o.limit_price, o.filled))
    filled: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for e in facts.executions:
        if (e.client_id, e.order_id) not in open_keys:
            filled[(e.client_id, e.order_id)].append(e)
    executed_perm_ids: set[int] = set()
    for (client_id, order_id), fills in filled.items():
        first = fills[0]
        shares = sum(f.shares for f in fills)
        executed_perm_ids.add(first.perm_id)
        out.append(BrokerOrder("execution", client_id, order_id, first.perm_id, first.order_ref,
                               first.symbol.upper(), _side(first.side), shares, "Filled", first.account, None,
                               shares))
    for c in facts.completed_orders:
        if c.perm_id and c.perm_id in executed_perm_ids:
            continue  # the same order, already known with its ids from the executions
        out.append(BrokerOrder("completed", None, None, c.perm_id, c.order_ref, c.symbol.upper(), _side(c.action),
                               c.quantity, c.status, c.account, c.limit_price, c.filled))
    return tuple(out)


# -- reconciliation -------------------------------------------------------------------------------------------
def status_word(status: str) -> str:
    """IB's order status in the words of the report."""
    if status == "Filled":
        return "filled"
    if status == "Submitted":
        return "submitted"
    if status in PENDING_STATES:
        return "pending"
    if status in DONE_UNFILLED_STATES:
        return "cancelled"
    return status.lower() or "unknown"


def _differences(logged: LoggedOrder, broker: BrokerOrder) -> tuple[tuple[str, str, str], ...]:
    diffs = []
    if logged.symbol != broker.symbol:
        diffs.append(("symbol", logged.symbol, broker.symbol))
    if logged.side != broker.side:
        diffs.append(("side", logged.side, broker.side))
    # Executions hold what filled so far; an order record holds what was ordered.
    if broker.source == "execution" and broker.quantity < logged.quantity:
        pass  # a partial fill is not a mismatch
    elif abs(logged.quantity - broker.quantity) > 1e-9:
        diffs.append(("quantity", f"{logged.quantity:g}", f"{broker.quantity:g}"))
    return tuple(diffs)


def reconcile(
    logged: Sequence[LoggedOrder],
    broker: Sequence[BrokerOrder],
    client_id: int,
    rejections: Sequence[LoggedRejection] = (),
    earlier: Sequence[LoggedOrder] = (),
) -> Reconciliation:
    """Match every logged order to the account's records; see the module's docstring for the rules. An account
    order of the bot's client id that an earlier start of this transition logged (`earlier`) is not unknown: it
    is that start's (a good-till-cancelled order still open after a restart)."""
    with _cyclic_gc_paused():
        result = _reconcile(logged, broker, client_id, rejections)
    if not earlier or not result.unknown:
        return result
    logged_before = {order.order_id for order in earlier}
    theirs = tuple(record for record in result.unknown if record.order_id in logged_before)
    return replace(result, unknown=tuple(r for r in result.unknown if r not in theirs), earlier_starts=theirs)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Building one record per order (100,000 in bench/bench_reconcile.py) sets off the cyclic collector over
    and over, and each pass walks every live order; the records hold no cycles, so pausing it loses nothing
    and more than halves the time. It is switched back on even when the caller had it on and an error left."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _reconcile(
    logged: Sequence[LoggedOrder],
    broker: Sequence[BrokerOrder],
    client_id: int,
    rejections: Sequence[LoggedRejection],
) -> Reconciliation:
    # The first record of a (client id, order id) wins, as the account lists the live order before its history.
    by_id: dict[tuple[int, int], BrokerOrder] = {
        (record.client_id, record.order_id): record
        for record in reversed(broker) if record.client_id is not None and record.order_id is not None
    }
    by_ref: dict[tuple[str, str, str], deque[BrokerOrder]] = defaultdict(deque)
    for record in broker:
        if record.client_id is None or record.order_id is None:
            by_ref[(record.order_ref, record.symbol, record.side)].append(record)
    rejected = {r.order_id: r for r in rejections}
    unclaimed = dict(by_id)  # what no logged order explains: the bot's are `unknown`
    words: dict[str, str] = {}
    matched: list[Matched] = []
    missing: list[LoggedOrder] = []
    mismatched: list[Mismatched] = []
    # Bound once: this loop runs once per logged order (100,000 in the benchmark).
    find, claim, keep = by_id.get, unclaimed.pop, matched.append
    for order in logged:
        key = (client_id, order.order_id)
        record = find(key)
        how = "client id + order id"
        if record is None:
            queue = by_ref.get((order.ref, order.symbol, order.side)) if order.ref and by_ref else None
            record = queue.popleft() if queue else None
            how = "order ref"
        else:
            claim(key, None)
        if record is None:
            if order.order_id in rejected:
                rejection = rejected[order.order_id]
                keep(Matched(order, None, "rejected", "rejection", rejection.reason))
            else:
                missing.append(order)
            continue
        if not (order.symbol == record.symbol and order.side == record.side and order.quantity == record.quantity):
            diffs = _differences(order, record)
            if diffs:
                mismatched.append(Mismatched(order, record, diffs))
                continue
        rejection = rejected.get(order.order_id) if rejected else None
        if rejection is not None and record.status in DONE_UNFILLED_STATES:
            keep(Matched(order, record, "rejected", how, rejection.reason))
            continue
        word = words.get(record.status)
        if word is None:
            word = words[record.status] = status_word(record.status)
        keep(Matched(order, record, word, how))
    unknown = tuple(record for key, record in unclaimed.items() if key[0] == client_id)
    return Reconciliation(client_id, tuple(matched), tuple(missing), unknown, tuple(mismatched))


def describe_logged(order: LoggedOrder) -> str:
    price = f" @ {order.price:.2f}" if order.price is not None else ""
    return f"id={order.order_id} ref={order.ref} {order.side} {order.quantity:g} {order.symbol}{price}"


def describe_broker(record: BrokerOrder) -> str:
    ids = f"client {record.client_id} id={record.order_id}" if record.order_id is not None else \
        f"perm {record.perm_id}"
    return (f"{ids} ref={record.order_ref or '-'} {record.side} {record.quantity:g} {record.symbol} "
            f"({record.source}, {record.status})")
