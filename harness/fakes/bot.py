"""The stand-in bot: a small, honest trading bot that follows the contract the features check.

It reads its `.env` with python-dotenv (override=False, so the process environment wins, as in real bots),
logs the seed's startup lines, posts its startup notification to its Discord webhook, connects to the IB
Gateway with ib_async, runs the test gameplan (Strategy A and B: a few small orders, each logged with its
order id), reconnects with backoff after the gateway's daily restart, and shuts down cleanly.

Fault knobs (`--fault NAME`, repeatable, or BOT_FAULTS=a,b) make each faulty world the features must catch.

With `--clock-file`, the bot lives on the world's clock instead of its own (the embedded first day: a day in
seconds). The file holds the world's current instant (ISO, with offset), written by whoever runs the world; the
bot stamps every log line and its Discord notification with it (as wall time in `--log-zone`), logs a heartbeat
each time the clock has moved `--heartbeat-minutes` since the last one, retries a lost gateway for as long as it
runs, and tells the world what it has seen: `<clock-file>.seen` holds the last instant it acted on and its
connection state (`connected`, `connecting`, `disconnected`), so the world can move its clock in step with it.

    python -m harness.fakes.bot --bot-dir DIR [--run-for SECONDS] [--fault live-log ...]
    python -m harness.fakes.bot --bot-dir DIR --clock-file CLOCK [--log-zone America/New_York]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import logging.handlers
import os
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from harness.core import clock as harness_clock
from harness.core.files import FileBusyError, replace_file

FAULTS = {
    "live-log": "logs 'Live trading mode ACTIVE' instead of the paper line",
    "dry-run-log": "logs 'DRY_RUN mode active' although configured for paper",
    "discord-dry-run": "posts 'Bot started in DRY-RUN mode' to Discord",
    "discord-live": "posts 'Bot started in LIVE mode' to Discord",
    "no-discord": "posts nothing to Discord",
    "ignore-env": "does not take its mode from .env (runs on its defaults: dry-run)",
    "crash": "crashes with a traceback right after initialisation",
    "no-reconnect": "gives up when the gateway drops the connection (exits; on the world's clock: runs on unconnected)",
    "skip-ready-line": "never logs 'Bot initialized successfully'",
    "oversized-orders": "sizes its orders far beyond the account's buying power",
    "no-orders": "runs no gameplan",
    "phantom-order": "logs one more submitted order than it sends",
    "crash-at-noon": "crashes with a traceback when the world's clock reaches 12:00 (with --clock-file)",
    "unlogged-order": "sends one more order (BUY 1 DIA @ 1.00) than it logs, between the ones it logs",
}
HEARTBEAT_TEXT = "Heartbeat: running"  # "Heartbeat: running, gateway connected"
DAY_POLL_SECONDS = 0.003  # how often a bot on the world's clock looks at it (real seconds) while it moves
DAY_IDLE_POLL_SECONDS = 0.05  # ... and once it has stood still for DAY_IDLE_AFTER (the day is over: spare the CPU)
DAY_IDLE_AFTER = 0.5
DAY_RETRY_SECONDS = 0.05  # between connect attempts on the world's clock (real seconds; the clock says how long)

# The seed's startup lines of a healthy paper start, in the seed's words. The stand-in bot writes its own
# wording and never imports the harness's patterns: it plays someone else's bot, so a drift in the harness's
# defaults shows up as a failing demo instead of agreeing with itself.
SEED_PAPER_STARTUP = ("Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
                      "Connecting to IBKR Gateway at {host}:{port}", "Gateway connection established",
                      "Paper trading mode ACTIVE", "Bot initialized successfully")

STRATEGY_ORDERS = (  # (strategy, symbol, side, quantity, limit price)
    ("A", "SPY", "BUY", 1, 1.00),
    ("A", "QQQ", "BUY", 1, 1.00),
    ("B", "IWM", "BUY", 2, 1.00),
)


SHARED_FILE_RETRY_DELAYS = (0.002,) * 49  # the other side reads the file for a moment: 50 attempts in 0.1 s


def replace_shared_file(path: Path, text: str) -> bool:
    """Replace `path` with `text` through a temp file and a rename, as the world and the bot pass the clock to each
    other; False when the rename kept failing. Windows refuses to replace a file the other side is reading this
    very moment, so a refused rename is tried again, briefly."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8", newline="\n")
    try:
        replace_file(temporary, path, delays=SHARED_FILE_RETRY_DELAYS)
    except FileBusyError:
        return False
    return True


@dataclass(frozen=True)
class BotConfig:
    dry_run: bool
    paper_trading: bool
    host: str
    port: int
    client_id: int
    webhook_url: str | None
    log_dir: Path


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def load_config(bot_dir: Path, faults: set[str]) -> BotConfig:
    from dotenv import load_dotenv

    load_dotenv(bot_dir / ".env", override=False)
    env = os.environ
    log_dir = Path(env.get("LOG_DIR", "logs"))
    # "ignore-env" loses the mode keys only: the connection settings still point at the embedded world, so
    # the stand-in bot never reaches for a real gateway on this machine.
    mode = {} if "ignore-env" in faults else env
    return BotConfig(
        dry_run=_flag(mode.get("DRY_RUN"), True),
        paper_trading=_flag(mode.get("PAPER_TRADING"), False),
        host=env.get("IBKR_HOST", "localhost"),
        port=int(env.get("IBKR_PORT", "4002")),
        client_id=int(env.get("IBKR_CLIENT_ID", "1")),
        webhook_url=env.get("DISCORD_WEBHOOK_URL"),
        log_dir=log_dir if log_dir.is_absolute() else bot_dir / log_dir,
    )


class WorldClock:
    """The world's clock, read from the file the world writes; `seen` tells the world what the bot acted on."""

    def __init__(self, path: Path, zone: tzinfo | None) -> None:
        self.path = path
        self.seen_path = path.with_name(path.name + ".seen")
        self.zone = zone
        self._last: datetime | None = None
        self._told: tuple[datetime, str] | None = None

    def now(self) -> datetime:
        """The world's instant (aware). A read that races the world's write keeps the last instant read."""
        try:
            instant = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            instant = None
        if instant is not None and instant.tzinfo is not None:
            self._last = instant
        if self._last is None:
            raise RuntimeError(f"the world's clock {self.path} holds no instant")
        return self._last

    def wall(self, instant: datetime | None = None) -> datetime:
        """An instant as the bot's machine shows it (naive wall time in --log-zone, else the local zone)."""
        return (instant or self.now()).astimezone(self.zone).replace(tzinfo=None)

    def tell(self, instant: datetime, state: str) -> None:
        if self._told == (instant, state):
            return
        replace_shared_file(self.seen_path, f"{instant.isoformat()} {state}\n")
        self._told = (instant, state)


def log_stamp(wall: datetime) -> str:
    """How the bot writes a time in its log: the wall time, with milliseconds (logging's default format)."""
    return f"{wall:%Y-%m-%d %H:%M:%S},{wall.microsecond // 1000:03d}"


class _HarnessClockFormatter(logging.Formatter):
    """Log times from the harness's clock (the real one, or the embedded world's pinned one), as local wall time."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return log_stamp(harness_clock.at(record.created).astimezone().replace(tzinfo=None))


class _ClockFormatter(logging.Formatter):
    """Log times from the world's clock instead of the process's."""

    def __init__(self, fmt: str, clock: WorldClock) -> None:
        super().__init__(fmt)
        self.clock = clock

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return log_stamp(self.clock.wall())


def _setup_logging(log_dir: Path, clock: WorldClock | None = None) -> logging.Logger:
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(log_dir / "bot.log", maxBytes=5_000_000, backupCount=3,
                                                   encoding="utf-8")
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(_HarnessClockFormatter(fmt) if clock is None else _ClockFormatter(fmt, clock))
    logger = logging.getLogger("bot")
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [handler, logging.StreamHandler(sys.stdout)]
    logger.propagate = False
    return logger


def _mode_name(config: BotConfig, faults: set[str]) -> str:
    if "discord-live" in faults:
        return "LIVE"
    if "discord-dry-run" in faults or config.dry_run:
        return "DRY-RUN"
    return "PAPER TRADING" if config.paper_trading else "LIVE"


def post_discord(url: str, content: str, log: logging.Logger, attempts: int = 2) -> None:
    """Post to the webhook; a server error or a refused connection is tried once more after half a second, as a
    careful bot does (a rejected post, 4xx, is not). A failure is logged with its status."""
    body = json.dumps({"content": content}).encode("utf-8")
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
            return
        except OSError as exc:
            status = getattr(exc, "code", None)
            if attempt < attempts and (status is None or status >= 500):
                time.sleep(0.5)
                continue
            log.warning("Discord notification failed: %s%s", type(exc).__name__, f" {status}" if status else "")
            return


class StandInBot:
    def __init__(self, bot_dir: Path, faults: set[str], run_for: float | None, clock: WorldClock | None = None,
                 heartbeat: timedelta = timedelta(minutes=10)) -> None:
        self.bot_dir = bot_dir
        self.faults = faults
        self.run_for = run_for
        self.clock = clock
        self.heartbeat = heartbeat
        self.stop_requested = threading.Event()
        self.config = load_config(bot_dir, faults)
        self.log = _setup_logging(self.config.log_dir, clock)

    def run(self) -> int:
        config, log = self.config, self.log
        log.info("Configuration loaded: DRY_RUN=%s, PAPER_TRADING=%s",
                 str(config.dry_run).lower(), str(config.paper_trading).lower())
        log.info("Connecting to IBKR Gateway at %s:%s", config.host, config.port)
        from ib_async import IB

        ib = IB()
        if not self._connect(ib, attempts=None if self.clock is not None else 5):
            log.error("Gateway connection failed; exiting")
            return 2
        log.info("Gateway connection established")
        if "live-log" in self.faults or (not config.dry_run and not config.paper_trading):
            log.warning("Live trading mode ACTIVE")
        elif "dry-run-log" in self.faults or config.dry_run:
            log.info("DRY_RUN mode active: signals are logged, no orders are sent")
        else:
            log.info("Paper trading mode ACTIVE")
        if "skip-ready-line" not in self.faults:
            log.info("Bot initialized successfully")
        if config.webhook_url and "no-discord" not in self.faults:
            now = harness_clock.local_now() if self.clock is None else self.clock.now().astimezone(self.clock.zone)
            stamp = now.strftime("%Y-%m-%d %H:%M:%S %Z")
            post_discord(config.webhook_url, f"Bot started in {_mode_name(config, self.faults)} mode at {stamp}",
                         log)
        if "crash" in self.faults:
            raise RuntimeError("stand-in bot: crash fault")
        ib.disconnectedEvent += lambda: log.warning("Gateway disconnected")
        if "no-orders" in self.faults:
            log.info("Waiting for a gameplan: no orders until one arrives")
        else:
            self._gameplan(ib)
        return self._loop(ib)

    def _connect(self, ib, attempts: int | None = 5) -> bool:
        """Connect with backoff; `attempts` None: until stopped (on the world's clock, whose owner decides how
        long the gateway stays away)."""
        delay = 0.5 if self.clock is None else DAY_RETRY_SECONDS
        attempt = 0
        while attempts is None or attempt < attempts:
            attempt += 1
            if self.stop_requested.is_set():
                return False
            try:
                ib.connect(self.config.host, self.config.port, clientId=self.config.client_id, timeout=5)
                return True
            except (OSError, TimeoutError, ConnectionError) as exc:
                self.log.warning("Connect attempt %d failed: %s", attempt, type(exc).__name__)
                if self.clock is not None:  # the world moves its clock on once the attempt is in the log
                    self.clock.tell(self.clock.now(), "connecting")
                self.stop_requested.wait(delay)
                delay = min(delay * 2, 8.0) if self.clock is None else delay  # the world's clock paces it
        return False

    def _gameplan(self, ib) -> None:
        from ib_async import LimitOrder, Stock

        if self.config.dry_run:
            for strategy, symbol, side, qty, price in STRATEGY_ORDERS:
                self.log.info("Signal (dry-run, not sent): strategy=%s %s %s %s @ %.2f", strategy, side, qty,
                              symbol, price)
            self.log.info("Gameplan complete: signals only (dry-run)")
            return
        # On the world's clock the orders are good till cancelled: the run the morning after finds them still open.
        tif = "DAY" if self.clock is None else "GTC"
        hidden: set[int] = set()  # sent, never logged (the unlogged-order knob)
        for number, (strategy, symbol, side, qty, price) in enumerate(STRATEGY_ORDERS):
            if "oversized-orders" in self.faults:
                qty, price = qty * 100_000, 500.0
            if number == 1 and "unlogged-order" in self.faults:
                unlogged = ib.placeOrder(Stock("DIA", "SMART", "USD"),
                                         LimitOrder("BUY", 1, 1.00, orderRef="strategy-B", tif=tif))
                hidden.add(unlogged.order.orderId)
            order = LimitOrder(side, qty, price, orderRef=f"strategy-{strategy}", tif=tif)
            trade = ib.placeOrder(Stock(symbol, "SMART", "USD"), order)
            self.log.info("Order submitted: id=%s ref=%s %s %s %s @ %.2f", trade.order.orderId, order.orderRef,
                          side, qty, symbol, price)
        if "phantom-order" in self.faults:
            self.log.info("Order submitted: id=999 ref=strategy-B BUY 3 DIA @ 1.00")
        self._await_statuses(ib, 1.0 if self.clock is None else 0.3)
        for trade in ib.trades():
            if trade.order.orderId in hidden:
                continue
            self.log.info("Order status: id=%s %s", trade.order.orderId, trade.orderStatus.status)
            for entry in trade.log:
                if entry.errorCode == 201:
                    self.log.info("Order rejected: id=%s code=%s reason=%s", trade.order.orderId, entry.errorCode,
                                  entry.message)
        self.log.info("Gameplan complete: %d orders submitted", len(STRATEGY_ORDERS))

    @staticmethod
    def _await_statuses(ib, at_most: float) -> None:
        """Until the gateway has answered every order sent (a status past PendingSubmit), at most `at_most` s: a
        fake gateway answers in milliseconds, one told to stay silent never does."""
        deadline = time.monotonic() + at_most
        while time.monotonic() < deadline:
            if all(trade.orderStatus.status not in ("", "PendingSubmit") for trade in ib.trades()):
                ib.sleep(0.05)  # the rest of the answer (PreSubmitted, then Submitted) comes in the same burst
                return
            ib.sleep(0.02)

    def _loop(self, ib) -> int:
        if self.clock is not None:
            return self._day_loop(ib, self.clock)
        deadline = None if self.run_for is None else time.monotonic() + self.run_for
        while not self.stop_requested.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            if not ib.isConnected():
                if "no-reconnect" in self.faults:
                    self.log.error("Gateway connection lost; not reconnecting")
                    return 3
                self.log.info("Reconnecting to IBKR Gateway at %s:%s", self.config.host, self.config.port)
                if self._connect(ib, attempts=30):
                    self.log.info("Gateway connection re-established")
                continue
            try:
                ib.sleep(0.2)
            except ConnectionError:  # ib_async raises from sleep when the gateway closes the socket
                continue
        self.log.info("Shutting down: clean shutdown complete")
        with contextlib.suppress(Exception):  # already disconnected after a restart: nothing to close
            ib.disconnect()
        return 0


    def _day_loop(self, ib, clock: WorldClock) -> int:
        """Live on the world's clock: a heartbeat every `heartbeat` of it, a lost gateway retried at once (or, with
        `no-reconnect`, given up on while the bot runs on), and each instant acted on told back to the world."""
        gave_up = False
        seen = last_beat = None
        moved_at = time.monotonic()
        while not self.stop_requested.is_set():
            now = clock.now()
            if now != seen:
                seen, moved_at = now, time.monotonic()
                if "crash-at-noon" in self.faults and clock.wall(now).hour >= 12:
                    raise RuntimeError("stand-in bot: crash-at-noon fault")
                if last_beat is None or now - last_beat >= self.heartbeat:
                    state = "gateway connected" if ib.isConnected() else "gateway disconnected"
                    self.log.info("%s, %s", HEARTBEAT_TEXT, state)
                    last_beat = now
            if not ib.isConnected() and not gave_up:
                if "no-reconnect" in self.faults:  # a quiet give-up: the bot runs on as if nothing happened
                    self.log.warning("Gateway connection lost; not reconnecting")
                    gave_up = True
                else:
                    self.log.info("Reconnecting to IBKR Gateway at %s:%s", self.config.host, self.config.port)
                    if self._connect(ib, attempts=None):
                        self.log.info("Gateway connection re-established")
                    continue
            clock.tell(now, "connected" if ib.isConnected() else "disconnected")
            idle = time.monotonic() - moved_at > DAY_IDLE_AFTER
            try:
                ib.sleep(DAY_IDLE_POLL_SECONDS if idle else DAY_POLL_SECONDS)
            except ConnectionError:  # ib_async raises from sleep when the gateway closes the socket
                continue
        self.log.info("Shutting down: clean shutdown complete")
        with contextlib.suppress(Exception):
            ib.disconnect()
        return 0


PARENT_POLL_SECONDS = 0.5
PARENT_GONE_GRACE_SECONDS = 5.0


def _stop_with_parent(stop_requested: threading.Event) -> None:
    """The stand-in bot belongs to the world that started it: when that process is gone (killed, not torn down:
    SIGKILL of a demo step past its timeout, SIGTERM of a watch), the bot stops too, cleanly if it can within a
    grace period, else at once. Otherwise it would retry a fake gateway that no longer exists, forever."""
    import psutil

    parent = os.getppid()
    try:
        born = psutil.Process(parent).create_time()
    except psutil.Error:
        return

    def parent_alive() -> bool:
        if os.getppid() != parent:  # POSIX: re-parented once the parent died
            return False
        try:
            return psutil.Process(parent).create_time() == born  # Windows: the id may be reused
        except psutil.Error:
            return False

    def watch() -> None:
        while parent_alive():
            time.sleep(PARENT_POLL_SECONDS)
        stop_requested.set()
        time.sleep(PARENT_GONE_GRACE_SECONDS)
        os._exit(0)  # the clean stop did not come in time: nothing is left to report to

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.fakes.bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot-dir", required=True, type=Path)
    parser.add_argument("--run-for", type=float, default=None, help="seconds to run, then shut down cleanly")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS))
    parser.add_argument("--clock-file", type=Path, default=None, help="live on the world's clock (see above)")
    parser.add_argument("--log-zone", default=None, help="the machine's time zone for log times (with --clock-file)")
    parser.add_argument("--heartbeat-minutes", type=float, default=10.0, help="of the world's clock")
    args = parser.parse_args(argv)
    faults = set(args.fault) | {f for f in os.environ.get("BOT_FAULTS", "").split(",") if f}
    unknown = faults - set(FAULTS)
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(sorted(unknown))}")
    clock = None
    if args.clock_file is not None:
        from zoneinfo import ZoneInfo

        clock = WorldClock(args.clock_file, ZoneInfo(args.log_zone) if args.log_zone else None)
    bot = StandInBot(args.bot_dir, faults, args.run_for, clock, timedelta(minutes=args.heartbeat_minutes))
    signal.signal(signal.SIGTERM, lambda *_: bot.stop_requested.set())
    _stop_with_parent(bot.stop_requested)
    try:
        return bot.run()
    except KeyboardInterrupt:
        bot.log.info("Shutting down: clean shutdown complete")
        return 0
    except Exception:
        bot.log.exception("Unhandled error; the bot stops")
        return 1


if __name__ == "__main__":
    sys.exit(main())
