"""The stand-in bot: a small, honest trading bot that follows the contract the features check.

It reads its `.env` with python-dotenv (override=False, so the process environment wins, as in real bots),
logs the seed's startup lines, posts its startup notification to its Discord webhook, connects to the IB
Gateway with ib_async, runs the test gameplan (Strategy A and B: a few small orders, each logged with its
order id), reconnects with backoff after the gateway's daily restart, and shuts down cleanly.

Fault knobs (`--fault NAME`, repeatable, or BOT_FAULTS=a,b) make each faulty world the features must catch.

    python -m harness.fakes.bot --bot-dir DIR [--run-for SECONDS] [--fault live-log ...]
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
from datetime import datetime
from pathlib import Path

FAULTS = {
    "live-log": "logs 'Live trading mode ACTIVE' instead of the paper line",
    "dry-run-log": "logs 'DRY_RUN mode active' although configured for paper",
    "discord-dry-run": "posts 'Bot started in DRY-RUN mode' to Discord",
    "discord-live": "posts 'Bot started in LIVE mode' to Discord",
    "no-discord": "posts nothing to Discord",
    "ignore-env": "does not take its mode from .env (runs on its defaults: dry-run)",
    "crash": "crashes with a traceback right after initialisation",
    "no-reconnect": "gives up when the gateway drops the connection",
    "skip-ready-line": "never logs 'Bot initialized successfully'",
    "oversized-orders": "sizes its orders far beyond the account's buying power",
    "no-orders": "runs no gameplan",
    "phantom-order": "logs one more submitted order than it sends",
}

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


def _setup_logging(log_dir: Path) -> logging.Logger:
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(log_dir / "bot.log", maxBytes=5_000_000, backupCount=3,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
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


def post_discord(url: str, content: str, log: logging.Logger) -> None:
    body = json.dumps({"content": content}).encode("utf-8")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
    except OSError as exc:
        log.warning("Discord notification failed: %s", type(exc).__name__)


class StandInBot:
    def __init__(self, bot_dir: Path, faults: set[str], run_for: float | None) -> None:
        self.bot_dir = bot_dir
        self.faults = faults
        self.run_for = run_for
        self.stop_requested = threading.Event()
        self.config = load_config(bot_dir, faults)
        self.log = _setup_logging(self.config.log_dir)

    def run(self) -> int:
        config, log = self.config, self.log
        log.info("Configuration loaded: DRY_RUN=%s, PAPER_TRADING=%s",
                 str(config.dry_run).lower(), str(config.paper_trading).lower())
        log.info("Connecting to IBKR Gateway at %s:%s", config.host, config.port)
        from ib_async import IB

        ib = IB()
        if not self._connect(ib):
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
            stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
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

    def _connect(self, ib, attempts: int = 5) -> bool:
        delay = 0.5
        for attempt in range(1, attempts + 1):
            if self.stop_requested.is_set():
                return False
            try:
                ib.connect(self.config.host, self.config.port, clientId=self.config.client_id, timeout=5)
                return True
            except (OSError, TimeoutError, ConnectionError) as exc:
                self.log.warning("Connect attempt %d failed: %s", attempt, type(exc).__name__)
                self.stop_requested.wait(delay)
                delay = min(delay * 2, 8.0)
        return False

    def _gameplan(self, ib) -> None:
        from ib_async import LimitOrder, Stock

        if self.config.dry_run:
            for strategy, symbol, side, qty, price in STRATEGY_ORDERS:
                self.log.info("Signal (dry-run, not sent): strategy=%s %s %s %s @ %.2f", strategy, side, qty,
                              symbol, price)
            self.log.info("Gameplan complete: signals only (dry-run)")
            return
        for strategy, symbol, side, qty, price in STRATEGY_ORDERS:
            if "oversized-orders" in self.faults:
                qty, price = qty * 100_000, 500.0
            order = LimitOrder(side, qty, price, orderRef=f"strategy-{strategy}", tif="DAY")
            trade = ib.placeOrder(Stock(symbol, "SMART", "USD"), order)
            self.log.info("Order submitted: id=%s ref=%s %s %s %s @ %.2f", trade.order.orderId, order.orderRef,
                          side, qty, symbol, price)
        if "phantom-order" in self.faults:
            self.log.info("Order submitted: id=999 ref=strategy-B BUY 3 DIA @ 1.00")
        ib.sleep(1.0)
        for trade in ib.trades():
            self.log.info("Order status: id=%s %s", trade.order.orderId, trade.orderStatus.status)
            for entry in trade.log:
                if entry.errorCode == 201:
                    self.log.info("Order rejected: id=%s code=%s reason=%s", trade.order.orderId, entry.errorCode,
                                  entry.message)
        self.log.info("Gameplan complete: %d orders submitted", len(STRATEGY_ORDERS))

    def _loop(self, ib) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.fakes.bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot-dir", required=True, type=Path)
    parser.add_argument("--run-for", type=float, default=None, help="seconds to run, then shut down cleanly")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS))
    args = parser.parse_args(argv)
    faults = set(args.fault) | {f for f in os.environ.get("BOT_FAULTS", "").split(",") if f}
    unknown = faults - set(FAULTS)
    if unknown:
        parser.error(f"unknown fault(s): {', '.join(sorted(unknown))}")
    bot = StandInBot(args.bot_dir, faults, args.run_for)
    signal.signal(signal.SIGTERM, lambda *_: bot.stop_requested.set())
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
