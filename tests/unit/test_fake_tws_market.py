"""A strategy bot's day against the fake over a real socket, with the real ib_async (and IB's own ibapi): contract
details, market data types 1-4, historical and real-time bars, what-if orders, fills that follow the path, and
requests the fake does not serve ending at once. The clock is pinned with HARNESS_EMBEDDED_NOW."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import pytest
from ib_async import IB, LimitOrder, MarketOrder, ScannerSubscription, Stock

from harness.core import clock
from harness.fakes.tws import FakeGateway, example_world_path, load_world
from harness.fakes.tws.market import snapshot
from harness.fakes.tws.world import NEW_YORK, World
from tests.unit import tws_fixtures
from tests.unit.tws_fixtures import WAIT, wait_for

ib_log_guard = tws_fixtures.ib_log_guard

PROMPT = 1.0  # an answer (or an error) comes within this many seconds, never after a client's timeout


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)


@pytest.fixture
def day(monkeypatch: pytest.MonkeyPatch, ib_log_guard: tws_fixtures.IbLogGuard) -> Iterator[Callable[..., IB]]:
    """`day(instant)`: pin the clock at `instant`, start the paper-market world's gateway, connect ib_async."""
    started: list[tuple[FakeGateway, IB]] = []

    def open_day(instant: datetime, world: World | None = None) -> IB:
        for name, value in clock.pinned_environ(instant).items():
            monkeypatch.setenv(name, value)
        fake = FakeGateway(world or load_world(example_world_path("paper-market"))).start()
        ib = IB()
        started.append((fake, ib))
        ib.connect(fake.host, fake.port, clientId=1, timeout=WAIT)
        ib.RequestTimeout = WAIT
        return ib

    open_day.gateway = lambda: started[-1][0]  # type: ignore[attr-defined]
    yield open_day
    for fake, ib in started:
        ib.disconnect()
        fake.stop()


def stock(ib: IB, symbol: str) -> Stock:
    """A qualified stock, as a bot has it (ib_async keys tickers by conId)."""
    [contract] = ib.qualifyContracts(Stock(symbol, "SMART", "USD"))
    return contract


def gateway_of(day: Callable[..., IB]) -> FakeGateway:
    return day.gateway()  # type: ignore[attr-defined]


def timed(call: Callable[[], object]) -> tuple[object, float]:
    began = time.monotonic()
    result = call()
    return result, time.monotonic() - began


# -- contract details ------------------------------------------------------------------------------------------
def test_qualify_contracts_and_contract_details(day, ib_log_guard) -> None:
    ib = day(ny(2026, 11, 25, 9, 0))
    qualified = ib.qualifyContracts(*(Stock(s, "SMART", "USD") for s in ("SPY", "QQQ", "AAPL", "MSFT")))
    assert [(c.symbol, c.conId, c.primaryExchange, c.exchange) for c in qualified] == [
        ("SPY", 756733, "ARCA", "SMART"), ("QQQ", 320227571, "NASDAQ", "SMART"),
        ("AAPL", 265598, "NASDAQ", "SMART"), ("MSFT", 272093, "NASDAQ", "SMART")]
    [details] = ib.reqContractDetails(Stock("SPY", "SMART", "USD"))
    assert (details.minTick, details.timeZoneId, details.longName, details.stockType) == (
        0.01, "US/Eastern", "SPDR S&P 500 ETF TRUST", "ETF")
    assert details.tradingHours.startswith(
        "20261125:0400-20261125:2000;20261126:CLOSED;20261127:0400-20261127:1700;20261128:CLOSED")
    assert details.liquidHours.startswith("20261125:0930-20261125:1600;20261126:CLOSED;20261127:0930-20261127:1300")
    assert [s.end for s in details.liquidSessions()[:2]] == [ny(2026, 11, 25, 16, 0), ny(2026, 11, 27, 13, 0)]
    [by_id] = ib.reqContractDetails(Stock(conId=265598))
    assert by_id.contract.symbol == "AAPL"
    assert [p.increment for p in ib.reqMarketRule(26)] == [0.01]


def test_an_unknown_symbol_gets_no_security_definition_at_once(day, ib_log_guard) -> None:
    ib_log_guard.allow(200, patterns=("Unknown contract",))
    ib = day(ny(2026, 11, 25, 9, 0))
    codes: list[tuple[int, str]] = []
    ib.errorEvent += lambda req_id, code, text, *rest: codes.append((code, text))
    (details, seconds) = timed(lambda: ib.reqContractDetails(Stock("NOPE", "SMART", "USD")))
    assert details == [] and seconds < PROMPT
    assert ib.qualifyContracts(Stock("NOPE", "SMART", "USD")) == [None]
    assert codes[0] == (200, "No security definition has been found for the request")
    gateway_of(day).check()  # an unknown symbol is an answer, not an unserved request


# -- market data -------------------------------------------------------------------------------------------------
def test_delayed_snapshot_with_req_tickers(day) -> None:
    at = ny(2026, 11, 24, 11, 0)
    ib = day(at)
    spy = stock(ib, "SPY")
    ib.reqMarketDataType(3)
    [ticker] = ib.reqTickers(spy)
    assert ticker.marketDataType == 3
    world = gateway_of(day).world
    expected = snapshot(world.instruments["SPY"], world.path("SPY"), at - timedelta(minutes=15), frozen=False)
    assert (ticker.bid, ticker.ask, ticker.last, ticker.close) == (expected.bid, expected.ask, expected.last,
                                                                   expected.close)
    assert ticker.bidSize > 0 and ticker.askSize > 0 and ticker.lastSize > 0 and ticker.volume > 0
    assert ticker.low <= ticker.last <= ticker.high and ticker.open > 0
    assert ticker.delayedLastTimestamp is not None
    assert abs(ticker.delayedLastTimestamp - (at - timedelta(minutes=15))) < timedelta(seconds=3)


def test_live_snapshot_and_the_types_off_hours(day) -> None:
    ib = day(ny(2026, 11, 26, 12, 0))  # Thanksgiving: the market is shut
    spy = stock(ib, "SPY")
    [live] = ib.reqTickers(spy)
    assert live.marketDataType == 1 and (live.bid, live.bidSize, live.ask, live.askSize) == (-1, 0, -1, 0)  # no quote
    assert live.lastTimestamp == ny(2026, 11, 25, 19, 59, 59) and live.last > 0  # Wednesday's last trade
    ib.reqMarketDataType(2)
    [frozen] = ib.reqTickers(stock(ib, "QQQ"))
    assert frozen.marketDataType == 2 and frozen.bid > 0 and frozen.ask > frozen.bid
    ib.reqMarketDataType(4)
    [delayed_frozen] = ib.reqTickers(stock(ib, "AAPL"))
    assert delayed_frozen.marketDataType == 4 and delayed_frozen.bid > 0


def test_streaming_market_data_updates_and_cancel(day, ib_log_guard) -> None:
    ib = day(ny(2026, 11, 24, 10, 0))
    spy = stock(ib, "SPY")
    gateway = gateway_of(day)
    ticker = ib.reqMktData(spy)
    wait_for(lambda: ticker.last > 0 and ticker.bid > 0, what="first ticks")
    assert ticker.marketDataType == 1
    seen: list[float] = []
    ticker.updateEvent += lambda t: seen.append(t.last)
    for _ in range(5):
        gateway.advance_clock(60)
        ib.sleep(0.15)
    assert len(seen) >= 3
    assert ticker.last == gateway.world.price("SPY", ticker.lastTimestamp)
    ib.reqMarketDataType(3)  # a running stream switches type and says so
    wait_for(lambda: ticker.marketDataType == 3, what="marketDataType 3")
    ib.cancelMktData(spy)
    wait_for(lambda: gateway.requests_named("cancelMktData"), what="cancelMktData")
    gateway.advance_clock(120)
    ib.sleep(0.3)  # a tick after the cancel would be logged by ib_async as an unknown reqId (the log guard)
    gateway.check()


# -- historical bars ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("duration", "size", "what", "rth", "count"),
    [
        ("1 D", "5 mins", "TRADES", True, 78),
        ("1 D", "1 min", "TRADES", True, 390),
        ("1 D", "1 hour", "MIDPOINT", True, 7),
        ("1 D", "30 mins", "TRADES", False, 32),  # 04:00 to 20:00
        ("2 D", "1 day", "BID_ASK", True, 2),
        ("7200 S", "1 min", "TRADES", False, 60),  # 19:00 to 20:00: the extended session ends
    ],
)
def test_historical_bars_on_a_normal_day(day, duration: str, size: str, what: str, rth: bool, count: int) -> None:
    ib = day(ny(2026, 11, 24, 21, 0))
    spy = stock(ib, "SPY")
    bars = ib.reqHistoricalData(spy, "", duration, size, what, rth)
    assert len(bars) == count
    assert all(b.low <= b.open <= b.high and b.low <= b.close <= b.high for b in bars)
    assert all((b.volume > 0) is (what == "TRADES") for b in bars)


def test_historical_bars_on_the_early_close_and_the_holiday(day, ib_log_guard) -> None:
    ib_log_guard.allow(162)
    ib = day(ny(2026, 11, 27, 18, 0))
    spy = stock(ib, "SPY")
    regular = ib.reqHistoricalData(spy, "", "1 D", "5 mins", "TRADES", True)
    assert len(regular) == 42 and regular[-1].date == ny(2026, 11, 27, 12, 55)
    extended = ib.reqHistoricalData(spy, "", "1 D", "1 hour", "TRADES", False)
    assert extended[-1].date == ny(2026, 11, 27, 16, 0)  # the after-hours session ends at 17:00
    daily = ib.reqHistoricalData(spy, "", "1 W", "1 day", "TRADES", True)
    assert [b.date for b in daily] == [date(2026, 11, d) for d in (20, 23, 24, 25, 27)]  # no bar on the 26th
    thanksgiving = ny(2026, 11, 26, 16, 0)
    on_the_day = ib.reqHistoricalData(spy, thanksgiving, "1 D", "1 hour", "TRADES", True)
    assert {b.date.date() for b in on_the_day} == {date(2026, 11, 25)}  # "1 D" is the last trading day
    (empty, seconds) = timed(lambda: ib.reqHistoricalData(spy, thanksgiving, "3600 S", "1 min", "TRADES", True))
    assert list(empty) == [] and seconds < PROMPT  # HMDS: no data, at once
    epoch = ib.reqHistoricalData(spy, "", "1 D", "1 hour", "TRADES", True, formatDate=2)
    assert epoch[0].date == ny(2026, 11, 27, 9, 30)


def test_keep_up_to_date_streams_the_bar_in_progress(day) -> None:
    ib = day(ny(2026, 11, 24, 10, 0, 30))
    spy = stock(ib, "SPY")
    gateway = gateway_of(day)
    bars = ib.reqHistoricalData(spy, "", "1800 S", "1 min", "TRADES", True, keepUpToDate=True)
    assert bars[-1].date == ny(2026, 11, 24, 10, 0)
    count = len(bars)
    updates: list[bool] = []
    bars.updateEvent += lambda _bars, new_bar: updates.append(new_bar)
    gateway.advance_clock(60)
    wait_for(lambda: len(bars) == count + 1, what="a new bar")
    assert True in updates and bars[-1].date == ny(2026, 11, 24, 10, 1)
    ib.cancelHistoricalData(bars)
    wait_for(lambda: gateway.requests_named("cancelHistoricalData"), what="cancelHistoricalData")
    gateway.advance_clock(120)
    ib.sleep(0.3)
    assert len(bars) == count + 1


def test_real_time_bars(day) -> None:
    ib = day(ny(2026, 11, 24, 10, 0, 2))
    spy = stock(ib, "SPY")
    gateway = gateway_of(day)
    bars = ib.reqRealTimeBars(spy, 5, "TRADES", True)
    for _ in range(3):
        gateway.advance_clock(5)
        ib.sleep(0.15)
    wait_for(lambda: len(bars) >= 2, what="5-second bars")
    assert all(int(b.time.timestamp()) % 5 == 0 and b.low <= b.close <= b.high and b.volume > 0 for b in bars)
    ib.cancelRealTimeBars(bars)
    wait_for(lambda: gateway.requests_named("cancelRealTimeBars"), what="cancelRealTimeBars")
    seen = len(bars)
    gateway.advance_clock(30)
    ib.sleep(0.3)
    assert len(bars) == seen


def test_head_timestamp_and_schedule(day) -> None:
    ib = day(ny(2026, 11, 27, 18, 0))
    spy = stock(ib, "SPY")
    assert ib.reqHeadTimeStamp(spy, "TRADES", True) == ny(2000, 1, 3, 9, 30)
    schedule = ib.reqHistoricalSchedule(spy, 3)
    assert [(s.refDate, s.endDateTime) for s in schedule.sessions] == [
        ("20261124", "20261124-16:00:00"), ("20261125", "20261125-16:00:00"), ("20261127", "20261127-13:00:00")]


# -- orders --------------------------------------------------------------------------------------------------------
def test_what_if_order_answers_margin_and_places_nothing(day) -> None:
    ib = day(ny(2026, 11, 24, 10, 0))
    spy = stock(ib, "SPY")
    gateway = gateway_of(day)
    state = ib.whatIfOrder(spy, LimitOrder("BUY", 100, 600.0))
    assert (state.initMarginChange, state.maintMarginChange, state.equityWithLoanBefore) == (
        "15000.00", "15000.00", "1000000.00")  # 25% of 60,000 (equity 1M over buying power 4M)
    assert (state.commission, state.commissionCurrency) == (1.0, "USD")
    assert gateway.orders_received == [] and gateway.world.open_orders == [] and ib.openTrades() == []
    gateway.check()


def test_a_resting_limit_fills_when_the_path_crosses_it_in_session(day) -> None:
    start = ny(2026, 11, 24, 10, 0)
    world = load_world(example_world_path("paper-market"))
    steps = [world.price("SPY", start + timedelta(minutes=k)) for k in range(31)]
    low = min(steps)
    crossing = steps.index(low)
    assert crossing > 1 and low < steps[0]  # the path dips below where it was: a limit there rests, then fills
    ib = day(start, world)
    spy = stock(ib, "SPY")
    gateway = gateway_of(day)
    trade = ib.placeOrder(spy, LimitOrder("BUY", 10, low))
    wait_for(lambda: trade.orderStatus.status == "Submitted", what="a resting limit")
    for _ in range(crossing):
        gateway.advance_clock(60)
    wait_for(lambda: trade.orderStatus.status == "Filled", what="the fill where the path crosses")
    [fill] = trade.fills
    assert fill.execution.price <= low and fill.execution.time >= start + timedelta(minutes=crossing)
    assert fill.execution.price == gateway.world.price("SPY", fill.execution.time)


def test_market_orders_fill_at_the_path_and_orders_rest_outside_the_session(day) -> None:
    ib = day(ny(2026, 11, 24, 17, 0))  # after the close, the nyse session rule
    spy = stock(ib, "SPY")
    gateway = gateway_of(day)
    market = ib.placeOrder(spy, MarketOrder("BUY", 5))
    limit = ib.placeOrder(spy, LimitOrder("BUY", 5, 10_000.0))
    wait_for(lambda: market.orderStatus.status == limit.orderStatus.status == "PreSubmitted", what="resting")
    ib.sleep(0.2)
    assert market.orderStatus.status == limit.orderStatus.status == "PreSubmitted"
    gateway.set_clock(ny(2026, 11, 25, 9, 30, 1))  # the next regular open
    wait_for(lambda: market.isDone() and limit.isDone(), what="fills at the open")
    for trade in (market, limit):
        [fill] = trade.fills
        assert fill.execution.price == gateway.world.price("SPY", fill.execution.time)
    assert [p.contract.conId for p in ib.positions()] == [756733]  # the instrument's contract id


# -- what the fake does not serve ----------------------------------------------------------------------------------
def test_unserved_requests_end_at_once(day, ib_log_guard) -> None:
    ib_log_guard.allow(322)
    ib = day(ny(2026, 11, 24, 10, 0))
    spy = stock(ib, "SPY")
    gateway = gateway_of(day)
    (scan, seconds) = timed(lambda: ib.reqScannerData(ScannerSubscription("STK", "STK.US.MAJOR", "TOP_PERC_GAIN")))
    assert list(scan) == [] and seconds < PROMPT
    (fundamentals, seconds) = timed(lambda: ib.reqFundamentalData(spy, "ReportSnapshot"))
    assert fundamentals == [] and seconds < PROMPT
    (exchanges, seconds) = timed(ib.reqMktDepthExchanges)  # no request id: the empty answer it waits for
    assert exchanges == [] and seconds < PROMPT
    assert [u.msg_id for u in gateway.unexpected] == [22, 52, 82]
    assert all("not served by the fake gateway" in u.reason for u in gateway.unexpected)


# -- IB's own client -------------------------------------------------------------------------------------------------
def test_ibs_own_ibapi_client_reads_the_market(monkeypatch: pytest.MonkeyPatch) -> None:
    """ibapi 9.81 (server version 157: contractDetails with its version field and mdSizeMultiplier)."""
    from ibapi.client import EClient
    from ibapi.contract import Contract
    from ibapi.order import Order
    from ibapi.wrapper import EWrapper

    class App(EWrapper, EClient):
        def __init__(self) -> None:
            EWrapper.__init__(self)
            EClient.__init__(self, self)
            self.ready, self.done = threading.Event(), threading.Event()
            self.seen: dict[str, list[object]] = {}

        def _add(self, name: str, value: object) -> None:
            self.seen.setdefault(name, []).append(value)

        def nextValidId(self, orderId: int) -> None:
            self.ready.set()

        def contractDetails(self, reqId, contractDetails) -> None:
            self._add("details", (contractDetails.contract.conId, contractDetails.timeZoneId))

        def tickPrice(self, reqId, tickType, price, attrib) -> None:
            self._add("price", (tickType, price))

        def historicalData(self, reqId, bar) -> None:
            self._add("bar", bar.date)

        def openOrder(self, orderId, contract, order, orderState) -> None:
            self._add("what-if", (order.whatIf, orderState.initMarginChange))
            self.done.set()

    for name, value in clock.pinned_environ(ny(2026, 11, 24, 10, 0)).items():
        monkeypatch.setenv(name, value)
    with FakeGateway(load_world(example_world_path("paper-market"))) as fake:
        app = App()
        app.connect(fake.host, fake.port, clientId=9)
        reader = threading.Thread(target=app.run, name="ibapi-reader", daemon=True)
        reader.start()
        try:
            assert app.ready.wait(WAIT) and app.serverVersion() == 157
            spy = Contract()
            spy.symbol, spy.secType, spy.exchange, spy.currency = "SPY", "STK", "SMART", "USD"
            app.reqContractDetails(1, spy)
            app.reqMarketDataType(3)
            app.reqMktData(2, spy, "", True, False, [])
            app.reqHistoricalData(3, spy, "", "1 D", "1 hour", "TRADES", 1, 1, False, [])
            order = Order()
            order.action, order.totalQuantity, order.orderType, order.lmtPrice = "BUY", 10, "LMT", 600.0
            order.whatIf = True
            app.placeOrder(4, spy, order)
            assert app.done.wait(WAIT)
        finally:
            app.disconnect()
            reader.join(WAIT)
        assert app.seen["details"] == [(756733, "US/Eastern")]
        assert {tick for tick, _ in app.seen["price"]} >= {66, 67, 68}
        assert app.seen["bar"] == ["20261124 09:30:00 US/Eastern"]
        assert app.seen["what-if"] == [(True, "1500.00")]
        fake.check()
