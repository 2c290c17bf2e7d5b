"""SMA crossover bot (ib_insync 0.9.86): a 5-bar and a 20-bar SMA of 5-minute bars; when the fast one is above the
slow one it rests a BUY limit 2% under the close, else a SELL limit 2% over it. One order per start.

Only ib_insync and the standard library: its own .env reader, urllib for the Discord webhook.

    python crossover_bot.py
"""

import json
import logging
import os
import sys
import urllib.request
from datetime import datetime
from pathlib import Path

from ib_insync import IB, LimitOrder, Stock

HERE = Path(__file__).resolve().parent


def read_env(path):
    """KEY=VALUE lines; comments, blank lines and quotes handled; the process environment wins."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.split(" #", 1)[0].strip().strip('"').strip("'")
        os.environ.setdefault(key.strip(), value)


read_env(HERE / ".env")


def flag(name, default):
    return os.environ.get(name, default).lower() in ("true", "1", "yes", "on")


DRY_RUN = flag("DRY_RUN", "true")
PAPER_TRADING = flag("PAPER_TRADING", "false")
HOST = os.environ.get("IBKR_HOST", "127.0.0.1")
PORT = int(os.environ.get("IBKR_PORT", "4002"))
CLIENT_ID = int(os.environ.get("IBKR_CLIENT_ID", "1"))
WEBHOOK = os.environ.get("DISCORD_WEBHOOK_URL", "")
SYMBOL = os.environ.get("SYMBOL", "QQQ")
FAST, SLOW = 5, 20

(HERE / "logs").mkdir(exist_ok=True)
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s - %(message)s",
                    handlers=[logging.FileHandler(HERE / "logs" / "crossover.log", encoding="utf-8"),
                              logging.StreamHandler(sys.stdout)])
for noisy in ("ib_insync.wrapper", "ib_insync.client", "ib_insync.ib"):
    logging.getLogger(noisy).setLevel(logging.WARNING)
log = logging.getLogger("crossover")


def discord(text):
    if not WEBHOOK:
        return
    data = json.dumps({"content": text}).encode("utf-8")
    try:
        urllib.request.urlopen(urllib.request.Request(WEBHOOK, data=data, headers={"Content-Type": "application/json"}),
                               timeout=10).close()
    except OSError as exc:
        log.warning("Discord post failed: %s", exc)


def sma(values, n):
    return sum(values[-n:]) / n


def main():
    mode = "DRY-RUN" if DRY_RUN else ("PAPER TRADING" if PAPER_TRADING else "LIVE")
    log.info("Configuration loaded: DRY_RUN=%s, PAPER_TRADING=%s", str(DRY_RUN).lower(), str(PAPER_TRADING).lower())
    ib = IB()
    log.info("Connecting to IBKR Gateway at %s:%s", HOST, PORT)
    ib.connect(HOST, PORT, clientId=CLIENT_ID, timeout=10)
    log.info("Gateway connection established")
    if DRY_RUN:
        log.info("DRY RUN mode active - no orders will be sent")
    elif PAPER_TRADING:
        log.info("Paper trading mode ACTIVE")
    else:
        log.warning("LIVE trading mode ACTIVE")
    contract = Stock(SYMBOL, "SMART", "USD")
    ib.qualifyContracts(contract)
    bars = ib.reqHistoricalData(contract, "", "2 D", "5 mins", "TRADES", useRTH=True)
    closes = [bar.close for bar in bars]
    log.info("Bot initialized successfully")
    discord(f"Bot started in {mode} mode at {datetime.now():%Y-%m-%d %H:%M:%S}")
    if len(closes) >= SLOW:
        fast, slow, last = sma(closes, FAST), sma(closes, SLOW), closes[-1]
        side = "BUY" if fast > slow else "SELL"
        price = round(last * (0.98 if side == "BUY" else 1.02), 2)
        log.info("%s fast SMA %.2f, slow SMA %.2f: %s signal", SYMBOL, fast, slow, side)
        if DRY_RUN:
            log.info("Signal only (not sent): %s 1 %s @ %.2f", side, SYMBOL, price)
        else:
            trade = ib.placeOrder(contract, LimitOrder(side, 1, price, orderRef="sma-cross"))
            log.info("Order submitted: id=%s ref=sma-cross %s 1 %s @ %.2f", trade.order.orderId, side, SYMBOL, price)
    try:
        ib.run()
    except KeyboardInterrupt:
        log.info("Shutting down: clean shutdown complete")
    finally:
        ib.disconnect()


if __name__ == "__main__":
    main()
