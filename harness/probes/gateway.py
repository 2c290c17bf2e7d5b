"""Read-only probe of an IB Gateway (real or fake: it cannot tell) through ib_async. Returns plain facts.

    with GatewayProbe("127.0.0.1", 4002) as probe:
        facts = probe.snapshot(executions_since=start_of_day)

Every connection is `readonly=True`; the probe never places, modifies or cancels an order. It reads each
managed account's daily P&L with reqPnL (first update, then cancelPnL); a P&L read that fails is noted on
that account's AccountPnL and fails nothing else. Every network step is bounded; a gateway that is down,
slow, on the wrong port or refusing our client id yields a GatewayFacts with `problem` set, never an
exception or a hang. ib_async runs on the probe's own event-loop thread, so callers (pytest, sync code, or
code with its own running loop) are not disturbed, and its log records from that thread are captured
instead of printed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import threading
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, TypeVar

from harness.core import clock
from harness.core.ibkr import PROBE_CLIENT_ID, accounts_all_paper, port_is_paper
from harness.core.redact import masked_repr, redact_text

# Error codes the facts may carry, with what they mean for the harness (texts are ours, not IB's).
ERROR_CODES: dict[int, str] = {
    201: "order rejected",
    202: "order cancelled",
    321: "request refused (read-only API, or an invalid request: IB's text says which)",
    326: "client id already in use",
    502: "could not connect",
    504: "not connected",
    1100: "connectivity between IB and the gateway lost",
    1101: "connectivity restored, data lost",
    1102: "connectivity restored, data maintained",
    2104: "market data farm OK",
    2106: "historical data farm OK",
    2109: "outsideRth ignored for this order type",
    2158: "sec-def data farm OK",
}
CLIENT_ID_IN_USE = 326
INFO_CODES = frozenset(range(2100, 2200))
REQUEST_REFUSED = 321
READ_ONLY_API = ("read-only API: enable writes in the gateway's API settings (Configure > Settings > API > "
                 "uncheck Read-Only API)")


def describe_error(code: int, message: str = "") -> str:
    """'error N: meaning' for an operator; a 321 whose text says Read-Only names the setting to change."""
    if code == REQUEST_REFUSED:
        return f"error {code}: {READ_ONLY_API if 'read-only' in message.casefold() else 'request refused: ' + message}"
    meaning = ERROR_CODES.get(code)
    return f"error {code}: {meaning}" if meaning else f"error {code}: {message}".rstrip(": ")

_IB_LOGGERS = ("ib_async.client", "ib_async.wrapper", "ib_async.ib", "ib_async.Decoder")
_LOG_KEEP = 200
T = TypeVar("T")


# -- facts --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, repr=False)
class PositionFact:
    account: str = ""
    symbol: str = ""
    sec_type: str = ""
    currency: str = ""
    quantity: float = 0.0
    avg_cost: float = 0.0


@dataclass(frozen=True, slots=True, repr=False)
class OrderFact:
    order_id: int = 0
    perm_id: int = 0
    client_id: int = 0
    account: str = ""
    symbol: str = ""
    action: str = ""
    quantity: float = 0.0
    order_type: str = ""
    limit_price: float | None = None
    tif: str = ""
    outside_rth: bool = False
    order_ref: str = ""
    status: str = ""
    filled: float = 0.0
    remaining: float = 0.0


@dataclass(frozen=True, slots=True, repr=False)
class CompletedOrderFact:
    perm_id: int = 0
    account: str = ""
    symbol: str = ""
    action: str = ""
    quantity: float = 0.0
    order_type: str = ""
    limit_price: float | None = None
    order_ref: str = ""
    status: str = ""
    filled: float = 0.0


@dataclass(frozen=True, slots=True, repr=False)
class ExecutionFact:
    exec_id: str = ""
    order_id: int = 0
    perm_id: int = 0
    client_id: int = 0
    account: str = ""
    symbol: str = ""
    side: str = ""  # BOT / SLD
    shares: float = 0.0
    price: float = 0.0
    time: datetime | None = None
    commission: float | None = None  # None: no commission report seen
    order_ref: str = ""


@dataclass(frozen=True, slots=True, repr=False)
class AccountFunds:
    account: str = ""
    currency: str = ""
    cash: float | None = None  # TotalCashValue
    buying_power: float | None = None
    net_liquidation: float | None = None


@dataclass(frozen=True, slots=True, repr=False)
class AccountPnL:
    """One account's P&L as reqPnL first reported it. A value is None when the gateway left it unset (NaN or
    UNSET_DOUBLE); `problem` says why the read failed (timeout, error), else None."""

    account: str = ""
    daily_pnl: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True, repr=False)
class GatewayFacts:
    """What the probe could see. `problem` says why it could not look (masked account ids), else None."""

    host: str = ""
    port: int = 0
    client_id: int = PROBE_CLIENT_ID
    reachable: bool = False  # TCP connect succeeded
    handshake_ok: bool = False  # version handshake and API start done
    server_version: int | None = None
    problem: str | None = None
    accounts: tuple[str, ...] = ()
    all_paper: bool | None = None
    paper_port: bool | None = None
    positions: tuple[PositionFact, ...] = ()
    open_orders: tuple[OrderFact, ...] = ()
    executions: tuple[ExecutionFact, ...] = ()
    executions_since: datetime | None = None
    completed_orders: tuple[CompletedOrderFact, ...] = ()
    account_summary: tuple[AccountFunds, ...] = ()
    # Daily P&L per managed account (reqPnL); a failed read is a `problem` on its entry, not on the facts.
    pnl: tuple[AccountPnL, ...] = ()
    error_codes: tuple[int, ...] = ()  # every code seen since the probe opened, first-seen order
    observed_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.handshake_ok and self.problem is None


# Facts reach long tracebacks, `-l` and `-vvv` assertion diffs through repr: account ids there are masked.
for _facts_class in (PositionFact, OrderFact, CompletedOrderFact, ExecutionFact, AccountFunds, AccountPnL,
                     GatewayFacts):
    _facts_class.__repr__ = masked_repr  # type: ignore[method-assign]
del _facts_class


class _Capture(logging.Filter):
    """Logger filter: keeps (and swallows) ib_async records emitted on the probe's own thread."""

    def __init__(self, thread_id: int) -> None:
        super().__init__()
        self.thread_id = thread_id
        self.lines: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread_id:
            return True
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        del self.lines[:-_LOG_KEEP]
        return False


class GatewayProbe:
    """One read-only ib_async connection that can serve a whole test session.

    open() connects and returns basic facts; snapshot() reads everything (reconnecting if the gateway
    restarted); close() disconnects. All methods are bounded by the timeouts given here.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4002,
        client_id: int = PROBE_CLIENT_ID,
        *,
        connect_timeout: float = 5.0,
        request_timeout: float = 5.0,
    ) -> None:
        self.host, self.port, self.client_id = host, int(port), int(client_id)
        self.connect_timeout, self.request_timeout = connect_timeout, request_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._capture: _Capture | None = None
        self._ib: Any = None
        self._error_codes: list[int] = []
        self._server_version: int | None = None
        self._accounts: tuple[str, ...] = ()
        self._lost = False
        # What the last connect attempt got as far as (observed on our own IB instance, not from logs).
        self._reachable = False
        self._hello_seen = False

    # -- public ---------------------------------------------------------------------------------------
    def open(self) -> GatewayFacts:
        """Connect (read-only) and return accounts, server version and paper flags; never raises."""
        self._start_thread()
        problem = self._run(self._connect(), self.connect_timeout + 2.0, "connect")
        return self._facts(problem)

    def snapshot(self, executions_since: datetime | None = None) -> GatewayFacts:
        """Everything the probe can read now. Reconnects once if the connection was lost."""
        if not self.connected:
            facts = self.open()
            if facts.problem:
                return replace(facts, executions_since=executions_since)
        data: dict[str, Any] = {}
        problem = self._run(
            self._read_all(executions_since, data), 6 * self.request_timeout + 2.0, "snapshot"
        )
        return self._facts(
            problem or data.get("problem"), executions_since=executions_since, **data.get("facts", {})
        )

    @property
    def connected(self) -> bool:
        return self._ib is not None and self._ib.isConnected() and not self._lost

    @property
    def log_lines(self) -> tuple[str, ...]:
        """ib_async's own log lines from this probe (redacted), for evidence when something looks wrong."""
        return tuple(redact_text(line) for line in (self._capture.lines if self._capture else []))

    def close(self) -> None:
        """Disconnect and stop the probe's thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        ib, self._ib = self._ib, None
        # A probe that cannot shut down cleanly still stops its thread.
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(ib), loop).result(3.0)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2.0)
        if not thread.is_alive():
            loop.close()
        if self._capture is not None:
            for name in _IB_LOGGERS:
                logging.getLogger(name).removeFilter(self._capture)
        self._loop = self._thread = None

    def __enter__(self) -> GatewayProbe:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------------------
    def _start_thread(self) -> None:
        if self._thread is not None:
            return
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"gateway-probe:{self.port}", daemon=True
        )
        self._thread.start()
        assert self._thread.ident is not None
        self._capture = _Capture(self._thread.ident)
        for name in _IB_LOGGERS:
            logging.getLogger(name).addFilter(self._capture)

    def _run(self, coro: Coroutine[Any, Any, str | None], timeout: float, what: str) -> str | None:
        """Run a probe coroutine on the probe thread; a hard bound on top of the per-step timeouts."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except (concurrent.futures.TimeoutError, TimeoutError):
            future.cancel()
            return f"{what} did not finish within {timeout:g}s"
        except Exception as exc:  # the probe reports, it does not raise
            return f"{what} failed: {type(exc).__name__}: {exc}"

    def _facts(self, problem: str | None, **fields: Any) -> GatewayFacts:
        return GatewayFacts(
            host=self.host,
            port=self.port,
            client_id=self.client_id,
            reachable=self._reachable or self.connected,
            handshake_ok=self._server_version is not None and self.connected,
            server_version=self._server_version,
            problem=redact_text(problem) if problem else None,
            accounts=self._accounts,
            all_paper=accounts_all_paper(self._accounts),
            paper_port=port_is_paper(self.port),
            error_codes=tuple(self._error_codes),
            observed_at=clock.now(),
            **fields,
        )

    def _on_error(self, req_id: int, code: int, message: str, contract: Any) -> None:
        if code not in self._error_codes:
            self._error_codes.append(code)

    def _on_disconnected(self) -> None:
        self._lost = True

    async def _shutdown(self, ib: Any) -> None:
        """Disconnect, then let every task still on the probe loop (a cancelled connect...) finish."""
        if ib is not None:
            _disconnect_quietly(ib)
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # -- steps (on the probe thread) -------------------------------------------------------------------
    async def _connect(self) -> str | None:
        from ib_async import IB, StartupFetch  # heavy import, only when a probe really connects

        if self._ib is not None:
            _disconnect_quietly(self._ib)
        self._server_version, self._accounts, self._lost = None, (), False
        self._reachable = self._hello_seen = False
        ib = IB()
        ib.RequestTimeout = self.request_timeout
        aborted: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._observe_progress(ib)

        def on_error(req_id: int, code: int, message: str, contract: Any) -> None:
            self._on_error(req_id, code, message, contract)
            if code == CLIENT_ID_IN_USE and not aborted.done():
                aborted.set_result(f"client id {self.client_id} already in use at {self.host}:{self.port}")

        def on_api_error(message: str) -> None:
            if not message.startswith("Peer closed connection") or aborted.done():
                return
            if "already in use" in message:  # ib_async adds this when the API never became ready
                aborted.set_result(
                    f"the gateway at {self.host}:{self.port} closed the connection during the "
                    f"handshake (client id {self.client_id} already in use?)"
                )
            else:
                aborted.set_result(f"connection lost while syncing with {self.host}:{self.port}")

        ib.errorEvent += on_error
        ib.client.apiError += on_api_error
        ib.disconnectedEvent += self._on_disconnected
        # Sync only positions at connect (the one request ib_async always sends); the rest is read on demand.
        connecting = asyncio.ensure_future(
            ib.connectAsync(
                self.host,
                self.port,
                clientId=self.client_id,
                timeout=self.connect_timeout,
                readonly=True,
                fetchFields=StartupFetch.POSITIONS,
            )
        )
        done, _ = await asyncio.wait(
            {connecting, aborted}, timeout=self.connect_timeout + 1.0, return_when=asyncio.FIRST_COMPLETED
        )
        if aborted in done or connecting not in done:
            connecting.cancel()
            _disconnect_quietly(ib)
            if aborted in done:
                return aborted.result()
            return self._timeout_problem()
        exc = connecting.exception()
        if exc is not None:
            _disconnect_quietly(ib)
            return self._connect_problem(exc)
        self._ib = ib
        self._lost = False
        self._server_version = ib.client.serverVersion()
        self._accounts = tuple(ib.managedAccounts())
        return None

    def _observe_progress(self, ib: Any) -> None:
        """Note TCP connect and the server's hello on this probe's own IB instance (no library patching)."""
        connection = ib.client.conn
        tcp_connect = connection.connectAsync

        async def connect_and_note(host: str, port: int) -> None:
            await tcp_connect(host, port)
            self._reachable = True

        connection.connectAsync = connect_and_note
        connect_ack = ib.wrapper.connectAck

        def note_hello() -> None:
            self._hello_seen = True
            connect_ack()

        ib.wrapper.connectAck = note_hello

    def _timeout_problem(self) -> str:
        where = f"{self.host}:{self.port}"
        if self._hello_seen:
            return f"API start timed out after {self.connect_timeout:g}s at {where} (no accounts or order id)"
        if self._reachable:
            return f"handshake timed out after {self.connect_timeout:g}s at {where}"
        return f"connect timed out after {self.connect_timeout:g}s at {where}"

    def _connect_problem(self, exc: BaseException) -> str:
        where = f"{self.host}:{self.port}"
        if isinstance(exc, ConnectionRefusedError):
            return f"connection refused at {where}"
        if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
            return self._timeout_problem()
        if isinstance(exc, ConnectionError):
            return f"connection lost while syncing with {where}: {exc}"
        if isinstance(exc, OSError):
            return f"cannot reach {where}: {exc.strerror or exc}"
        return f"connect to {where} failed: {type(exc).__name__}: {exc}"

    async def _step(self, name: str, awaitable: Any, problems: list[str]) -> Any:
        """One bounded read. After the first failure the rest are skipped: the bound stays one timeout."""
        if problems:
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            return None
        try:
            return await asyncio.wait_for(awaitable, self.request_timeout)
        except (TimeoutError, asyncio.TimeoutError):
            problems.append(f"{name} request timed out after {self.request_timeout:g}s")
        except ConnectionError as exc:
            problems.append(f"{name} request failed: connection lost ({exc})")
        except Exception as exc:  # an ib_async RequestError or similar: report, do not raise
            problems.append(f"{name} request failed: {type(exc).__name__}: {exc}")
        return None

    async def _read_all(self, since: datetime | None, out: dict[str, Any]) -> None:
        from ib_async import ExecutionFilter

        ib = self._ib
        problems: list[str] = []
        facts: dict[str, Any] = {}
        positions = await self._step("positions", ib.reqPositionsAsync(), problems)
        if positions is not None:
            facts["positions"] = tuple(_position_fact(p) for p in positions)
        trades = await self._step("open orders", ib.reqAllOpenOrdersAsync(), problems)
        if trades is not None:
            facts["open_orders"] = tuple(_order_fact(t) for t in trades)
        completed = await self._step("completed orders", ib.reqCompletedOrdersAsync(False), problems)
        if completed is not None:
            facts["completed_orders"] = tuple(_completed_fact(t) for t in completed)
        exec_filter = ExecutionFilter(time=_filter_time(since)) if since else ExecutionFilter()
        fills = await self._step("executions", ib.reqExecutionsAsync(exec_filter), problems)
        if fills is not None:
            known = ib.wrapper.fills  # commission reports attach to the first Fill seen for an execId
            facts["executions"] = tuple(
                _execution_fact(f, known.get(f.execution.execId))
                for f in fills
                if since is None or f.execution.time >= since
            )
        summary = await self._step("account summary", ib.accountSummaryAsync(), problems)
        if summary is not None:
            facts["account_summary"] = _funds(summary)
        if not problems and self._accounts:
            # One bounded read per account, side by side; a failure stays on that account's entry.
            facts["pnl"] = tuple(await asyncio.gather(*(self._read_pnl(ib, a) for a in self._accounts)))
        if self._lost:
            problems.append(f"connection to {self.host}:{self.port} lost")
        if problems and len(facts) < 5:  # the P&L reads come last and run only when nothing failed
            problems.append("remaining reads skipped")
        out["facts"] = facts
        out["problem"] = "; ".join(problems) or None

    async def _read_pnl(self, ib: Any, account: str) -> AccountPnL:
        """reqPnL for one account: wait for its first pnl update (or an error on its request id) within the
        request timeout, then cancel the subscription. Never raises."""
        answered: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        subscription: Any = None
        req_id: int | None = None

        def on_pnl(pnl: Any) -> None:
            if pnl is subscription and not answered.done():
                answered.set_result(None)

        def on_error(error_req_id: int, code: int, message: str, contract: Any) -> None:
            if req_id is not None and error_req_id == req_id and not answered.done():
                answered.set_result(f"error {code}: {message}")

        key = (account, "")
        ib.pnlEvent += on_pnl
        ib.errorEvent += on_error
        try:
            if key in ib.wrapper.pnlKey2ReqId:  # a subscription left over from an interrupted read
                ib.cancelPnL(account)
            subscription = ib.reqPnL(account)
            req_id = ib.wrapper.pnlKey2ReqId.get(key)
            try:
                problem = await asyncio.wait_for(asyncio.shield(answered), self.request_timeout)
            except (TimeoutError, asyncio.TimeoutError):
                problem = f"no pnl update within {self.request_timeout:g}s"
        except ConnectionError as exc:
            problem = f"connection lost ({exc})"
        except Exception as exc:  # report, do not raise
            problem = f"{type(exc).__name__}: {exc}"
        finally:
            ib.pnlEvent -= on_pnl
            ib.errorEvent -= on_error
            if key in ib.wrapper.pnlKey2ReqId:
                with contextlib.suppress(Exception):  # not connected any more: nothing left to cancel
                    ib.cancelPnL(account)
        if problem is not None or subscription is None:
            return AccountPnL(account, problem=redact_text(f"reqPnL: {problem}"))
        return AccountPnL(
            account,
            daily_pnl=_pnl_value(subscription.dailyPnL),
            unrealized_pnl=_pnl_value(subscription.unrealizedPnL),
            realized_pnl=_pnl_value(subscription.realizedPnL),
        )


# -- conversions ---------------------------------------------------------------------------------------------
def _disconnect_quietly(ib: Any) -> None:
    """ib_async's disconnect raises when the socket is already gone; the probe only wants it closed."""
    with contextlib.suppress(Exception):  # already disconnected: nothing left to close
        ib.disconnect()


def _price(value: float) -> float | None:
    return None if value is None or value >= 1e300 else float(value)


def _pnl_value(value: Any) -> float | None:
    """A reqPnL value: None for unset (NaN before any update, or TWS's UNSET_DOUBLE)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or abs(value) >= 1e300 else value


def _position_fact(p: Any) -> PositionFact:
    c = p.contract
    return PositionFact(p.account, c.symbol, c.secType, c.currency, float(p.position), float(p.avgCost))


def _order_common(trade: Any) -> dict[str, Any]:
    """The fields an open and a completed order read alike from an ib_async Trade."""
    o, c, s = trade.order, trade.contract, trade.orderStatus
    return {
        "perm_id": o.permId,
        "account": o.account,
        "symbol": c.symbol,
        "action": o.action,
        "quantity": float(o.totalQuantity),
        "order_type": o.orderType,
        "limit_price": _price(o.lmtPrice),
        "order_ref": o.orderRef,
        "status": s.status,
    }


def _order_fact(trade: Any) -> OrderFact:
    o, s = trade.order, trade.orderStatus
    return OrderFact(
        **_order_common(trade),
        order_id=o.orderId,
        client_id=o.clientId,
        tif=o.tif,
        outside_rth=bool(o.outsideRth),
        filled=float(s.filled),
        remaining=float(s.remaining),
    )


def _completed_fact(trade: Any) -> CompletedOrderFact:
    return CompletedOrderFact(**_order_common(trade), filled=float(_price(trade.order.filledQuantity) or 0.0))


def _execution_fact(fill: Any, known: Any) -> ExecutionFact:
    e, c = fill.execution, fill.contract
    report = (known or fill).commissionReport
    commission = report.commission if report is not None and report.execId else None
    return ExecutionFact(
        exec_id=e.execId,
        order_id=e.orderId,
        perm_id=e.permId,
        client_id=e.clientId,
        account=e.acctNumber,
        symbol=c.symbol,
        side=e.side,
        shares=float(e.shares),
        price=float(e.price),
        time=e.time,
        commission=commission,
        order_ref=e.orderRef,
    )


def _funds(values: Iterable[Any]) -> tuple[AccountFunds, ...]:
    by_account: dict[str, dict[str, Any]] = {}
    tags = {"TotalCashValue": "cash", "BuyingPower": "buying_power", "NetLiquidation": "net_liquidation"}
    for v in values:
        if v.tag in tags and v.account and v.account != "All":
            entry = by_account.setdefault(v.account, {"currency": v.currency})
            try:
                entry[tags[v.tag]] = float(v.value)
            except ValueError:
                continue
    return tuple(AccountFunds(account=a, **fields) for a, fields in sorted(by_account.items()))


def _filter_time(since: datetime) -> str:
    """ExecutionFilter time in the UTC form `yyyymmdd-hh:mm:ss` (unambiguous whatever the gateway's zone)."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return f"{since.astimezone(timezone.utc):%Y%m%d-%H:%M:%S}"


def probe_gateway(
    host: str = "127.0.0.1",
    port: int = 4002,
    client_id: int = PROBE_CLIENT_ID,
    *,
    executions_since: datetime | None = None,
    connect_timeout: float = 5.0,
    request_timeout: float = 5.0,
) -> GatewayFacts:
    """One-shot: open, read everything, close."""
    with GatewayProbe(
        host, port, client_id, connect_timeout=connect_timeout, request_timeout=request_timeout
    ) as probe:
        facts = probe.open()
        return facts if facts.problem else probe.snapshot(executions_since)


__all__ = [
    "ERROR_CODES",
    "AccountFunds",
    "AccountPnL",
    "CompletedOrderFact",
    "ExecutionFact",
    "GatewayFacts",
    "GatewayProbe",
    "OrderFact",
    "PositionFact",
    "probe_gateway",
]
