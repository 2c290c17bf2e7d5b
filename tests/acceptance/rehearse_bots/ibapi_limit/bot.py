"""Limit-order bot on IB's own API (ibapi's EWrapper/EClient and its reader thread).

Qualifies its stock with reqContractDetails, reads the last session's 5-minute bars and rests one small BUY limit
order 3% under the last close. Configuration from .env (python-dotenv).

    python bot.py
"""

import json
import logging
import os
import threading
import time
import urllib.request
from datetime import datetime

from dotenv import load_dotenv
from ibapi.client import EClient
from ibapi.contract import Contract
from ibapi.order import Order
from ibapi.wrapper import EWrapper

load_dotenv()

DRY_RUN = os.environ.get("DRY_RUN", "true").strip().lower() in ("1", "true", "yes")
PAPER_TRADING = os.environ.get("PAPER_TRADING", "false").strip().lower() in ("1", "true", "yes")
HOST = os.environ.get("IBKR_HOST", "127.0.0.1")
PORT = int(os.environ.get("IBKR_PORT", "4002"))
CLIENT_ID = int(os.environ.get("IBKR_CLIENT_ID", "1"))
WEBHOOK = os.environ.get("DISCORD_WEBHOOK_URL")
SYMBOL = os.environ.get("SYMBOL", "AAPL")
INFO_CODES = {2104, 2106, 2107, 2108, 2119, 2158}  # "market data farm connection is OK" and the like

os.makedirs("logs", exist_ok=True)
log = logging.getLogger("limitbot")
log.setLevel(logging.INFO)
handler = logging.FileHandler("logs/limitbot.log", encoding="utf-8")
handler.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(message)s"))
log.addHandler(handler)
log.addHandler(logging.StreamHandler())


def post_discord(message):
    if not WEBHOOK:
        return
    body = json.dumps({"content": message}).encode()
    request = urllib.request.Request(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except OSError as exc:
        log.warning("could not post to Discord: %s", exc)


class LimitBot(EWrapper, EClient):
    def __init__(self):
        EClient.__init__(self, self)
        self.next_order_id = None
        self.connected_event = threading.Event()
        self.details_done = threading.Event()
        self.bars_done = threading.Event()
        self.contract = None
        self.closes = []

    # EWrapper callbacks
    def nextValidId(self, orderId):
        self.next_order_id = orderId
        self.connected_event.set()

    def error(self, reqId, errorCode, errorString, *rest):
        if errorCode in INFO_CODES:
            log.info("TWS notice %s: %s", errorCode, errorString)
        else:
            log.error("TWS error %s (request %s): %s", errorCode, reqId, errorString)

    def contractDetails(self, reqId, contractDetails):
        self.contract = contractDetails.contract

    def contractDetailsEnd(self, reqId):
        self.details_done.set()

    def historicalData(self, reqId, bar):
        self.closes.append(bar.close)

    def historicalDataEnd(self, reqId, start, end):
        self.bars_done.set()

    def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId, lastFillPrice,
                    clientId, whyHeld, *rest):
        log.info("Order status: id=%s %s", orderId, status)


def mode():
    if DRY_RUN:
        return "DRY-RUN"
    if PAPER_TRADING:
        return "PAPER TRADING"
    return "LIVE"


def main():
    log.info("Configuration loaded: DRY_RUN=%s, PAPER_TRADING=%s", str(DRY_RUN).lower(), str(PAPER_TRADING).lower())
    app = LimitBot()
    log.info("Connecting to IBKR Gateway at %s:%s", HOST, PORT)
    app.connect(HOST, PORT, CLIENT_ID)
    reader = threading.Thread(target=app.run, daemon=True)
    reader.start()
    if not app.connected_event.wait(10):
        log.error("Gateway connection failed")
        return 1
    log.info("Gateway connection established")
    if DRY_RUN:
        log.info("Dry run mode active: orders are only logged")
    elif PAPER_TRADING:
        log.info("Paper trading mode ACTIVE")
    else:
        log.warning("Live trading mode ACTIVE")

    query = Contract()
    query.symbol, query.secType, query.exchange, query.currency = SYMBOL, "STK", "SMART", "USD"
    app.reqContractDetails(1, query)
    app.details_done.wait(10)
    if app.contract is None:
        log.error("No contract details for %s", SYMBOL)
        return 1
    app.contract.exchange = "SMART"
    app.reqHistoricalData(2, app.contract, "", "2 D", "5 mins", "TRADES", 1, 1, False, [])
    app.bars_done.wait(10)
    log.info("Bot initialized successfully")
    post_discord(f"Bot started in {mode()} mode at {datetime.now():%Y-%m-%d %H:%M:%S}")

    if app.closes:
        price = round(app.closes[-1] * 0.97, 2)
        if DRY_RUN:
            log.info("Would buy 1 %s @ %.2f (not sent)", SYMBOL, price)
        else:
            order = Order()
            order.action, order.orderType, order.totalQuantity, order.lmtPrice = "BUY", "LMT", 1, price
            order.tif, order.orderRef = "DAY", "limit-dip"
            order.eTradeOnly, order.firmQuoteOnly = False, False
            order_id = app.next_order_id
            app.next_order_id += 1
            app.placeOrder(order_id, app.contract, order)
            log.info("Order submitted: id=%s ref=%s BUY 1 %s @ %.2f", order_id, order.orderRef, SYMBOL, price)
    try:
        while reader.is_alive():
            time.sleep(0.5)
    except KeyboardInterrupt:
        log.info("Shutting down: clean shutdown complete")
    app.disconnect()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
