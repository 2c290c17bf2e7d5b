"""The optional paper test order (`--place-test-order`): one tiny, far-from-market limit BUY, then cancelled.

The only code in the harness that may place an order. It does so only after `prove_paper` holds on the
facts read *before* connecting (the read-only probe) and again on the accounts of its own connection:
every managed account a paper account (DU/DF/DI), the gateway port a paper port (4002/7497), and the bot's
.env PAPER_TRADING=true and DRY_RUN=false. It uses its own client id (never the bot's or the probe's) and
every step is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.core.ibkr import PAPER_ACCOUNT_PREFIXES, PAPER_PORTS, account_is_paper
from harness.core.redact import mask_account, masked_repr
from harness.probes.gateway import REQUEST_REFUSED, describe_error

ORDER_REF = "harness-test-order"
SYMBOL = "SPY"
LIMIT_PRICE = 1.00  # far below any market price: it rests, it never fills
QUANTITY = 1
CANCELLED_STATES = frozenset({"Cancelled", "ApiCancelled"})
ACK_STATES = frozenset({"PreSubmitted", "Submitted", "Filled", "Cancelled", "ApiCancelled", "Inactive"})


def prove_paper(accounts: Sequence[str], port: int, env_values: Mapping[str, str | None]) -> tuple[bool, str]:
    """(True, why) only when all three hold: paper accounts only, a paper port, PAPER_TRADING=true and
    DRY_RUN=false in the bot's .env. Otherwise (False, the first reason it is not proven)."""
    accounts = [a for a in accounts if a is not None]
    if not accounts:
        return False, "no managed account was read from the gateway"
    not_paper = [a for a in accounts if account_is_paper(a) is not True]
    if not_paper:
        return False, (f"account(s) {', '.join(mask_account(a) for a in not_paper)} are not paper accounts "
                       f"({'/'.join(PAPER_ACCOUNT_PREFIXES)}...)")
    if port not in PAPER_PORTS:
        return False, f"port {port} is not a paper port ({', '.join(map(str, sorted(PAPER_PORTS)))})"
    paper = (env_values.get("PAPER_TRADING") or "").strip().lower()
    dry = (env_values.get("DRY_RUN") or "").strip().lower()
    if paper != "true":
        return False, f"the bot's .env has PAPER_TRADING={env_values.get('PAPER_TRADING')!r}, not true"
    if dry != "false":
        return False, f"the bot's .env has DRY_RUN={env_values.get('DRY_RUN')!r}, not false"
    return True, (f"paper proven: account(s) {', '.join(mask_account(a) for a in accounts)}, port {port}, "
                  "PAPER_TRADING=true, DRY_RUN=false")


@dataclass(frozen=True, slots=True, repr=False)
class TestOrderResult:
    """What became of the test order. `placed` False: refused or could not connect (see `problem`)."""

    __test__ = False  # not a pytest test class

    host: str
    port: int
    client_id: int
    placed: bool = False
    refused: str | None = None  # the proof of paper failed: why
    problem: str | None = None  # could not connect / timed out
    account: str = ""
    order_id: int | None = None
    statuses: tuple[str, ...] = ()
    error_codes: tuple[int, ...] = ()
    cancelled: bool = False

    __repr__ = masked_repr  # tracebacks, -l and -vvv show the account masked

    @property
    def ok(self) -> bool:
        return self.placed and self.cancelled and self.problem is None


def place_test_order(host: str, port: int, client_id: int, env_values: Mapping[str, str | None],
                     known_accounts: Sequence[str], *, timeout: float = 10.0) -> TestOrderResult:
    """Prove paper on `known_accounts` (from the read-only probe), connect, prove it again on this connection's
    accounts, place the test order, cancel it, and report. Never raises for a fault of the world."""
    ok, reason = prove_paper(known_accounts, port, env_values)
    if not ok:
        return TestOrderResult(host, port, client_id, refused=reason)
    outcome: concurrent.futures.Future[TestOrderResult] = concurrent.futures.Future()

    def run() -> None:  # own thread, own event loop: never disturbs the caller's loop
        try:
            outcome.set_result(asyncio.run(_place_and_cancel(host, port, client_id, env_values, timeout)))
        except BaseException as exc:  # reported, not raised
            outcome.set_result(TestOrderResult(host, port, client_id,
                                               problem=f"test order failed: {type(exc).__name__}: {exc}"))

    thread = threading.Thread(target=run, name="harness-test-order", daemon=True)
    thread.start()
    try:
        return outcome.result(4 * timeout + 5)
    except concurrent.futures.TimeoutError:
        return TestOrderResult(host, port, client_id, problem=f"test order did not finish within {4 * timeout + 5:g}s")


async def _wait_for(condition: Any, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return bool(condition())


async def _place_and_cancel(host: str, port: int, client_id: int, env_values: Mapping[str, str | None],
                            timeout: float) -> TestOrderResult:
    from ib_async import IB, LimitOrder, StartupFetch, Stock

    ib = IB()
    ib.RequestTimeout = timeout
    codes: list[int] = []
    refusals: dict[int, str] = {}  # request id -> the refusal, named (read-only API: the setting to change)

    def on_error(req_id: int, code: int, message: str, contract: Any) -> None:
        codes.append(code)
        if code == REQUEST_REFUSED:
            refusals.setdefault(req_id, describe_error(code, message))

    ib.errorEvent += on_error
    base = {"host": host, "port": port, "client_id": client_id}
    try:
        try:
            await asyncio.wait_for(ib.connectAsync(host, port, clientId=client_id, timeout=timeout, readonly=False,
                                                   fetchFields=StartupFetch.POSITIONS), timeout + 1)
        except (OSError, TimeoutError, asyncio.TimeoutError, ConnectionError) as exc:
            return TestOrderResult(**base, problem=f"cannot connect to {host}:{port}: {type(exc).__name__} {exc}")
        accounts = tuple(ib.managedAccounts())
        ok, reason = prove_paper(accounts, port, env_values)  # again, on the connection that would place it
        if not ok:
            return TestOrderResult(**base, refused=reason, error_codes=tuple(codes))
        account = accounts[0]
        order = LimitOrder("BUY", QUANTITY, LIMIT_PRICE, tif="DAY", orderRef=ORDER_REF, account=account)
        trade = ib.placeOrder(Stock(SYMBOL, "SMART", "USD"), order)
        statuses: list[str] = []

        def note() -> str:
            status = trade.orderStatus.status
            if not statuses or statuses[-1] != status:
                statuses.append(status)
            return status

        order_id = trade.order.orderId
        acknowledged = await _wait_for(lambda: note() in ACK_STATES or 201 in codes or order_id in refusals, timeout)
        common = {**base, "placed": True, "account": mask_account(account), "order_id": order_id}
        if order_id in refusals:
            return TestOrderResult(**common, statuses=tuple(statuses), error_codes=tuple(codes),
                                   problem=f"the gateway refused the order ({refusals[order_id]})")
        if not acknowledged:
            ib.cancelOrder(order)
            return TestOrderResult(**common, statuses=tuple(statuses), error_codes=tuple(codes),
                                   problem=f"no order status within {timeout:g}s (cancel sent)")
        if note() not in CANCELLED_STATES | {"Inactive"} and 201 not in codes:
            ib.cancelOrder(order)
        await _wait_for(lambda: note() in CANCELLED_STATES | {"Inactive", "Filled"} or 202 in codes, timeout)
        cancelled = note() in CANCELLED_STATES or 202 in codes
        problem = None
        if 201 in codes:
            problem = "the test order was rejected (error 201)"
        elif not cancelled:
            problem = f"the test order was not confirmed cancelled within {timeout:g}s (status {note()})"
        return TestOrderResult(**common, statuses=tuple(statuses), error_codes=tuple(codes), cancelled=cancelled,
                               problem=problem)
    finally:
        with contextlib.suppress(Exception):
            ib.disconnect()
