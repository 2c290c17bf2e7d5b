"""Order routing, accounts and funds checks (the seed's Step 0 account item, Step 1.3 and Step 4).

Pure: gateway facts (harness.probes.gateway), the bot's logged orders (harness.probes.reconcile) and session facts
(harness.probes.market) in; `CheckFailed` / `CouldNotLook` out, or notes for the evidence when the check passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from harness.checks import CheckFailed, CouldNotLook
from harness.core.ibkr import account_is_paper
from harness.core.redact import mask_account, redact_text
from harness.probes.bot_log import BotActivity, NewestStart
from harness.probes.gateway import GatewayFacts
from harness.probes.market import SessionFacts
from harness.probes.reconcile import (
    BotOrderLog,
    LoggedOrder,
    Reconciliation,
    broker_orders,
    describe_broker,
    describe_logged,
    reconcile,
)

LIVE_HINT = "give --live-gateway-port PORT (a gateway logged into the LIVE account, read-only)"


def _masked(accounts: Sequence[str]) -> str:
    return ", ".join(mask_account(a) for a in accounts) or "(none)"


def require_readable(facts: GatewayFacts | None, why_not: str) -> GatewayFacts:
    """The facts when the probe could read the gateway; CouldNotLook otherwise (never a pass)."""
    if facts is None:
        raise CouldNotLook(why_not)
    if not facts.ok:
        raise CouldNotLook(f"the gateway at {facts.host}:{facts.port} could not be read: "
                           f"{redact_text(facts.problem or 'no handshake')}")
    return facts


def reconcile_with_paper(bot: BotOrderLog, facts: GatewayFacts | None, why_not: str,
                         client_id: int | None, earlier: BotOrderLog | None = None) -> Reconciliation:
    """The bot's logged orders against the paper account's, for check_orders_in_paper and the checks after it
    (`earlier`: what earlier starts since the switch logged); CouldNotLook when the gateway was not read or the
    .env's IBKR_CLIENT_ID is not an integer."""
    readable = require_readable(facts, why_not)
    if client_id is None:
        raise CouldNotLook("IBKR_CLIENT_ID is not an integer in the bot's .env: the bot's orders cannot be told")
    return reconcile(bot.orders, broker_orders(readable), client_id, bot.rejections,
                     earlier.orders if earlier is not None else ())


def check_gateway_answers(facts: GatewayFacts | None, why_not: str) -> str:
    """The gateway answers on the configured port; returns a note (server version, port kind)."""
    if facts is None:
        raise CouldNotLook(why_not)
    if not facts.ok:
        raise CheckFailed(
            "The paper gateway does not answer",
            f"gateway down at {facts.host}:{facts.port}: {redact_text(facts.problem or 'no handshake')}. "
            "Start IB Gateway, log into the PAPER account, and check API > Settings (port 4002, "
            "'Enable ActiveX and Socket Clients', 127.0.0.1 trusted)",
        )
    kind = {True: "a paper port", False: "a LIVE port", None: "a custom port"}[facts.paper_port]
    return f"gateway at {facts.host}:{facts.port} answered (server version {facts.server_version}; {kind})"


def check_accounts_paper(facts: GatewayFacts, paper_trading: bool | None = True) -> str:
    """Every managed account is a paper one (DU/DF/DI). A live account is critical: halt the bot."""
    if not facts.accounts:
        raise CouldNotLook(f"the gateway at {facts.host}:{facts.port} listed no managed account")
    live = [a for a in facts.accounts if account_is_paper(a) is False]
    unknown = [a for a in facts.accounts if account_is_paper(a) is None]
    mode = "while PAPER_TRADING=true" if paper_trading else "on the paper gateway"
    if live:
        raise CheckFailed(
            "Wrong account, halt the bot",
            f"the gateway at {facts.host}:{facts.port} is logged into LIVE account(s) {_masked(live)} {mode}: "
            "log the gateway out and back into the PAPER account (DU...) before the bot runs again",
            critical=True,
        )
    if unknown:
        raise CheckFailed(
            "Account kind unknown",
            f"the gateway at {facts.host}:{facts.port} manages {_masked(unknown)}, neither a paper (DU/DF/DI) "
            "nor a live (U/F/I) account id: confirm in the IBKR portal which account this is",
        )
    return f"managed accounts {_masked(facts.accounts)}: all paper"


def check_account_summary(facts: GatewayFacts) -> list[str]:
    """Cash, buying power and net liquidation are known for every managed account."""
    by_account = {f.account: f for f in facts.account_summary}
    incomplete = []
    notes = []
    for account in facts.accounts:
        funds = by_account.get(account)
        absent = ["account summary"] if funds is None else [
            name for name, value in (("cash", funds.cash), ("buying power", funds.buying_power),
                                     ("net liquidation", funds.net_liquidation)) if value is None]
        if absent:
            incomplete.append(f"{mask_account(account)}: no {', '.join(absent)}")
        else:
            notes.append(f"{mask_account(account)}: cash {funds.cash:,.2f}, buying power {funds.buying_power:,.2f}, "
                         f"net liquidation {funds.net_liquidation:,.2f} {funds.currency}")
    if incomplete:
        raise CheckFailed("The account summary is incomplete", "; ".join(incomplete))
    if not notes:
        raise CouldNotLook("the gateway listed no account to summarise")
    return notes


def check_no_positions_or_orders(facts: GatewayFacts, declared: Sequence[tuple[str, float]] = ()) -> str | None:
    """Step 1.3: zero open positions and zero open orders in the paper account before the switch, except the
    positions the operator declared (--declared-positions), which must then be there exactly."""
    held: dict[str, float] = {}
    for p in facts.positions:
        if p.quantity:
            held[p.symbol.upper()] = held.get(p.symbol.upper(), 0.0) + p.quantity
    expected = {symbol.upper(): quantity for symbol, quantity in declared}
    parts = [f"position {qty:g} {symbol} (declared {expected.get(symbol, 0):g})"
             for symbol, qty in sorted(held.items()) if expected.get(symbol) != qty]
    parts += [f"declared position {qty:g} {symbol} not held" for symbol, qty in sorted(expected.items())
              if symbol not in held and qty]
    parts += [f"open order {o.action} {o.quantity:g} {o.symbol} ({o.status}) in {mask_account(o.account)}"
              for o in facts.open_orders]
    if parts:
        raise CheckFailed(
            "Open positions or orders before the switch",
            f"{'; '.join(parts)}. Close the positions and cancel the orders manually before proceeding, or "
            "declare the positions that stay (--declared-positions SYMBOL:QTY)",
        )
    if expected:
        return "declared positions held exactly: " + ", ".join(f"{s} {q:g}" for s, q in sorted(expected.items()))
    return None


def require_started(start: NewestStart) -> None:
    """The orders of the bot's newest start can be read only when there is a newest start."""
    if start.problem is not None:
        raise CouldNotLook(start.problem)
    if start.block is None:
        raise CouldNotLook(f"no startup block found in {start.spec}: has the bot been started since the switch?")


def check_bot_connected(client_id: int | None, facts: GatewayFacts | None, why_no_gateway: str,
                        since: datetime | None, logged_order_ids: Sequence[int], established_where: str | None,
                        block_where: str, zone_text: str = "") -> str:
    """The gateway has seen the bot (its .env's IBKR_CLIENT_ID) since the bot's newest start. Returns a note.

    What can honestly be observed. An API client is never told which other clients a gateway serves (ib_async
    has no such request; a real IB Gateway shows its API connections only in its own window), and connecting
    with the bot's client id to provoke error 326 would disturb the bot, so it is never done. What the gateway
    does tell a read-only client is its orders and executions, each carrying the client id that placed it:
    an execution from the bot's client id at or after the newest start, or an open order or execution from
    that client id whose order id the bot logged in its newest startup block ("Order submitted: id=N"; order
    ids only grow, so an older run's order cannot carry it), proves the bot was connected after it started.
    That passes. Without it the check cannot see the connection: "operator to confirm" (look at the
    gateway's API connections for the client id), never a pass. The bot's "Gateway connection established"
    line alone is never enough: it may be days old, the gateway may be down or have dropped the bot since.
    The check fails when the bot's own newest startup block never says the connection was established and
    the gateway shows nothing from the bot either.
    """
    if client_id is None:
        raise CouldNotLook("IBKR_CLIENT_ID is not an integer in the bot's .env: the bot's connection cannot be told")
    claim = (f"its log's {established_where!r} line alone is not proof" if established_where
             else f"its newest startup block ({block_where}) never says 'Gateway connection established'")
    started = f"since the bot's newest start at {since.isoformat()}" if since else "since the bot's newest start"
    if zone_text and since:
        started += f" (log times read as {zone_text})"
    if facts is None or not facts.ok:
        why = why_no_gateway
        if facts is not None:
            why = f"the gateway at {facts.host}:{facts.port} could not be read: {redact_text(facts.problem or '?')}"
        if established_where is None:
            raise CheckFailed("The bot is not connected to the gateway", f"{claim}, and {why}")
        raise CouldNotLook(f"{why}; whether the bot (client id {client_id}) is connected cannot be seen, and {claim}")
    logged = set(logged_order_ids)
    # IB stamps executions to the second; the log's start has milliseconds.
    floor = since.replace(microsecond=0) if since is not None else None
    seen = [f"open order id {o.order_id}" for o in facts.open_orders
            if o.client_id == client_id and o.order_id in logged]
    seen += [f"execution of order id {e.order_id}" + (f" at {e.time.isoformat()}" if e.time else "")
             for e in facts.executions if e.client_id == client_id and (
                 e.order_id in logged or (floor is not None and e.time is not None and e.time >= floor))]
    if seen:
        shown = ", ".join(seen[:5]) + (f" and {len(seen) - 5} more" if len(seen) > 5 else "")
        return (f"the gateway at {facts.host}:{facts.port} holds {len(seen)} record(s) from client id {client_id} "
                f"placed {started}: {shown}")
    if established_where is None:
        raise CheckFailed("The bot is not connected to the gateway",
                          f"the gateway at {facts.host}:{facts.port} shows no order or execution from client id "
                          f"{client_id} {started}, and {claim}")
    raise CouldNotLook(
        f"the gateway at {facts.host}:{facts.port} shows no order or execution from client id {client_id} "
        f"{started}, and a gateway does not list its other API clients: look in the gateway's window for an API "
        f"connection with client id {client_id} ({claim})")


def check_bot_connected_since_start(activity: BotActivity, client_id: int | None, facts: GatewayFacts | None,
                                    why_no_gateway: str) -> str:
    """check_bot_connected on what the bot logged since its newest start: its orders' ids and its 'connection
    established' line."""
    claim = activity.connected_claim
    return check_bot_connected(client_id, facts, why_no_gateway, activity.since,
                               [order.order_id for order in activity.orders.orders],
                               claim.where if claim is not None else None, activity.where, activity.start.zone)


def check_orders_in_paper(bot: BotOrderLog, rec: Reconciliation, facts: GatewayFacts) -> list[str]:
    """Every logged order is in the (paper) account; nothing unknown from the bot's client id. Returns the
    per-order report lines."""
    if not bot.orders:
        raise CouldNotLook("the bot logged no 'Order submitted' line since its newest start: give it a test "
                           "gameplan (Strategy A or B) and run this again")
    accounts = {m.broker.account for m in rec.matched if m.broker is not None and m.broker.account}
    live = sorted(a for a in accounts if account_is_paper(a) is False)
    if live:
        raise CheckFailed("Wrong account, halt the bot",
                          f"the bot's orders are in LIVE account(s) {_masked(live)}", critical=True)
    problems = []
    if rec.missing:
        problems.append(f"{len(rec.missing)} logged order(s) not in the account: "
                        + "; ".join(f"{describe_logged(o)} ({o.where})" for o in rec.missing))
    if rec.mismatched:
        problems.append(f"{len(rec.mismatched)} order(s) differ: " + "; ".join(
            f"{describe_logged(m.logged)}: " + ", ".join(f"{f} logged {a}, account {b}" for f, a, b in m.fields)
            for m in rec.mismatched))
    if rec.unknown:
        problems.append(f"{len(rec.unknown)} order(s) from client id {rec.client_id} the bot did not log: "
                        + "; ".join(describe_broker(r) for r in rec.unknown))
    if problems:
        raise CheckFailed("Orders do not reconcile with the paper account",
                          f"at {facts.host}:{facts.port}: " + ". ".join(problems))
    return [f"{describe_logged(m.logged)}: {m.status}" + (f" ({m.reason})" if m.reason else "")
            + f" [by {m.matched_by}]" for m in rec.matched] + [
        f"{describe_broker(r)}: logged by an earlier start since the switch, still in the account"
        for r in rec.earlier_starts]


def check_no_live_orders(facts: GatewayFacts | None, since: datetime | None, bot_client_id: int | None = None,
                         bot_refs: Sequence[str] = ()) -> str:
    """The LIVE account shows no open order, no execution since the bot started, and no execution or completed
    order of the bot's (its client id or one of its order refs, whenever today). Any is critical."""
    if facts is None:
        raise CouldNotLook(f"no order in the live account: {LIVE_HINT}")
    if not facts.ok:
        raise CouldNotLook(f"the live gateway at {facts.host}:{facts.port} could not be read "
                           f"({redact_text(facts.problem or 'no handshake')}): confirm in the live account")
    if not any(account_is_paper(account) is False for account in facts.accounts):
        # A paper gateway given as the live one would make this check pass without looking at the live account.
        shown = ", ".join(mask_account(a) for a in facts.accounts) or "no account"
        raise CouldNotLook(f"the gateway given as live ({facts.host}:{facts.port}) is logged into {shown}, not a "
                           "live (U...) account: confirm in the live account that there is no order")
    refs = {r for r in bot_refs if r}

    def the_bots(client_id: int | None, ref: str) -> bool:
        return (bot_client_id is not None and client_id == bot_client_id) or ref in refs

    executions = [e for e in facts.executions
                  if since is None or e.time is None or e.time >= since or the_bots(e.client_id, e.order_ref)]
    completed = [c for c in facts.completed_orders if c.order_ref in refs]
    window = f"since {since:%Y-%m-%d %H:%M:%S %Z}" if since is not None else "in what the gateway returned"
    if facts.open_orders or executions or completed:
        parts = [f"open order {o.action} {o.quantity:g} {o.symbol} ({o.status}, client {o.client_id}) in "
                 f"{mask_account(o.account)}" for o in facts.open_orders]
        parts += [f"execution {e.side} {e.shares:g} {e.symbol} at {e.time} (client {e.client_id}, ref "
                  f"{e.order_ref or '-'}) in {mask_account(e.account)}" for e in executions]
        parts += [f"completed order {c.action} {c.quantity:g} {c.symbol} ({c.status}, ref {c.order_ref}) in "
                  f"{mask_account(c.account)}" for c in completed]
        raise CheckFailed(
            "ORDERS IN THE LIVE ACCOUNT",
            f"{len(facts.open_orders)} open order(s), {len(executions)} execution(s) ({window} or the bot's) and "
            f"{len(completed)} completed order(s) with the bot's order refs in {_masked(facts.accounts)}: "
            f"{'; '.join(parts)}. Cancel every live order and close live positions in the IBKR portal, then "
            "escalate to the CRO / Red Team",
            critical=True,
        )
    return (f"live account(s) {_masked(facts.accounts)}: no open order, no execution {window}, nothing from the "
            f"bot's client id {bot_client_id} or order refs {sorted(refs)}")


def rejections_of(bot: BotOrderLog) -> list[tuple[LoggedOrder | None, str, str]]:
    """(order, code, reason) for each order the bot logged as rejected (201, or Cancelled/Inactive + reason)."""
    by_id = {o.order_id: o for o in bot.orders}
    return [(by_id.get(r.order_id), str(r.code), r.reason) for r in bot.rejections]


def check_rejections(bot: BotOrderLog, expect_rejections: bool) -> list[str]:
    """Rejected orders are listed; they fail unless --expect-rejections says they are expected."""
    found = rejections_of(bot)
    if not found:
        if not bot.orders:
            raise CouldNotLook("the bot logged no order since its newest start, so no rejection could be seen")
        return [f"{len(bot.orders)} order(s) logged, none rejected"]
    funds = [r for r in bot.rejections if r.insufficient_funds]
    listing = "; ".join(
        f"{describe_logged(order) if order else '?'}: error {code} {reason}" for order, code, reason in found)
    if expect_rejections:
        return [f"{len(found)} order(s) rejected, expected (--expect-rejections): {listing}"]
    if funds:
        raise CheckFailed(
            "Orders rejected for insufficient funds",
            f"{len(found)} orders rejected (insufficient funds: {listing}): reset the paper account's virtual "
            "capital (IBKR portal settings), or give --expect-rejections if this is intended",
        )
    raise CheckFailed("Orders rejected", f"{len(found)} orders rejected ({listing})")


def check_pending_outside_hours(rec: Reconciliation, session_at: Callable[[datetime], SessionFacts],
                                now: datetime) -> list[str]:
    """Orders queued outside regular hours rest pending until 09:30 ET: expected, reported, never a failure.

    `session_at` is harness.probes.market.session_at (injected: this module stays free of the calendar)."""
    if not rec.matched:
        raise CouldNotLook("no order of the bot was found in the account, so no pending order could be seen")
    notes = []
    current = session_at(now)
    for m in rec.matched:
        if m.status != "pending":
            continue
        placed = m.logged.at
        at_placing = session_at(placed) if placed is not None else None
        what = describe_logged(m.logged)
        if at_placing is not None and not at_placing.is_open:
            notes.append(f"{what}: expected-pending (placed {at_placing.at:%Y-%m-%d %H:%M %Z}, outside the NYSE "
                         f"regular session; queued until {at_placing.next_open:%Y-%m-%d %H:%M %Z})")
        elif not current.is_open:
            notes.append(f"{what}: expected-pending (the NYSE regular session is closed now; next open "
                         f"{current.next_open:%Y-%m-%d %H:%M %Z})")
        else:
            notes.append(f"{what}: still pending while the regular session is open (since "
                         f"{current.open_at:%H:%M %Z}); not a failure by itself, watch it in the paper account")
    if not notes:
        notes.append("no order is pending: " + ", ".join(sorted({m.status for m in rec.matched})))
    return notes


def _percent(raw: str | None, key: str) -> float:
    if raw is None:
        raise CouldNotLook(f"{key} is not set in the bot's .env, so the limit is not known")
    try:
        value = float(raw.strip().rstrip("%"))
    except ValueError:
        raise CheckFailed(f"{key} is not a number", f"{key}={raw!r} in the bot's .env") from None
    if not 0 < value <= 100:
        raise CheckFailed(f"{key} is not a percentage", f"{key}={raw!r} in the bot's .env")
    return value


def check_position_sizes(max_position_pct: str | None, facts: GatewayFacts, bot: BotOrderLog) -> list[str]:
    """Each position (qty x average cost), open order and logged order (qty x limit) is within
    MAX_POSITION_PCT of the account's net liquidation."""
    limit_pct = _percent(max_position_pct, "MAX_POSITION_PCT")
    nlv = {f.account: f.net_liquidation for f in facts.account_summary if f.net_liquidation is not None}
    if not nlv:
        raise CouldNotLook("the account summary gave no net liquidation value")
    smallest = min(nlv.values())
    items: list[tuple[str, float, float | None]] = []  # (what, value, net liquidation)
    items += [(f"position {p.quantity:g} {p.symbol} (at average cost {p.avg_cost:.2f})",
               abs(p.quantity * p.avg_cost), nlv.get(p.account, smallest)) for p in facts.positions if p.quantity]
    unpriced = []
    for o in facts.open_orders:
        if o.limit_price is None:
            unpriced.append(f"{o.action} {o.quantity:g} {o.symbol}")
            continue
        items.append((f"open order {o.action} {o.quantity:g} {o.symbol} @ {o.limit_price:.2f}",
                      abs(o.quantity * o.limit_price), nlv.get(o.account, smallest)))
    items += [(f"logged order {describe_logged(o)}", abs(o.quantity * o.price), smallest)
              for o in bot.orders if o.price is not None]
    over = [(what, value, net) for what, value, net in items if net is not None and net > 0
            and value > net * limit_pct / 100]
    if any(net is not None and net <= 0 for _, _, net in items):
        raise CheckFailed("Net liquidation is not positive", "the account's net liquidation is zero or negative")
    if over:
        raise CheckFailed(
            "Position size over MAX_POSITION_PCT",
            f"{len(over)} over {limit_pct:g}% of net liquidation: " + "; ".join(
                f"{what} = {value:,.2f} ({100 * value / net:,.1f}% of {net:,.2f})" for what, value, net in over),
        )
    notes = [f"{len(items)} position(s)/order(s) within {limit_pct:g}% of net liquidation"]
    if unpriced:
        notes.append("orders without a limit price not sized: " + "; ".join(unpriced))
    return notes


def check_daily_loss(max_daily_loss_pct: str | None, facts: GatewayFacts) -> list[str]:
    """Per managed account: today's loss (-daily P&L from reqPnL) is within MAX_DAILY_LOSS_PCT of its net
    liquidation (account summary). A limit that is missing or not a number fails; a P&L or net liquidation
    that could not be read is "operator to confirm", never a pass. Returns one note per account."""
    key = "MAX_DAILY_LOSS_PCT"
    if max_daily_loss_pct is None or not max_daily_loss_pct.strip():
        raise CheckFailed(f"{key} is not set",
                          f"{key} is missing from the bot's .env: the bot has no daily loss limit. Set it (e.g. "
                          f"{key}=2.0) before the bot trades")
    limit_pct = _percent(max_daily_loss_pct, key)
    if not facts.accounts:
        raise CouldNotLook(f"the gateway at {facts.host}:{facts.port} listed no managed account")
    pnl = {p.account: p for p in facts.pnl}
    nlv = {f.account: f.net_liquidation for f in facts.account_summary}
    over, unknown, notes = [], [], []
    for account in facts.accounts:
        masked = mask_account(account)
        read, net = pnl.get(account), nlv.get(account)
        if read is None or read.daily_pnl is None:
            why = redact_text(read.problem) if read is not None and read.problem else "no daily P&L reported"
            unknown.append(f"{masked}: {why}")
            continue
        if net is None:
            unknown.append(f"{masked}: no net liquidation in the account summary")
            continue
        loss = -read.daily_pnl
        if net <= 0:
            raise CheckFailed("Net liquidation is not positive",
                              f"{masked}: net liquidation {net:,.2f}, so a daily loss of {loss:,.2f} cannot be "
                              f"held to {key}={limit_pct:g}%")
        pct = 100 * loss / net
        allowed = net * limit_pct / 100
        limit = f"limit {key}={limit_pct:g}% = {allowed:,.2f}"
        line = (f"{masked}: daily loss {loss:,.2f} is {pct:.2f}% of net liquidation {net:,.2f} ({limit})" if loss > 0
                else f"{masked}: daily P&L {read.daily_pnl:+,.2f}, no loss (net liquidation {net:,.2f}; {limit})")
        (over if loss > allowed else notes).append(line)
    if over:
        raise CheckFailed("Daily loss over MAX_DAILY_LOSS_PCT",
                          "; ".join(over) + ". The bot should have stopped trading for the day: halt it and "
                          "find out why its loss limit did not hold")
    if unknown:
        raise CouldNotLook("daily P&L or net liquidation not read (" + "; ".join(unknown) + "): confirm in the "
                           f"paper account that today's loss is within {key}={limit_pct:g}%")
    return notes


def check_test_order(requested: bool, result) -> str:
    """The optional paper test order (harness.actions.test_order.TestOrderResult).

    Not requested: could not look (the operator confirms a paper order in the portal instead). Refused because
    paper is not proven: a failure, since the operator asked for proof and the world is not proven paper.
    """
    if not requested:
        raise CouldNotLook("no paper test order placed (give --place-test-order to place one tiny limit order and "
                           "cancel it), or confirm a bot order in the paper account's portal")
    if result.refused:
        raise CheckFailed("Test order refused: paper not proven", f"{result.refused}; no order was sent")
    if not result.placed:
        raise CouldNotLook(f"the test order could not be placed: {result.problem}")
    if not result.ok:
        raise CheckFailed("The paper test order did not complete",
                          f"order id {result.order_id} in {result.account}: {result.problem} (statuses "
                          f"{' -> '.join(result.statuses) or 'none'}, codes {list(result.error_codes)}); check the "
                          "paper account and cancel it by hand if it is still open")
    return (f"test order id {result.order_id} (BUY 1 SPY @ 1.00, ref harness-test-order) in {result.account}: "
            f"{' -> '.join(result.statuses)}, cancelled")
