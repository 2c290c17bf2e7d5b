"""The embedded world: a fake paper IB Gateway, a fake live IB Gateway, a fake Discord and the stand-in bot,
all on loopback, started for one test session and torn down even when a test fails.

The fakes listen on the real ports (4002 paper, 4001 live) of a loopback address of their own
(127.x.y.z), so the bot's `.env` says exactly what the seed says and no real gateway on this machine is
touched or shadowed. They never listen on 127.0.0.1, where a real IB Gateway on this desk does: on a machine
that routes only 127.0.0.1 (macOS), the world refuses with one line saying how to add an address of its own
(HARNESS_EMBEDDED_ADDRESS).
"""

from __future__ import annotations

import ipaddress
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

from harness.core import clock
from harness.core.ibkr import GATEWAY_PAPER_PORT
from harness.fakes.bot import SEED_PAPER_STARTUP
from harness.fakes.botdir import BotDir, make_bot_dir

PAPER_PORT, LIVE_PORT = GATEWAY_PAPER_PORT, 4001  # the real ports, on a loopback address of the world's own
FAULTS_VARIABLE = "HARNESS_EMBEDDED_FAULTS"
# The loopback address of the world's own, when this machine has one to give (a macOS lo0 alias); else a few random
# 127.x.y.z are tried (Linux and Windows route all of 127/8).
ADDRESS_VARIABLE = "HARNESS_EMBEDDED_ADDRESS"
RANDOM_ADDRESSES = 5
REAL_GATEWAY_HOST = "127.0.0.1"  # where a real IB Gateway on this desk listens: never the world's
# Knobs that make the embedded world wrong on purpose (comma-separated in HARNESS_EMBEDDED_FAULTS); the
# stand-in bot has its own (BOT_FAULTS, see harness.fakes.bot.FAULTS).
WORLD_FAULTS = {
    "gateway-live-account": "the gateway on the paper port is logged into a LIVE (U...) account",
    "gateway-down": "no gateway listens on the paper port",
    "market-closed": "the fake market is closed whatever the clock says (orders rest PreSubmitted)",
    "market-open": "the fake market is open whatever the clock says (orders fill)",
    "low-buying-power": "the paper account has 0.50 USD of buying power (every order is rejected, error 201)",
    "live-account-activity": "the live account shows an order placed today",
    "open-positions": "the paper account holds a position before the switch",
    "unknown-bot-order": "the paper account holds an order from the bot's client id that the bot never logged",
    "earlier-start-order": "the paper account holds a GTC order an earlier paper start since the switch logged (five "
                           "minutes before the bot's restart), still open",
    "discord-earlier-dry-run": "Discord holds the bot's 'DRY-RUN mode' post of a start nine minutes before the paper "
                               "one (the seed's Step 3.4 re-attempt)",
    "stale-paper-startup": "the bot's log already holds an older, successful paper startup (yesterday)",
    "daily-loss": "the paper account's daily P&L (reqPnL) is a loss of 5% of its net liquidation",
    "rollback-dry-run-false": "(rollback phase) the rollback was a hand edit that set PAPER_TRADING=false and left "
                              "DRY_RUN=false: live mode",
    "rollback-not-restarted": "(rollback phase) the .env was rolled back while the bot ran on: its newest start is "
                              "still the paper one",
    "scheduler-disabled": "the Task Scheduler task that starts the bot is disabled",
    "first-day-no-autostart": "(first-day phase) the scheduled task did not start the bot: the operator started it "
                              "by hand at 09:12",
    "first-day-task-env-dry-run": "(first-day phase) the scheduled task's action sets DRY_RUN=true in the bot's "
                                  "environment (`cmd /c \"set DRY_RUN=true&& python ...\"`), so its 06:00 start ran "
                                  "in dry-run mode",
    "first-day-trigger-wrong-zone": "(first-day phase) the task's trigger is 06:00 at a fixed UTC offset (right on the "
                                    "first day, an hour off after the next DST change) instead of New York time",
    "first-day-task-time-limit": "(first-day phase) the task stops what it starts after 8 hours (Task Scheduler's "
                                 "\"Stop the task if it runs longer than\"): started at 06:00, the bot would be "
                                 "stopped at 14:00, before the gateway's 16:30 restart",
    "first-day-no-reconnect": "(first-day phase) the bot gives up on the gateway after its 16:30 restart and runs "
                              "on disconnected",
    "first-day-crash-at-noon": "(first-day phase) the bot crashes with a traceback at 12:00 and is started again at "
                               "12:03",
    "first-day-relogin-missed": "(first-day phase) nobody logged the gateway in again after its weekly Sunday "
                                "restart: the bot's Monday 06:00 start finds no gateway until 08:40",
    "first-day-discord-dry-run": "(first-day phase) the bot's 06:00 start posts 'Bot started in DRY-RUN mode' to "
                                 "Discord although its log says paper",
    "first-day-no-discord": "(first-day phase) the bot's 06:00 start posts nothing to Discord",
    "first-day-unlogged-order": "(first-day phase) the bot's 06:00 gameplan sends one order (BUY 1 DIA) it never "
                                "logs, between the orders it logs",
}
DAILY_LOSS_FRACTION = 0.05  # the `daily-loss` knob: well over the stand-in bot's MAX_DAILY_LOSS_PCT=2.0
# The stand-in bot has settled once its log holds one of these: its gameplan ran, it is waiting for one, or it
# gave up. Every path of the bot (faults included) ends in one of them, so the wait below never runs out in
# a healthy world; when it does, the world is broken and the run says so at once.
BOT_READY_MARKERS = ("Gameplan complete", "Waiting for a gameplan", "Gateway connection failed", "Unhandled error",
                     "Signal (dry-run")
BOT_READY_TIMEOUT = 45.0
EARLIER_START_BEFORE = timedelta(minutes=5)  # `earlier-start-order`: the earlier paper start, before the restart
GATEWAY_DOWN_MARKER = "Connect attempt 1 failed"  # the `gateway-down` world has settled once the bot logs this


class EmbeddedWorldError(RuntimeError):
    """The embedded world could not start; the message says what to do."""


@dataclass
class EmbeddedWorld:
    bot: BotDir
    gateway: object  # harness.fakes.tws.FakeGateway (paper)
    live_gateway: object  # harness.fakes.tws.FakeGateway (live account)
    discord: object  # harness.fakes.discord.FakeDiscord
    host: str
    bot_process: subprocess.Popen | None
    bot_stdout: Path
    bot_environ: Path  # `env`-style dump of what the bot was started with (stays in the temp dir)
    scheduled_task: Path | None = None  # the Task Scheduler export of the task that starts the bot


def world_faults(environ: Mapping[str, str]) -> set[str]:
    faults = {f.strip() for f in environ.get(FAULTS_VARIABLE, "").split(",") if f.strip()}
    unknown = faults - set(WORLD_FAULTS)
    if unknown:
        raise EmbeddedWorldError(f"{FAULTS_VARIABLE} names unknown faults: {', '.join(sorted(unknown))} "
                                 f"(known: {', '.join(sorted(WORLD_FAULTS))})")
    return faults


def _worlds(faults: set[str]):
    from harness.fakes.tws import (
        Account,
        OrderRecord,
        Position,
        always_closed,
        always_open,
        example_world_path,
        load_world,
    )
    from harness.probes import market

    paper, live = load_world(example_world_path("paper")), load_world(example_world_path("live"))
    rule = (always_closed if "market-closed" in faults else always_open if "market-open" in faults
            else lambda instant: market.session_at(instant).is_open)  # NYSE holidays and early closes
    for world in (paper, live):
        world.session_open = rule
        world.prices.update({"QQQ": 430.0, "IWM": 210.0, "DIA": 440.0})
    if "gateway-live-account" in faults:
        paper.accounts = [Account("U2345678", cash=50_000.0)]
        paper.trading_mode = "live"
    if "low-buying-power" in faults:
        paper.accounts = [Account(a.account_id, cash=0.5, buying_power=0.5) for a in paper.accounts]
    if "daily-loss" in faults:
        for account in paper.accounts:
            loss = round(DAILY_LOSS_FRACTION * paper.net_liquidation(account.account_id), 2)
            account.daily_pnl, account.unrealized_pnl, account.realized_pnl = -loss, -loss, 0.0
    if "open-positions" in faults:
        paper.positions.append(Position(paper.accounts[0].account_id, "SPY", 10, 480.0))
    if faults & {"unknown-bot-order", "earlier-start-order"}:
        paper.prices["TSLA"] = 250.0  # the SELL limit at 900 rests: it never fills
        paper.open_orders.append(OrderRecord(order_id=77, perm_id=8_000_077, client_id=1,
                                             account=paper.accounts[0].account_id, symbol="TSLA", action="SELL",
                                             quantity=5, limit_price=900.0, order_ref="manual"))
    if "live-account-activity" in faults:
        live.open_orders.append(OrderRecord(order_id=1, perm_id=9_000_001, client_id=1,
                                            account=live.accounts[0].account_id, symbol="SPY", action="BUY",
                                            quantity=1, limit_price=1.0, order_ref="strategy-A"))
    return paper, live


def private_addresses(environ: Mapping[str, str], count: int = RANDOM_ADDRESSES) -> list[str]:
    """The loopback addresses the fake gateways may serve ports 4002/4001 on, in the order they are tried: the one
    HARNESS_EMBEDDED_ADDRESS names, else `count` random 127.x.y.z; never 127.0.0.1."""
    named = environ.get(ADDRESS_VARIABLE, "").strip()
    if not named:
        return [f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(1, 254)}"
                for _ in range(count)]
    try:
        address = ipaddress.IPv4Address(named)
    except ValueError:
        address = None
    if address is None or not address.is_loopback or str(address) == REAL_GATEWAY_HOST:
        raise EmbeddedWorldError(f"{ADDRESS_VARIABLE}={named!r} is not a loopback address of the world's own: name "
                                 f"a 127.x.y.z other than {REAL_GATEWAY_HOST}, where a real IB Gateway listens")
    return [str(address)]


def start_gateways(world_paper, world_live, start_paper: bool = True, *, addresses: list[str] | None = None,
                    gateway_class=None):
    """The fake live and paper gateways on ports 4001/4002 of the first of `addresses` (default:
    private_addresses(os.environ)) where both can listen. Never 127.0.0.1: a fake there would meet (on Windows,
    shadow) the desk's real gateway, or, with the paper gateway down on purpose, leave the stand-in bot to find
    the real one. Raises EmbeddedWorldError (one line) when no address serves."""
    if gateway_class is None:
        from harness.fakes.tws import FakeGateway as gateway_class
    addresses = private_addresses(os.environ) if addresses is None else addresses
    last_error: Exception | None = None
    for host in addresses:
        if host == REAL_GATEWAY_HOST:
            continue
        live = gateway_class(world_live, host=host, port=LIVE_PORT)
        try:
            live.start()
        except OSError as exc:
            last_error = exc
            continue
        paper = gateway_class(world_paper, host=host, port=PAPER_PORT)
        if not start_paper:
            return host, paper, live  # "gateway down": never started, so the port refuses connections
        try:
            paper.start()
        except OSError as exc:
            live.stop()
            last_error = exc
            continue
        return host, paper, live
    tried = addresses[0] if len(addresses) == 1 else f"{len(addresses)} random 127.x.y.z addresses"
    why = " ".join(str(last_error).split()) if last_error else "none to try"
    raise EmbeddedWorldError(
        f"the embedded world found no loopback address of its own for its fake gateways on ports 4002/4001 (tried "
        f"{tried}; last: {why}); it never uses {REAL_GATEWAY_HOST}, where a real IB Gateway listens. If this machine "
        f"routes only {REAL_GATEWAY_HOST} (macOS), add one (`sudo ifconfig lo0 alias 127.20.0.1 up`) and name it: "
        f"{ADDRESS_VARIABLE}=127.20.0.1")


def _append_stale_startup(bot: BotDir) -> None:
    """An older start that said everything right: it must never satisfy today's checks."""
    stamp = (bot.shutdown_at - timedelta(hours=9)).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    lines = [text.format(host="localhost", port=PAPER_PORT) for text in SEED_PAPER_STARTUP]
    with bot.log_file.open("r+", encoding="utf-8") as log:
        rest = log.read()
        log.seek(0)
        log.write("".join(f"{stamp},{n:03d} INFO bot: {text}\n" for n, text in enumerate(lines)) + rest)


def _append_earlier_paper_start(bot: BotDir, host: str) -> None:
    """A paper start after the switch and before the bot's restart: it logged the GTC order 77 (still open at the
    paper gateway), then shut down cleanly."""
    from harness.fakes.botdir import append_log

    began = clock.now() - EARLIER_START_BEFORE
    lines = [(began, "INFO", text.format(host=host, port=PAPER_PORT)) for text in SEED_PAPER_STARTUP]
    lines += [(began + timedelta(seconds=2), "INFO", "Order submitted: id=77 ref=manual SELL 5 TSLA @ 900.00"),
              (began + timedelta(seconds=60), "INFO", "Shutting down: clean shutdown complete")]
    append_log(bot, lines)


def _roll_back(bot: BotDir, faults: set[str]) -> None:
    """The rollback's `.env` edit, made with `harness switch dry-run`'s own code; the `rollback-dry-run-false` knob
    makes it a hand edit that switched PAPER_TRADING only."""
    if "rollback-dry-run-false" in faults:
        text = bot.env_file.read_text(encoding="utf-8")
        bot.env_file.write_text(text.replace("PAPER_TRADING=true", "PAPER_TRADING=false", 1), encoding="utf-8",
                                newline="")
        return
    from harness.actions.rollback import plan_rollback
    from harness.actions.switch import apply_switch

    apply_switch(plan_rollback(bot.env_file, bot.baseline_file))


def _write_scheduled_task(root: Path, bot: BotDir, enabled: bool, *, start: str = "2026-01-05T06:00:00",
                          dry_run_env: bool = False, time_limit: str | None = None) -> Path:
    """The task that starts the stand-in bot at 6:00 on weekdays, as `schtasks /Query /XML` exports it (UTF-16).
    `start`: the trigger's StartBoundary (no offset: the machine's local time); `dry_run_env`: the action is
    `cmd /c "set DRY_RUN=true&& python ..."`, an environment that wins over the .env; `time_limit`: the task's
    ExecutionTimeLimit (an ISO duration such as PT8H; absent, Task Scheduler's own default of 72 hours)."""
    from xml.sax.saxutils import escape

    command, arguments = sys.executable, f'-m harness.fakes.bot --bot-dir "{bot.root}"'
    if dry_run_env:
        command, arguments = "cmd", f'/c "set DRY_RUN=true&& "{sys.executable}" {arguments}"'
    days = "".join(f"<{day} />" for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"))
    flag = "true" if enabled else "false"
    xml = (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
        "  <RegistrationInfo><URI>\\TradingBot</URI><Description>Trading bot auto-start, 6:00 AM ET"
        "</Description></RegistrationInfo>\n"
        f"  <Triggers><CalendarTrigger><StartBoundary>{start}</StartBoundary><Enabled>true</Enabled>"
        f"<ScheduleByWeek><DaysOfWeek>{days}</DaysOfWeek><WeeksInterval>1</WeeksInterval></ScheduleByWeek>"
        "</CalendarTrigger></Triggers>\n"
        f"  <Settings><Enabled>{flag}</Enabled><StartWhenAvailable>true</StartWhenAvailable>"
        + (f"<ExecutionTimeLimit>{time_limit}</ExecutionTimeLimit>" if time_limit else "") + "</Settings>\n"
        '  <Actions Context="Author"><Exec>'
        f"<Command>{escape(command)}</Command>"
        f"<Arguments>{escape(arguments, {chr(34): '&quot;'})}</Arguments>"
        f"<WorkingDirectory>{escape(str(bot.root))}</WorkingDirectory></Exec></Actions>\n"
        "</Task>\n"
    )
    target = root / "scheduled-task.xml"
    target.write_bytes(xml.encode("utf-16"))
    return target


def _wait_until_ready(process: subprocess.Popen, log_file: Path, stdout: Path, timeout: float,
                      markers: tuple[str, ...] = BOT_READY_MARKERS) -> None:
    """Until the stand-in bot's log says it settled (one of `markers`) or the bot exited; a bot that does
    neither within `timeout` is a broken embedded world, reported with what was awaited and the bot's output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.exists():
            text = log_file.read_text(encoding="utf-8", errors="replace")
            if any(marker in text for marker in markers):
                return
        if process.poll() is not None:
            return
        time.sleep(0.1)
    tail = stdout.read_text(encoding="utf-8", errors="replace")[-1500:] if stdout.exists() else ""
    raise EmbeddedWorldError(
        f"the stand-in bot (pid {process.pid}) wrote none of {', '.join(repr(m) for m in markers)} to "
        f"{log_file} within {timeout:.0f} s and is still running; its output ends:\n{tail}"
    )


def _bot_environ(root: Path, environ: Mapping[str, str], extra: Mapping[str, str] | None = None
                 ) -> tuple[dict[str, str], Path]:
    """The stand-in bot's process environment (`environ` and `extra`, its output in UTF-8, the harness's clock) and
    the file it is written to, for the checks that read the bot's environment."""
    env = {**environ, **clock.exported(), "PYTHONIOENCODING": "utf-8", **(extra or {})}
    environ_dump = root / "bot-environ.txt"
    environ_dump.write_text("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v), encoding="utf-8")
    return env, environ_dump


def _require_phase_faults(faults: set[str], phase: str) -> None:
    """A first-day knob makes sense only on the first day, and the first day needs a paper gateway to live it on."""
    first_day_knobs = sorted(f for f in faults if f.startswith("first-day-"))
    if first_day_knobs and phase != "first-day":
        raise EmbeddedWorldError(f"{FAULTS_VARIABLE}: {', '.join(first_day_knobs)} break(s) the first day only: run "
                                 "with --phase first-day")
    if phase == "first-day" and "gateway-down" in faults:
        raise EmbeddedWorldError(f"{FAULTS_VARIABLE}: gateway-down leaves no gateway for the first day to restart; "
                                 "first-day-relogin-missed is the first day with its gateway down at 06:00")


def _first_day(stack: ExitStack, root: Path, environ: Mapping[str, str], faults: set[str], host: str, paper, live,
               discord, autostart_at: time_of_day, gateway_restart: time_of_day) -> EmbeddedWorld:
    """The first NYSE trading day after the switch, lived on the world's clock and over before the checks look."""
    from harness.fakes.first_day import FirstDay, append_manual_paper_hour, first_day_dates
    from harness.probes.market import NEW_YORK

    dates = first_day_dates(clock.now(), autostart_at)
    bot = make_bot_dir(root / "bot", webhook_url=discord.webhook_url, gateway_host=host,
                       now=datetime.combine(dates.first_day, time_of_day(0, 0), tzinfo=NEW_YORK), log_zone=NEW_YORK,
                       baseline_taken_at=dates.switch_close + timedelta(minutes=50))
    append_manual_paper_hour(bot, dates, host, PAPER_PORT)
    trigger = dates.at(autostart_at).replace(tzinfo=None).isoformat()  # the machine's local time: New York
    if "first-day-trigger-wrong-zone" in faults:
        offset = dates.at(autostart_at).isoformat()[-6:]  # right on the first day only: "-05:00" in winter
        trigger += offset
    scheduled_task = _write_scheduled_task(root, bot, enabled="scheduler-disabled" not in faults, start=trigger,
                                           dry_run_env="first-day-task-env-dry-run" in faults,
                                           time_limit="PT8H" if "first-day-task-time-limit" in faults else None)
    # The task's own environment reaches the bot (every start of the day): `set DRY_RUN=true&& python ...` wins
    # over the .env.
    task_environ = {"DRY_RUN": "true"} if "first-day-task-env-dry-run" in faults else {}
    env, environ_dump = _bot_environ(root, environ, task_environ)
    stdout = root / "bot-stdout.txt"
    day = FirstDay(root, bot, paper, env, stdout, dates)
    discord.clock = lambda: day.now  # the bot's notifications are dated on the world's clock, as its log is
    stack.callback(lambda: [_stop_bot(process) for process in day.processes])
    try:
        process = day.live(faults, autostart_at, gateway_restart)
    except Exception as exc:  # FirstDayError, or a bot that could not be started: the world is broken
        tail = stdout.read_text(encoding="utf-8", errors="replace")[-1500:] if stdout.exists() else ""
        raise EmbeddedWorldError(f"the embedded first day could not be lived: {exc}\nthe bot's output ends:\n{tail}") \
            from exc
    return EmbeddedWorld(bot, paper, live, discord, host, process, stdout, environ_dump, scheduled_task)


def _stop_bot(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # SIGTERM: the stand-in bot logs a clean shutdown
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def embedded_world(root: Path, *, phase: str = "transition", environ: Mapping[str, str] | None = None,
                   autostart_at: time_of_day = time_of_day(6, 0),
                   gateway_restart: time_of_day = time_of_day(16, 30)) -> Iterator[EmbeddedWorld]:
    """Before the switch (preflight) the bot is stopped and still in dry-run; after it, switched and running. After
    the rollback (phase rollback) it ran in paper mode, was stopped, rolled back with `harness switch dry-run` and
    restarted in dry-run mode. The first day (phase first-day) is lived in seconds: see harness.fakes.first_day."""
    from harness.fakes.discord import FakeDiscord

    environ = os.environ if environ is None else environ
    faults = world_faults(environ)
    _require_phase_faults(faults, phase)
    after_switch = phase != "preflight"
    with ExitStack() as stack:
        paper_world, live_world = _worlds(faults)
        host, paper, live = start_gateways(paper_world, live_world, start_paper="gateway-down" not in faults,
                                            addresses=private_addresses(environ))
        stack.callback(live.stop)
        stack.callback(paper.stop)
        discord = FakeDiscord().start()
        stack.callback(discord.stop)
        if phase == "first-day":
            yield _first_day(stack, root, environ, faults, host, paper, live, discord, autostart_at, gateway_restart)
            return
        earlier = "earlier-start-order" in faults and after_switch
        switched = clock.now() - EARLIER_START_BEFORE * 2 if earlier else None
        bot = make_bot_dir(root / "bot", webhook_url=discord.webhook_url, gateway_host=host, switch=after_switch,
                           baseline_taken_at=switched)
        if "stale-paper-startup" in faults:
            _append_stale_startup(bot)
        if earlier:
            _append_earlier_paper_start(bot, host)
        if "discord-earlier-dry-run" in faults:
            discord.post_as_webhook("Bot started in DRY-RUN mode at (the start before)",
                                    at=clock.now() - timedelta(minutes=9))
        rolled_back = phase == "rollback"
        if rolled_back:
            _append_stale_startup(bot)  # the paper run the rollback ended: its start, then its clean shutdown
        scheduled_task = _write_scheduled_task(root, bot, enabled="scheduler-disabled" not in faults)
        stdout = root / "bot-stdout.txt"
        process = None
        env, environ_dump = _bot_environ(root, environ)
        if after_switch:
            if rolled_back and "rollback-not-restarted" not in faults:
                _roll_back(bot, faults)
            with stdout.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "harness.fakes.bot", "--bot-dir", str(bot.root)],
                    cwd=bot.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            stack.callback(_stop_bot, process)
            # With no paper gateway the bot retries with backoff for about 15 s before it gives up; its first
            # failed attempt already settles all the checks read (it never connected).
            markers = (*BOT_READY_MARKERS, GATEWAY_DOWN_MARKER) if "gateway-down" in faults else BOT_READY_MARKERS
            _wait_until_ready(process, bot.log_file, stdout, BOT_READY_TIMEOUT, markers)
            if rolled_back and "rollback-not-restarted" in faults:
                _roll_back(bot, faults)  # the bot runs on with what it read at its (paper) start
        yield EmbeddedWorld(bot, paper, live, discord, host, process, stdout, environ_dump, scheduled_task)
