"""SMA bot: streams 1-minute bars of one symbol, buys a little below its 20-bar simple moving average.

    poetry run python -m src.main
"""

import logging
import os
import signal
import sys
from datetime import datetime

import requests
from dotenv import load_dotenv
from ib_async import IB, LimitOrder, Stock

load_dotenv()

DRY_RUN = os.getenv("DRY_RUN", "true").lower() == "true"
PAPER_TRADING = os.getenv("PAPER_TRADING", "false").lower() == "true"
IBKR_HOST = os.getenv("IBKR_HOST", "127.0.0.1")
IBKR_PORT = int(os.getenv("IBKR_PORT", "4002"))
IBKR_CLIENT_ID = int(os.getenv("IBKR_CLIENT_ID", "1"))
DISCORD_WEBHOOK_URL = os.getenv("DISCORD_WEBHOOK_URL", "")
SYMBOL = os.getenv("SYMBOL", "SPY")
SMA_BARS = 20

os.makedirs(os.getenv("LOG_DIR", "logs"), exist_ok=True)
logging.basicConfig(
    level=os.getenv("LOG_LEVEL", "INFO"),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    handlers=[logging.FileHandler(os.path.join(os.getenv("LOG_DIR", "logs"), "bot.log")),
              logging.StreamHandler(sys.stdout)],
)
logging.getLogger("ib_async").setLevel(logging.WARNING)
log = logging.getLogger("smabot")


def mode_name():
    if DRY_RUN:
        return "DRY-RUN"
    return "PAPER TRADING" if PAPER_TRADING else "LIVE"


def notify(text):
    if not DISCORD_WEBHOOK_URL:
        return
    try:
        requests.post(DISCORD_WEBHOOK_URL, json={"content": text}, timeout=10)
    except requests.RequestException as exc:
        log.warning("Discord notification failed: %s", exc)


class SmaBot:
    def __init__(self):
        self.ib = IB()
        self.contract = Stock(SYMBOL, "SMART", "USD")
        self.bars = None
        self.ordered = False
        self.last_side = None

    def start(self):
        log.info("Configuration loaded: DRY_RUN=%s, PAPER_TRADING=%s", str(DRY_RUN).lower(), str(PAPER_TRADING).lower())
        log.info("Connecting to IBKR Gateway at %s:%s", IBKR_HOST, IBKR_PORT)
        self.ib.connect(IBKR_HOST, IBKR_PORT, clientId=IBKR_CLIENT_ID, timeout=10)
        log.info("Gateway connection established")
        if DRY_RUN:
            log.info("DRY_RUN mode active: signals are logged, no orders are sent")
        elif PAPER_TRADING:
            log.info("Paper trading mode ACTIVE")
        else:
            log.warning("Live trading mode ACTIVE")
        self.ib.qualifyContracts(self.contract)
        self.bars = self.ib.reqHistoricalData(self.contract, endDateTime="", durationStr="2 D",
                                              barSizeSetting="1 min", whatToShow="TRADES", useRTH=True,
                                              keepUpToDate=True)
        log.info("Bot initialized successfully")
        notify(f"Bot started in {mode_name()} mode at {datetime.now():%Y-%m-%d %H:%M:%S}")
        self.on_bars(self.bars, True)
        self.bars.updateEvent += self.on_bars

    def on_bars(self, bars, has_new_bar):
        if not has_new_bar or len(bars) < SMA_BARS:
            return
        closes = [bar.close for bar in bars[-SMA_BARS:]]
        sma = sum(closes) / len(closes)
        side = "above" if bars[-1].close > sma else "below"
        if side != self.last_side:
            log.info("%s closed %s its %d-bar SMA %.2f at %.2f", SYMBOL, side, SMA_BARS, sma, bars[-1].close)
            self.last_side = side
        if self.ordered:
            return
        self.ordered = True
        price = round(sma * 0.98, 2)
        if DRY_RUN:
            log.info("Signal (dry-run, not sent): BUY 1 %s @ %.2f", SYMBOL, price)
            return
        order = LimitOrder("BUY", 1, price, orderRef="sma-pullback", tif="DAY")
        trade = self.ib.placeOrder(self.contract, order)
        log.info("Order submitted: id=%s ref=%s BUY 1 %s @ %.2f", trade.order.orderId, order.orderRef, SYMBOL, price)

    def run(self):
        self.start()
        self.ib.run()


def stop(*_):
    raise KeyboardInterrupt


def main():
    bot = SmaBot()
    signal.signal(signal.SIGTERM, stop)
    try:
        bot.run()
    except KeyboardInterrupt:
        log.info("Shutting down: clean shutdown complete")
    finally:
        bot.ib.disconnect()


if __name__ == "__main__":
    main()
