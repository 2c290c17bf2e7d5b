"""First-day checks (the seed's "Stability Maintained"): the 06:00 auto-start, the reconnection after the
gateway's daily restart, no crash in the 24 hours, the weekly re-login.

Pure: `FirstDay` facts (harness.probes.bot_day) in; `CheckFailed` / `CouldNotLook` out. Every time in a message
is America/New_York; the bounds are docs/first-day.md's.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from harness.checks import CheckFailed, CouldNotLook, advice
from harness.checks.startup import HALT_TEXT, MAX_EXAMPLES, quote
from harness.core.ibkr import account_is_paper
from harness.core.redact import mask_account
from harness.probes.bot_day import (
    AUTOSTART_EARLY,
    AUTOSTART_LATE,
    RESTART_EARLY,
    RESTART_LATE,
    DayStart,
    FirstDay,
    et,
)
from harness.probes.gateway import GatewayFacts
from harness.probes.market import NEW_YORK
from harness.probes.processes import ProcessFacts
from harness.probes.reconcile import Reconciliation, describe_broker, describe_logged

NOTIFICATION_WINDOW = timedelta(minutes=15)  # a start's Discord notification within this of it (or its connection)
DST_HINT = ("exactly one hour off: the trigger keeps standard time (EST, UTC-5) or a fixed offset while New York "
            "changed to or from daylight saving time; set the trigger in America/New_York (the machine's local "
            "time zone) without a fixed UTC offset")


def minutes(length: timedelta) -> str:
    total = round(length.total_seconds())
    if total < 60:
        return f"{total} s"
    hours, rest = divmod(total // 60, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def _day_name(day: FirstDay) -> str:
    return day.day.strftime("%a %Y-%m-%d") if day.day is not None else "the first day"


def require_day(day: FirstDay) -> FirstDay:
    """The first day can be judged: the log was read, the switch found, and the day's window is over."""
    if day.problem is not None:
        raise CouldNotLook(day.problem)
    if not day.over:
        raise CouldNotLook(f"the first day ({_day_name(day)}, the day of the first scheduled start after the first "
                           f"hour: {day.first_hour_basis}; the switch: {_switch_text(day)}) ends at "
                           f"{et(day.window_end)}: run again after")
    return day


def _switch_text(day: FirstDay) -> str:
    if day.switch is None:
        return "not found"
    return f"the first paper startup at {et(day.switch.timestamp)}, {day.switch.where}"


def _starts_text(starts: tuple[DayStart, ...]) -> str:
    return "; ".join(f"{et(start.at)} ({start.where})" for start in starts[:MAX_EXAMPLES])


def check_autostart(day: FirstDay) -> DayStart:
    """A startup line within the scheduled minutes of --autostart-at on the first day: the scheduled start."""
    require_day(day)
    scheduled = day.scheduled_start
    if scheduled is not None:
        return scheduled
    autostart = day.autostart
    assert autostart is not None
    expected = (f"a startup between {et(autostart - AUTOSTART_EARLY)} and {et(autostart + AUTOSTART_LATE)} "
                f"({autostart:%H:%M} ET on {_day_name(day)}, the first scheduled start after the first hour; log "
                f"times read as {day.zone})")
    if not day.starts:
        seen = (f"the log's lines that day run from {et(day.first_line.timestamp)} to {et(day.last_line.timestamp)}"
                if day.first_line and day.last_line else "the log has no line at all that day")
        raise CheckFailed("The bot was not auto-started", f"expected {expected}, found no startup that day: {seen}. "
                          "Check the scheduler's task (its history, trigger and whether it is enabled: "
                          f"{advice.check_the_schedule()})")
    hint = ""
    for start in day.starts:
        if start.at is not None and abs(abs(start.at - autostart) - timedelta(hours=1)) <= AUTOSTART_LATE:
            hint = f"; the start at {et(start.at)} is {DST_HINT}"
            break
    raise CheckFailed("The bot was not auto-started at the scheduled time",
                      f"expected {expected}, found the start(s) at {_starts_text(day.starts)}{hint}")


def require_scheduled_start(day: FirstDay) -> DayStart:
    """The scheduled start, to check what it loaded; without one there is nothing to check here (the auto-start
    check fails for it)."""
    require_day(day)
    if day.scheduled_start is None:
        raise CouldNotLook(f"no scheduled start on {_day_name(day)} to check (the auto-start scenario says why)")
    return day.scheduled_start


def notification_window(day: FirstDay, start: DayStart) -> timedelta:
    """How far from `start` its Discord notification may be: NOTIFICATION_WINDOW, widened to the start's first
    connection when the bot connected later (a bot announces its start once it is up, e.g. after a gateway that
    was logged in late)."""
    if start.at is None:
        return NOTIFICATION_WINDOW
    later = [start_.at for start_ in day.starts if start_.at is not None and start_.at > start.at]
    until = min(later) if later else day.window_end
    connected = next((event.at for event in day.events if event.kind == "connected" and event.at is not None
                      and start.at <= event.at and (until is None or event.at < until)), None)
    return NOTIFICATION_WINDOW + (connected - start.at if connected is not None else timedelta(0))


def check_no_wrong_mode(day: FirstDay) -> str:
    """No line of the first day says live trading mode (critical) or dry-run mode (by meaning, as in Step 3)."""
    require_day(day)
    for mentions, mode, critical, to_do in (
            (day.live_mode, "LIVE trading mode", True, HALT_TEXT),
            (day.dry_run, "dry-run mode", False, "the bot did not run in paper mode: check what the scheduler's task "
                                                 "starts it with (its environment, its directory's .env)")):
        if mentions.count:
            shown = "; ".join(f"{et(line.timestamp)} {quote(line)}" for line in mentions.first[:MAX_EXAMPLES])
            raise CheckFailed(f"The first day's log says {mode}",
                              f"{mentions.count} line(s) between {et(day.window_start)} and {et(day.window_end)} say "
                              f"{mode}: {shown}. {to_do}", critical=critical)
    _require_whole_log(day, "no line saying live trading or dry-run mode")
    return f"no line between {et(day.window_start)} and {et(day.window_end)} says live trading or dry-run mode"


def _require_whole_log(day: FirstDay, absence: str) -> None:
    """An absence ("no crash", "no live mode line") is shown only by a log read whole: a file read in part (or not
    at all) may hold exactly what was looked for."""
    unread = [*(day.log.problems if day.log is not None else ()), *day.read_problems]
    if unread:
        shown = "; ".join(f"{problem.path} ({problem.kind}: {problem.detail})" for problem in unread[:MAX_EXAMPLES])
        raise CouldNotLook(f"part of the bot's log could not be read ({shown}): {absence} cannot be shown for "
                           f"{_day_name(day)}; read the file by hand, or repair it and run again")


def check_reconnected(day: FirstDay, within: timedelta) -> str:
    """After the gateway's daily restart the bot logged a disconnect and a connection no more than `within`
    after it. Returns a note."""
    require_day(day)
    restart = day.gateway_restart
    assert restart is not None
    low, high = restart - RESTART_EARLY, restart + RESTART_LATE
    events = [event for event in day.events if event.at is not None and event.at >= low]
    around = f"between {et(low)} and {et(high)} (the gateway's daily restart at {restart:%H:%M} ET)"
    pending = None
    reconnections: list[str] = []
    for event in events:
        if event.kind == "disconnected" and event.at <= high and pending is None:
            pending = event
        elif event.kind == "connected" and pending is not None:
            delay = event.at - pending.at
            if delay > within:
                raise CheckFailed("The bot reconnected too late after the gateway's restart",
                                  f"disconnected at {et(pending.at)} ({quote(pending.line)}), connected again only at "
                                  f"{et(event.at)} ({quote(event.line)}): {minutes(delay)} later, more than the "
                                  f"{minutes(within)} allowed (--reconnect-within)")
            reconnections.append(f"disconnected at {et(pending.at)}, reconnected at {et(event.at)} "
                                 f"({minutes(delay)} later, {event.line.where})")
            pending = None
    if pending is not None:
        attempts = [event for event in events if event.kind == "attempt" and event.at >= pending.at]
        tried = (f"; {len(attempts)} attempt(s) logged after it, the last at {et(attempts[-1].at)}" if attempts
                 else "; no reconnect attempt logged after it")
        ends = f"; the log's last line that day is at {et(day.last_line.timestamp)}" if day.last_line else ""
        raise CheckFailed("The bot did not reconnect after the gateway's restart",
                          f"disconnected at {et(pending.at)} ({quote(pending.line)}) and never logged a connection "
                          f"again before {et(day.window_end)}{tried}{ends}: restart the bot and check its "
                          "reconnect logic")
    if reconnections:
        return "; ".join(reconnections)
    connected = [event for event in events if event.kind == "connected" and event.at <= high + within]
    if connected:
        return (f"no disconnect line {around}, but the bot logged a connection at {et(connected[0].at)} "
                f"({connected[0].line.where})")
    lines_after = day.last_line is not None and day.last_line.timestamp is not None and \
        day.last_line.timestamp > high
    if lines_after and any(start.at is not None and start.at < low for start in day.starts):
        raise CouldNotLook(f"the bot ran through the gateway's restart (its log continues to "
                           f"{et(day.last_line.timestamp)}) but logged no disconnect and no connection {around}: "
                           "whether the gateway restarted and the bot reconnected cannot be told from the log; "
                           "check the gateway's log for the restart and the bot's client id")
    last = f"its last line that day is at {et(day.last_line.timestamp)}" if day.last_line else "it logged nothing"
    shutdown = [line for line in day.shutdowns if line.timestamp is not None and line.timestamp <= high]
    stopped = f", after a shutdown at {et(shutdown[-1].timestamp)}" if shutdown else ""
    raise CheckFailed("The bot was not running to reconnect after the gateway's restart",
                      f"no disconnect and no connection {around}: {last} that day{stopped}")


def check_no_crashes(day: FirstDay, heartbeat_gap: timedelta, process: ProcessFacts | None = None) -> str:
    """In the window: no error or crash line, no start other than the scheduled one (without one: the first),
    no silence longer than `heartbeat_gap` while the bot ran. Returns a note."""
    require_day(day)
    if day.lines_in_window == 0:
        raise CouldNotLook(f"the bot's log has no line between {et(day.window_start)} and {et(day.window_end)}: the "
                           "bot did not run on the first day, so neither a crash nor its absence can be seen")
    problems: list[str] = []
    if day.error_count:
        shown = "; ".join(f"{et(line.timestamp)} {quote(line)}" for line in day.errors[:MAX_EXAMPLES])
        problems.append(f"{day.error_count} error or crash line(s): {shown}")
    expected = (day.scheduled_start or day.starts[0]) if day.starts else None
    others = [start for start in day.starts if start is not expected]
    if others:
        shown = "; ".join(_restart_text(day, start) for start in others[:MAX_EXAMPLES])
        problems.append(f"{len(others)} start(s) other than the scheduled one: {shown}")
    if day.session_open is not None and day.session_close is not None:
        stopped = [line for line in day.shutdowns
                   if line.timestamp is not None and day.session_open <= line.timestamp < day.session_close]
        if stopped:
            shown = "; ".join(f"{et(line.timestamp)} {quote(line)}" for line in stopped[:MAX_EXAMPLES])
            problems.append(f"the bot shut down while the market was open ({day.session_open:%H:%M}-"
                            f"{day.session_close:%H:%M} ET): {shown}")
    long = [gap for gap in day.gaps if gap.length > heartbeat_gap]
    if long:
        shown = "; ".join(f"silent from {et(gap.start)} to {et(gap.end)} ({minutes(gap.length)}, until "
                          f"{gap.until}) after {quote(gap.after)}" for gap in long[:MAX_EXAMPLES])
        problems.append(f"the log stayed silent longer than {minutes(heartbeat_gap)} while the bot ran: {shown}"
                        + _process_text(process, long))
    if problems:
        raise CheckFailed("The bot crashed or stopped unexpectedly on the first day",
                          f"between {et(day.window_start)} and {et(day.window_end)}: " + ". ".join(problems))
    _require_whole_log(day, "no crash, restart or silence")
    largest = f", the longest silence {minutes(day.gaps[0].length)}" if day.gaps else ""
    return (f"{day.lines_in_window} line(s) between {et(day.window_start)} and {et(day.window_end)}: no error, "
            f"{len(day.starts)} start(s){largest}")


def _restart_text(day: FirstDay, start: DayStart) -> str:
    """A start and what came before it (the crash it recovered from, when the log says)."""
    before = [line for line in day.errors if line.timestamp is not None and start.at is not None
              and line.timestamp <= start.at]
    crash = f" after the error at {et(before[-1].timestamp)}" if before else ""
    return f"a start at {et(start.at)} ({start.where}){crash}"


def _process_text(process: ProcessFacts | None, gaps) -> str:
    if process is None or not process.looked or not any(gap.until != "the next line" for gap in gaps):
        return ""
    if process.matches:
        return f" (a bot process runs now, pid {', '.join(str(p.pid) for p in process.matches)}: it hung or stopped " \
               "logging)"
    return f" (no process matching {process.pattern!r} runs now: the bot exited without logging a shutdown)"


def check_weekly_relogin(day: FirstDay, within: timedelta) -> str:
    """When a Sunday (IB Gateway's weekly full re-login) lies between the switch and the first day: the bot's first
    connection attempt after it connected, at once or within `within`. Returns a note."""
    require_day(day)
    sunday = day.weekly_relogin_sunday
    if sunday is None:
        raise CouldNotLook(f"no Sunday between the switch ({_switch_text(day)}) and the first day ({_day_name(day)}): "
                           "IB Gateway's weekly full re-login has not happened since the switch; confirm the bot "
                           "reconnects after the next one (Sunday)")
    low = datetime.combine(sunday, datetime.min.time(), NEW_YORK)
    if day.switch is not None and day.switch.timestamp is not None:
        # A switch on the Sunday itself: what the dry-run bot did before it is not this transition's.
        low = max(low, day.switch.timestamp)
    events = [event for event in day.events if event.at is not None and event.at >= low]
    if not events:
        raise CouldNotLook(f"the bot's log says nothing about its gateway connection between {et(low)} and "
                           f"{et(day.window_end)}: whether IB Gateway's weekly re-login (Sunday {sunday}) was handled "
                           "cannot be told; confirm the gateway was logged in again before the first day")
    first = events[0]
    connected = next((event for event in events if event.kind == "connected"), None)
    if connected is not None and connected.at - first.at <= within:
        return (f"after IB Gateway's weekly re-login (Sunday {sunday}), the bot's first connection line at "
                f"{et(first.at)}; connected at {et(connected.at)} ({connected.line.where})")
    after = (f"it connected only at {et(connected.at)}, {minutes(connected.at - first.at)} later" if connected
             else "it never connected that day")
    raise CheckFailed("The weekly re-login was not handled",
                      f"after IB Gateway's weekly full re-login (Sunday {sunday}) the bot tried to connect from "
                      f"{et(first.at)} ({quote(first.line)}), but {after} (bound: {minutes(within)}, "
                      "--reconnect-within): the gateway was left logged out. Log it in (2FA) and check its "
                      "auto-restart settings")


def gateway_after_restart(facts, restart: datetime, window_end: datetime) -> str:
    """What the paper gateway, read now, shows of clients after the daily restart: a note, never a verdict. The API
    lists no connected clients; only executions carry a client id and a time, and only the gateway's current
    session's (docs/first-day.md)."""
    if facts is None:
        return "the paper gateway was not read in this run: the reconnection is judged from the log only"
    if not facts.ok:
        return f"the paper gateway could not be read ({facts.problem}): the reconnection is judged from the log only"
    after = [execution for execution in facts.executions
             if execution.time is not None and restart <= execution.time < window_end]
    if not after:
        return (f"the paper gateway shows no execution between {et(restart)} and {et(window_end)} (it keeps only its "
                "current session's, and a connection leaves no trace the API can read): the reconnection is judged "
                "from the log only")
    clients = sorted({execution.client_id for execution in after})
    last = max(execution.time for execution in after)
    return (f"the paper gateway shows {len(after)} execution(s) after the restart by client id(s) "
            f"{', '.join(map(str, clients))}, the last at {et(last)}: a client was connected after the restart")


def day_records(day: FirstDay, facts: GatewayFacts, client_id: int) -> GatewayFacts:
    """What the paper gateway shows of the first day: the open orders and executions of the bot's client id whose
    order id lies between the lowest and highest the bot logged that day (a client's order ids only grow, so such
    an order was placed that day), and every execution dated in the day's window. Completed orders carry neither a
    client id nor a time, so they cannot be told to be the first day's and are left out."""
    ids = [order.order_id for order in day.orders.orders]
    low, high = (min(ids), max(ids)) if ids else (0, -1)

    def the_days(record_client: int, order_id: int) -> bool:
        return record_client == client_id and low <= order_id <= high

    start, end = day.window_start, day.window_end
    executions = tuple(e for e in facts.executions if the_days(e.client_id, e.order_id) or (
        e.time is not None and start is not None and end is not None and start <= e.time < end))
    return replace(facts, open_orders=tuple(o for o in facts.open_orders if the_days(o.client_id, o.order_id)),
                   executions=executions, completed_orders=())


def check_day_orders_in_paper(day: FirstDay, facts: GatewayFacts, rec: Reconciliation) -> list[str]:
    """Every order the bot logged on the first day is in the paper account as far as the gateway still shows it
    (`rec`: the day's logged orders against `day_records`); no order of the bot's from that day that it did not
    log; nothing in a live account. An order the gateway no longer shows (filled, cancelled or expired before the
    gateway's current session) is "operator to confirm", never a pass (docs/first-day.md)."""
    require_day(day)
    logged = day.orders
    if not logged.orders:
        raise CouldNotLook(f"the bot logged no 'Order submitted' line between {et(day.window_start)} and "
                           f"{et(day.window_end)}: no order of the first day to look for in the paper account; "
                           "confirm in the paper account whether the bot should have traded that day")
    live = sorted({m.broker.account for m in rec.matched if m.broker is not None and m.broker.account
                   and account_is_paper(m.broker.account) is False})
    if live:
        raise CheckFailed("Wrong account, halt the bot", f"the bot's first-day orders are in LIVE account(s) "
                          f"{', '.join(mask_account(a) for a in live)}", critical=True)
    where = f"the paper gateway at {facts.host}:{facts.port}"
    problems = []
    if rec.unknown:
        problems.append(f"{len(rec.unknown)} order(s) from the bot's client id {rec.client_id} placed on the first "
                        "day (order ids among those it logged that day) that the bot never logged: "
                        + "; ".join(describe_broker(r) for r in rec.unknown[:MAX_EXAMPLES]))
    if rec.mismatched:
        problems.append(f"{len(rec.mismatched)} order(s) differ from what the bot logged: " + "; ".join(
            f"{describe_logged(m.logged)}: " + ", ".join(f"{f} logged {a}, account {b}" for f, a, b in m.fields)
            for m in rec.mismatched[:MAX_EXAMPLES]))
    if problems:
        raise CheckFailed("The first day's orders do not reconcile with the paper account",
                          f"{where}: " + ". ".join(problems))
    capped = (" (only the first lines of the bot's orders were read: the log holds more)"
              if day.order_lines_capped else "")
    if rec.missing:
        shown = "; ".join(f"{describe_logged(o)} at {et(o.at)} ({o.where})" for o in rec.missing[:MAX_EXAMPLES])
        raise CouldNotLook(
            f"{len(rec.missing)} of the {len(logged.orders)} order(s) the bot logged on {_day_name(day)} are neither "
            f"open at {where} nor among the executions it still shows: {shown}. A gateway keeps executions and "
            "finished orders of its current session only (it restarts daily), so an order filled, cancelled or "
            "expired since cannot be seen; confirm them in the paper account's trade history (Client Portal: "
            f"Performance & Reports > Trade Confirmations){capped}")
    return [f"{describe_logged(m.logged)} at {et(m.logged.at)}: {m.status} in {mask_account(m.broker.account)}"
            if m.broker is not None else f"{describe_logged(m.logged)}: {m.status} ({m.reason})"
            for m in rec.matched[:50]] + ([capped.strip(" ()")] if capped else [])
