"""`harness halt`: the seed's emergency procedure, done by the harness as far as it safely can.

1. Look first, read-only and bounded: a gateway that does not answer as expected (down, silent, no accounts,
   an account that is neither paper nor live) is never touched again: one line says why, nothing was done.
2. Decide. Paper (every managed account DU/DF/DI, a paper port, the bot's .env PAPER_TRADING=true and
   DRY_RUN=false: `test_order.prove_paper`, the proof the test order uses): go on. A LIVE account: refused
   unless the operator typed each live account id in full (`--confirm-account U1234567`), and then the
   harness only cancels orders: it never places one, so it never opens or closes a position. A drill never
   acts on a live account.
3. Stop the bot process where psutil sees it (`stop_bot`), so it places nothing new.
4. Connect (not read-only, its own client id), prove the same accounts again on that connection, list the open
   orders, send one global cancel (reqGlobalCancel: every order of every client), and wait, bounded, until
   the gateway lists no open order. An order that stays open is reported, never called cancelled.
5. List the positions to close by hand (account ids masked), and what else is left for the operator.

The caller records the result (`incident`): an incident for a real halt, a drill for `--drill`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.actions.stop_bot import StopResult, stop_bot_processes
from harness.actions.test_order import prove_paper
from harness.checks import advice
from harness.core.ibkr import account_is_paper
from harness.core.redact import mask_account, masked_repr
from harness.evidence.incidents import DRILL, INCIDENT, HaltRecord, now_text
from harness.probes.gateway import describe_error

LIVE_PORTS = frozenset({4001, 7496})  # IB Gateway's and TWS's live ports
DONE_STATES = frozenset({"Cancelled", "ApiCancelled", "Filled", "Inactive"})
QUIET_CODES = frozenset({202})  # "order cancelled": what the halt asked for
POLL_SECONDS = 0.25
BY_HAND = "by hand in the IBKR portal"
ESCALATE = "escalate to the CRO / Red Team for incident review; do NOT resume until the root cause is identified"


@dataclass(frozen=True, slots=True, repr=False)
class GatewayHalt:
    """What the halt did at one gateway. `refused`: nothing was sent to it (why). `problem`: it stopped part way."""

    gateway: str
    why: str = "--gateway"  # how the halt came to this gateway
    drill: bool = False
    refused: str | None = None
    problem: str | None = None
    live: bool = False
    accounts: tuple[str, ...] = ()  # masked
    open_before: tuple[str, ...] = ()  # the orders open when the cancel was sent
    cancel_sent: bool = False
    still_open: tuple[str, ...] = ()  # orders the gateway still listed when the wait ended
    waited: float = 0.0
    positions: tuple[str, ...] = ()  # to close by hand
    gateway_said: tuple[str, ...] = ()  # the gateway's errors on the halt's connection ("error 161: ..."), in order
    listed_open: tuple[str, ...] = ()  # refused, but read: the orders open there, for the operator to cancel

    __repr__ = masked_repr

    @property
    def settled(self) -> bool:
        """The cancel was sent and confirmed: nothing is left open at this gateway."""
        return self.refused is None and self.problem is None and self.cancel_sent and not self.still_open

    @property
    def outcome(self) -> str:
        if self.refused:
            return f"refused: {self.refused}"
        if self.problem:
            return f"incomplete: {self.problem}"
        if self.still_open:
            return f"incomplete: {len(self.still_open)} order(s) still open after {self.waited:.0f} s"
        return "every open order cancelled" if self.cancel_sent else "nothing sent"

    @property
    def done(self) -> tuple[str, ...]:
        if not self.cancel_sent:
            return ()
        done = [f"sent one global cancel (reqGlobalCancel) to {self.gateway} with {len(self.open_before)} order(s) "
                "open"]
        if not self.still_open:
            done.append(f"{self.gateway} lists no open order any more ({self.waited:.1f} s after the cancel)")
        return tuple(done)

    @property
    def left(self) -> tuple[str, ...]:
        left: list[str] = []
        if self.refused or self.problem or not self.cancel_sent:
            if self.listed_open:
                left += [f"cancel {BY_HAND}, it is open at {self.gateway}: {order}" for order in self.listed_open]
            else:
                left.append(f"cancel every open order at {self.gateway} {BY_HAND} (the harness could not confirm it "
                            "did)")
        left += [f"cancel {BY_HAND}, it is still open at {self.gateway}: {order}" for order in self.still_open]
        if self.still_open and self.gateway_said:
            left.append(f"{self.gateway} said: {'; '.join(self.gateway_said)}")
        left += [f"close {BY_HAND} (Portfolio -> Positions): {position}" for position in self.positions]
        return tuple(left)


@dataclass(frozen=True, slots=True, repr=False)
class HaltResult:
    """The whole halt: the bot stopped (first), then every gateway the bot could reach. `refused`: nothing at all
    was done (why)."""

    drill: bool = False
    bot: StopResult | None = None
    gateways: tuple[GatewayHalt, ...] = ()
    warnings: tuple[str, ...] = ()  # the seed's accidental-live case, named
    refused: str | None = None

    __repr__ = masked_repr

    @property
    def gateway(self) -> str:
        return ", ".join(g.gateway for g in self.gateways) or "no gateway"

    @property
    def live(self) -> bool:
        return any(g.live for g in self.gateways)

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for g in self.gateways for a in g.accounts))

    def _every(self, name: str) -> tuple[str, ...]:
        """Every gateway's `name` (a tuple of texts), in the order the gateways were read."""
        return tuple(text for g in self.gateways for text in getattr(g, name))

    @property
    def open_before(self) -> tuple[str, ...]:
        return self._every("open_before")

    @property
    def still_open(self) -> tuple[str, ...]:
        return self._every("still_open")

    @property
    def gateway_said(self) -> tuple[str, ...]:
        return self._every("gateway_said")

    @property
    def positions(self) -> tuple[str, ...]:
        return self._every("positions")

    @property
    def cancel_sent(self) -> bool:
        return any(g.cancel_sent for g in self.gateways)

    @property
    def complete(self) -> bool:
        """The bot was seen stopped, every gateway it could reach was read and cancelled, nothing is left open."""
        return (self.refused is None and self.bot is not None and self.bot.seen_stopped and bool(self.gateways)
                and all(g.settled for g in self.gateways))

    @property
    def outcome(self) -> str:
        if self.refused:
            return f"refused: {self.refused}"
        if self.complete:
            return "complete"
        parts = [] if self.bot is not None and self.bot.seen_stopped else ["the bot may still run"]
        parts += [f"{g.gateway}: {g.outcome}" for g in self.gateways if not g.settled]
        return "incomplete: " + "; ".join(parts)

    @property
    def done(self) -> tuple[str, ...]:
        done: list[str] = list(self.bot.done) if self.bot is not None else []
        for g in self.gateways:
            done += g.done
        return tuple(done)

    @property
    def left(self) -> tuple[str, ...]:
        left: list[str] = list(self.warnings)
        if self.bot is None:
            left.append(f"stop the bot by hand ({advice.stop_the_bot()})")
        else:
            left += self.bot.left
        for g in self.gateways:
            left += g.left
        if not self.gateways:
            left.append(f"cancel every open order {BY_HAND} (no gateway was read)")
        if self.live or self.warnings:
            left.append("verify the .env (DRY_RUN, PAPER_TRADING, IBKR_HOST, IBKR_PORT) and that the bot's gateway is "
                        "the paper one (port 4002) before anything restarts")
        if not self.drill:
            left.append(ESCALATE)
        return tuple(left)

    def record(self, reason: str) -> HaltRecord:
        """The incident (or drill) record of this halt."""
        return HaltRecord(DRILL if self.drill else INCIDENT, now_text(), reason=reason, outcome=self.outcome,
                          gateway=self.gateway, accounts=self.accounts, done=self.done, left=self.left)


@dataclass(frozen=True, slots=True)
class HaltRequest:
    host: str
    port: int
    client_id: int  # the halt's own connection; its read-only look uses client_id + 1
    env_values: Mapping[str, str | None] | None  # the bot's .env, None when none was given
    bot_process: str
    confirm_accounts: tuple[str, ...] = ()
    drill: bool = False
    wait: float = 30.0  # how long the cancelled orders may take to go
    timeout: float = 10.0  # each network step
    stop_timeout: float = 10.0
    say: Any = field(default=lambda line: None, compare=False)  # progress lines for the terminal
    live_port: int | None = None  # --live-gateway-port: the live gateway beside the paper one, on the same host
    bot_dir: Any = None  # the bot's directory (Path): which matching processes are the bot's
    pid: int | None = None  # --pid: the bot's process, when several match

    @property
    def gateway(self) -> str:
        return f"{self.host}:{self.port}"

    def targets(self) -> tuple[Target, ...]:
        """Every gateway the bot could reach, each once: --gateway, the bot's .env (IBKR_HOST:IBKR_PORT), and the
        live gateway (--live-gateway-port)."""
        found: dict[tuple[str, int], Target] = {}
        candidates = [Target(self.host, self.port, "--gateway")]
        env = env_gateway(self.env_values)
        if env is not None:
            candidates.append(Target(*env, "the bot's .env (IBKR_HOST:IBKR_PORT)"))
        if self.live_port is not None:
            candidates.append(Target(self.host, self.live_port, "--live-gateway-port"))
        for target in candidates:
            found.setdefault((_normal(target.host), target.port), target)
        return tuple(found.values())

    def accidental_live(self) -> tuple[str, ...]:
        """The seed's "Gateway Connection to Wrong Account", named when the .env says so."""
        env = env_gateway(self.env_values)
        if env is None:
            return ()
        host, port = env
        found = []
        if port in LIVE_PORTS:
            found.append(f"ACCIDENTAL LIVE TRADING: the bot's .env says IBKR_PORT={port}, a LIVE port (paper is 4002 "
                         "on IB Gateway, 7497 on TWS): the seed's 'Gateway connection to wrong account'")
        if (_normal(host), port) != (_normal(self.host), self.port):
            found.append(f"the bot's .env points at {host}:{port}, not at --gateway {self.gateway}: the halt read "
                         "both")
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    why: str  # how the halt came to it

    @property
    def gateway(self) -> str:
        return f"{self.host}:{self.port}"


def _normal(host: str) -> str:
    return "127.0.0.1" if host.strip().lower() in {"localhost", "127.0.0.1", "::1"} else host.strip().lower()


def env_gateway(values: Mapping[str, str | None] | None) -> tuple[str, int] | None:
    """(IBKR_HOST, IBKR_PORT) of the bot's .env (host default localhost), None when it names no valid port."""
    if not values:
        return None
    try:
        port = int(str(values.get("IBKR_PORT") or "").strip())
    except ValueError:
        return None
    host = str(values.get("IBKR_HOST") or "localhost").strip() or "localhost"
    return (host, port) if 0 < port < 65536 else None


def _order_text(trade: Any) -> str:
    o, c, s = trade.order, trade.contract, trade.orderStatus
    price = f" @ {o.lmtPrice:g}" if o.orderType == "LMT" and o.lmtPrice is not None and o.lmtPrice < 1e300 else ""
    return (f"order {o.orderId} (client {o.clientId}, perm {o.permId}) {o.action} {float(o.totalQuantity):g} "
            f"{c.symbol} {o.orderType}{price} in {mask_account(o.account)} ({s.status or 'open'})")


def _position_text(position: Any) -> str:
    c = position.contract
    side = "long" if position.position > 0 else "short"
    return (f"{side} {abs(float(position.position)):g} {c.symbol} ({c.secType}, {c.currency}) in "
            f"{mask_account(position.account)}")


def _decide(request: HaltRequest, target: Target, accounts: Sequence[str]) -> tuple[bool, str | None]:
    """(live, refusal): whether the gateway is live, and why the halt may not act on it (None: it may)."""
    if not accounts:
        return False, f"the gateway at {target.gateway} reported no managed account"
    kinds = {account: account_is_paper(account) for account in accounts}
    unknown = [a for a, paper in kinds.items() if paper is None]
    if unknown:
        return False, (f"the gateway at {target.gateway} reports account(s) "
                       f"{', '.join(mask_account(a) for a in unknown)}, neither paper nor live")
    live = sorted(a for a, paper in kinds.items() if paper is False)
    if not live:
        ok, reason = prove_paper(accounts, target.port, request.env_values or {})
        if not ok:
            given = "" if request.env_values is not None else " (no .env given: --bot-dir or --bot-env)"
            return False, f"paper is not proven: {reason}{given}"
        return False, None
    masked = ", ".join(mask_account(a) for a in live)
    if request.drill:
        return True, f"the gateway at {target.gateway} is logged into the LIVE account(s) {masked}: a drill never " \
                     "acts on a live account"
    typed = {a.strip().upper() for a in request.confirm_accounts if a.strip()}
    strangers = sorted(typed - {a.upper() for a in accounts})
    if strangers:
        return True, (f"--confirm-account {', '.join(mask_account(a) for a in strangers)} is not an account of the "
                      f"gateway at {target.gateway} (it has {', '.join(mask_account(a) for a in accounts)})")
    missing = [a for a in live if a.upper() not in typed]
    if missing:
        return True, (f"the gateway at {target.gateway} is logged into the LIVE account(s) {masked}: the harness "
                      "acts on a live account only when you type its full id (--confirm-account ACCOUNT, once per "
                      "live account), and then only cancels its orders")
    return True, None


@contextlib.contextmanager
def _quiet_ib_async() -> Iterator[None]:
    """ib_async logs its own errors (202 order cancelled...); the halt reports them itself, one line each."""
    logger = logging.getLogger("ib_async")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def halt(request: HaltRequest) -> HaltResult:
    """Do what `harness halt` does (module docstring). Never raises for a fault of the world; bounded."""
    from harness.probes.ib_environment import environment_problem

    warnings = request.accidental_live()
    bot = None
    if not request.drill:  # an emergency: the bot stops first, whatever the gateways say
        bot = _stop_bot(request)
    problem = environment_problem()
    if problem is not None:
        return HaltResult(request.drill, bot, warnings=warnings, refused=None if bot is not None else problem,
                          gateways=(GatewayHalt(request.gateway, drill=request.drill, refused=problem),))
    gateways = []
    with _quiet_ib_async():
        for target in request.targets():
            gateway, bot = _halt_gateway(request, target, bot)
            gateways.append(gateway)
    if request.drill and bot is None:  # a drill acts only where paper is proven: here, nowhere
        return HaltResult(True, None, tuple(gateways), warnings, refused=gateways[0].refused)
    return HaltResult(request.drill, bot, tuple(gateways), warnings)


def _stop_bot(request: HaltRequest) -> StopResult:
    where = f" in {request.bot_dir}" if request.bot_dir is not None else ""
    request.say(f"harness: stopping the bot first (processes whose command line holds {request.bot_process!r}"
                f"{where})...")
    return stop_bot_processes(request.bot_process, bot_dir=request.bot_dir, pid=request.pid,
                              timeout=request.stop_timeout)


def _halt_gateway(request: HaltRequest, target: Target,
                  bot: StopResult | None) -> tuple[GatewayHalt, StopResult | None]:
    """Look at one gateway (read-only), decide, and cancel there; a drill stops the bot once paper is proven."""
    from harness.probes.gateway import GatewayProbe

    base = {"gateway": target.gateway, "why": target.why, "drill": request.drill}
    request.say(f"harness: reading the gateway {target.gateway} ({target.why}; read-only, timeout "
                f"{request.timeout:g} s)...")
    # Its own client id: a real gateway may hold the one just disconnected for a moment (error 326).
    with GatewayProbe(target.host, target.port, request.client_id + 1, connect_timeout=request.timeout,
                      request_timeout=request.timeout) as probe:
        facts = probe.open()
        if facts.problem or not facts.handshake_ok:
            return GatewayHalt(**base, refused=f"the gateway at {target.gateway} does not answer as expected "
                                               f"({facts.problem or 'no handshake'}): nothing was sent to it"), bot
        accounts = tuple(facts.accounts)
        live, refusal = _decide(request, target, accounts)
        masked = tuple(mask_account(a) for a in accounts)
        if refusal:
            listed = probe.snapshot().open_orders if not request.drill else ()
            return GatewayHalt(**base, refused=refusal, live=live, accounts=masked,
                               listed_open=tuple(_order_fact_text(o) for o in listed)), bot
    if bot is None:
        bot = _stop_bot(request)
    request.say(f"harness: global cancel on the {'LIVE' if live else 'paper'} gateway {target.gateway}, then "
                f"waiting up to {request.wait:g} s for every open order to go...")
    outcome: concurrent.futures.Future[GatewayHalt] = concurrent.futures.Future()

    def run() -> None:  # its own thread and event loop: never disturbs a caller's loop
        try:
            outcome.set_result(asyncio.run(_cancel_all(request, target, accounts, live, masked)))
        except BaseException as exc:  # reported, not raised
            outcome.set_result(GatewayHalt(**base, live=live, accounts=masked, problem=f"{type(exc).__name__}: {exc}"))

    threading.Thread(target=run, name="harness-halt", daemon=True).start()
    bound = 4 * request.timeout + request.wait + 5
    try:
        return outcome.result(bound), bot
    except concurrent.futures.TimeoutError:
        return GatewayHalt(**base, live=live, accounts=masked,
                           problem=f"the gateway did not finish within {bound:g} s"), bot


def _order_fact_text(order: Any) -> str:
    price = f" @ {order.limit_price:g}" if order.limit_price is not None else ""
    return (f"order {order.order_id} (client {order.client_id}, perm {order.perm_id}) {order.action} "
            f"{float(order.quantity):g} {order.symbol} {order.order_type}{price} in {mask_account(order.account)} "
            f"({order.status or 'open'})")


async def _cancel_all(request: HaltRequest, target: Target, accounts: tuple[str, ...], live: bool,
                      masked: tuple[str, ...]) -> GatewayHalt:
    from ib_async import IB, StartupFetch

    common: dict[str, Any] = {"gateway": target.gateway, "why": target.why, "drill": request.drill, "live": live,
                              "accounts": masked}
    ib = IB()
    ib.RequestTimeout = request.timeout
    said: dict[str, None] = {}  # the gateway's errors, first seen first (an ordered set)

    def on_error(req_id: int, code: int, message: str, contract: Any) -> None:
        if code not in QUIET_CODES and not 2100 <= code < 2200:  # cancels confirmed, farm status: not news
            said.setdefault(describe_error(code, message))

    ib.errorEvent += on_error
    cancel_sent = False
    try:
        try:
            await asyncio.wait_for(ib.connectAsync(target.host, target.port, clientId=request.client_id,
                                                   timeout=request.timeout, readonly=False,
                                                   fetchFields=StartupFetch.POSITIONS), request.timeout + 1)
        except (OSError, TimeoutError, asyncio.TimeoutError, ConnectionError) as exc:
            return GatewayHalt(**common, problem=f"cannot connect to {target.gateway} to cancel: "
                                                f"{type(exc).__name__} {exc}".rstrip())
        now = tuple(ib.managedAccounts())
        if sorted(now) != sorted(accounts) or _decide(request, target, now) != (live, None):
            return GatewayHalt(**common, problem=f"the gateway's accounts changed between the two connections "
                                                f"({', '.join(mask_account(a) for a in now)}): nothing was sent")
        before = await asyncio.wait_for(ib.reqAllOpenOrdersAsync(), request.timeout)
        open_before = tuple(_order_text(t) for t in before if t.orderStatus.status not in DONE_STATES)
        ib.reqGlobalCancel()  # the one request of the halt that changes anything: it only ever cancels
        cancel_sent = True
        started = time.monotonic()
        remaining: list[Any] = []
        while True:
            listed = await asyncio.wait_for(ib.reqAllOpenOrdersAsync(), request.timeout)
            remaining = [t for t in listed if t.orderStatus.status not in DONE_STATES]
            if not remaining or time.monotonic() - started >= request.wait:
                break
            await asyncio.sleep(POLL_SECONDS)
        waited = time.monotonic() - started
        positions = await asyncio.wait_for(ib.reqPositionsAsync(), request.timeout)
        return GatewayHalt(**common, open_before=open_before, cancel_sent=True,
                          still_open=tuple(_order_text(t) for t in remaining), waited=waited,
                          positions=tuple(_position_text(p) for p in positions if p.position),
                          gateway_said=tuple(said))
    except (TimeoutError, asyncio.TimeoutError):
        return GatewayHalt(**common, cancel_sent=cancel_sent,
                           problem=f"the gateway stopped answering (timeout {request.timeout:g} s)")
    except ConnectionError as exc:
        return GatewayHalt(**common, cancel_sent=cancel_sent,
                           problem=f"connection to {target.gateway} lost: {exc}")
    finally:
        with contextlib.suppress(Exception):
            ib.disconnect()
