"""The fake's market without a socket: the seeded path, NYSE hours, bars, what-if parsing, and every new message
against ib_async's own Decoder (the spec) at each server version whose layout differs."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from ib_async import Client, LimitOrder, MarketOrder, Order, Stock, TagValue, Wrapper
from ib_async.contract import Bag, ComboLeg

from harness.fakes.tws import encoder, example_world_path, load_world, world_from_dict
from harness.fakes.tws import market_messages as out
from harness.fakes.tws.bars import BarRequestError, historical_bars, parse_bar_size, window_start
from harness.fakes.tws.contracts import ContractRequest, facts, find
from harness.fakes.tws.decoder import parse_place_order
from harness.fakes.tws.hours import hours_text, is_extended_open, is_regular_open, trading_day
from harness.fakes.tws.market import snapshot
from harness.fakes.tws.path import DAY_SECONDS, day_prices, position, price_at
from harness.fakes.tws.whatif import WhatIfRefused, what_if
from harness.fakes.tws.world import NEW_YORK, World
from tests.unit.test_fake_tws_protocol import decode, order

VERSIONS = (157, 163, 164, 176, 178)


def ny(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=NEW_YORK)


def market_world(**changes: object) -> World:
    world = load_world(example_world_path("paper-market"))
    for key, value in changes.items():
        setattr(world, key, value)
    return world


# -- the path ------------------------------------------------------------------------------------------------
def test_the_path_is_reproducible_without_state_and_starts_at_its_price() -> None:
    one, two = market_world(), market_world()
    spec = one.path("SPY")
    assert spec is not None and spec.volatility == 0.15
    assert price_at(spec, one.market.anchor) == pytest.approx(500.0)
    later = ny(2026, 11, 24, 10, 17, 3)
    assert one.price("SPY", later) == two.price("SPY", later)  # two loads, same instant, same price
    reseeded = market_world(market=replace(one.market, seed=one.market.seed + 1))
    assert reseeded.price("SPY", later) != one.price("SPY", later)
    assert one.price("QQQ", later) != one.price("SPY", later)
    # any instant alone: a far one costs no walk from the anchor
    assert 10 < one.price("SPY", ny(2040, 6, 5, 11, 0)) < 100_000


def test_the_path_moves_from_4_to_20_on_weekdays_and_stands_still_otherwise() -> None:
    spec = market_world().path("AAPL")
    assert spec is not None
    friday_close = price_at(spec, ny(2026, 11, 20, 20, 0))
    assert price_at(spec, ny(2026, 11, 21, 12, 0)) == friday_close  # Saturday
    assert price_at(spec, ny(2026, 11, 23, 3, 59)) == friday_close  # Monday before 04:00
    assert price_at(spec, ny(2026, 11, 23, 4, 0)) == friday_close  # ... where the Monday walk starts
    assert price_at(spec, ny(2026, 11, 23, 10, 0)) != friday_close
    index, second = position(ny(2026, 11, 23, 19, 59, 59))
    assert second == DAY_SECONDS - 1 and len(day_prices(spec, index)) == DAY_SECONDS


def test_a_held_price_is_a_flat_path() -> None:
    world = load_world(example_world_path("paper"))  # [prices] holds AAPL, MSFT and SPY; QQQ follows its path
    assert world.price("AAPL", ny(2026, 11, 24, 10, 0)) == 190.0 == world.price("AAPL", ny(2026, 3, 2, 15, 0))
    assert world.price("QQQ", ny(2026, 11, 24, 10, 0)) != world.price("QQQ", ny(2026, 3, 2, 15, 0))
    assert world.price("TSLA") is None


def test_existing_worlds_without_market_keys_load_unchanged() -> None:
    world = world_from_dict({"accounts": [{"id": "DU1"}], "prices": {"AAPL": 190.0}})
    assert world.instruments == {} and world.price("AAPL") == 190.0
    assert world.instrument("AAPL") is not None  # a priced symbol still has contract details
    assert world.instrument("NOPE") is None


# -- hours -----------------------------------------------------------------------------------------------------
def test_nyse_hours_know_holidays_and_early_closes() -> None:
    assert trading_day(date(2026, 11, 26)) is None  # Thanksgiving
    early = trading_day(date(2026, 11, 27))
    assert early is not None and early.early_close
    assert (early.close_at.hour, early.extended_close_at.hour) == (13, 17)
    assert is_regular_open(ny(2026, 11, 27, 12, 59)) and not is_regular_open(ny(2026, 11, 27, 13, 0))
    assert is_extended_open(ny(2026, 11, 27, 16, 59)) and not is_extended_open(ny(2026, 11, 27, 17, 0))
    assert hours_text(date(2026, 11, 25), 3, rth=True) == (
        "20261125:0930-20261125:1600;20261126:CLOSED;20261127:0930-20261127:1300"
    )
    assert hours_text(date(2026, 11, 27), 2, rth=False) == "20261127:0400-20261127:1700;20261128:CLOSED"


def test_a_world_can_run_on_the_nyse_calendar() -> None:
    world = world_from_dict({"accounts": [{"id": "DU1"}], "session": "nyse"})
    assert not world.session_open(ny(2026, 11, 26, 11, 0))
    assert world.session_open(ny(2026, 11, 27, 11, 0)) and not world.session_open(ny(2026, 11, 27, 14, 0))
    assert world.extended_session_open(ny(2026, 11, 27, 16, 0)) and not world.extended_session_open(
        ny(2026, 11, 27, 18, 0)
    )


# -- bars ------------------------------------------------------------------------------------------------------
def _bars(end: datetime, duration: str, size: str, what: str = "TRADES", rth: bool = True, symbol: str = "SPY"):
    world = market_world()
    instrument, spec = world.instrument(symbol), world.path(symbol)
    assert instrument is not None and spec is not None
    return historical_bars(instrument, spec, end, duration, parse_bar_size(size), what, rth)


@pytest.mark.parametrize(
    ("size", "count", "first", "last"),
    [
        ("1 min", 390, (9, 30), (15, 59)),
        ("5 mins", 78, (9, 30), (15, 55)),
        ("15 mins", 26, (9, 30), (15, 45)),
        ("1 hour", 7, (9, 30), (15, 0)),  # the first hourly bar is 09:30-10:00
        ("4 hours", 2, (9, 30), (12, 0)),  # aligned from midnight: 08:00 (cut at 09:30), 12:00
    ],
)
def test_bar_sizes_on_a_normal_day(size: str, count: int, first: tuple[int, int], last: tuple[int, int]) -> None:
    bars = _bars(ny(2026, 11, 24, 18, 0), "1 D", size)
    assert len(bars) == count
    assert (bars[0].start.hour, bars[0].start.minute) == first and (bars[-1].start.hour, bars[-1].start.minute) == last
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)
    assert all(b.volume > 0 and b.count > 0 for b in bars)


def test_bars_of_the_early_close_and_around_the_holiday() -> None:
    after_close = ny(2026, 11, 27, 18, 0)
    regular = _bars(after_close, "1 D", "5 mins")
    assert len(regular) == 42 and regular[-1].start == ny(2026, 11, 27, 12, 55)
    extended = _bars(after_close, "1 D", "1 hour", rth=False)
    assert [b.start.hour for b in extended] == list(range(4, 17))  # 04:00 to 17:00 after an early close
    daily = _bars(after_close, "1 W", "1 day")
    assert [b.start.date() for b in daily] == [date(2026, 11, d) for d in (20, 23, 24, 25, 27)]  # no 26th
    on_the_holiday = _bars(ny(2026, 11, 26, 12, 0), "1 D", "1 hour")
    assert {b.start.date() for b in on_the_holiday} == {date(2026, 11, 25)}  # "1 D" is the last trading day
    assert _bars(ny(2026, 11, 26, 12, 0), "3600 S", "1 min") == []


def test_daily_bars_agree_with_the_intraday_ones() -> None:
    end = ny(2026, 11, 24, 18, 0)
    [day] = _bars(end, "1 D", "1 day")
    minutes = _bars(end, "1 D", "1 min")
    assert (day.open, day.close) == (minutes[0].open, minutes[-1].close)
    assert (day.high, day.low) == (max(b.high for b in minutes), min(b.low for b in minutes))
    assert day.volume == pytest.approx(sum(b.volume for b in minutes), abs=400)


def test_what_to_show_and_the_bar_in_progress() -> None:
    now = ny(2026, 11, 24, 10, 2, 30)
    trades = _bars(now, "1800 S", "1 min")
    assert trades[-1].start == ny(2026, 11, 24, 10, 2)  # the bar in progress is the last
    mid, bid_ask = _bars(now, "1800 S", "1 min", "MIDPOINT"), _bars(now, "1800 S", "1 min", "BID_ASK")
    assert len(mid) == len(trades) == len(bid_ask)
    assert all(b.volume == -1 and b.count == -1 for b in mid + bid_ask)
    assert all(b.low <= b.open and b.close <= b.high for b in bid_ask)
    with pytest.raises(BarRequestError, match="whatToShow"):
        _bars(now, "1 D", "1 min", "ADJUSTED_LAST")
    for bad in ("7 mins", "2 days", "1 fortnight"):
        with pytest.raises(BarRequestError, match="bar size"):
            parse_bar_size(bad)
    with pytest.raises(BarRequestError, match="duration"):
        window_start(now, "1 Q", True)
    assert window_start(now, "2 D", True) == ny(2026, 11, 23, 9, 30)
    assert window_start(now, "1 M", True) == ny(2026, 10, 24, 10, 2, 30)


def test_bars_end_before_the_listing_day() -> None:
    world = market_world()
    instrument = replace(world.instruments["SPY"], listed=date(2026, 11, 24))
    spec = world.path("SPY")
    assert spec is not None
    bars = historical_bars(instrument, spec, ny(2026, 11, 25, 18, 0), "1 W", "day", "TRADES", True)
    assert [b.start.date() for b in bars] == [date(2026, 11, 24), date(2026, 11, 25)]


# -- quotes ------------------------------------------------------------------------------------------------------
def test_snapshot_in_session_off_hours_and_frozen() -> None:
    world = market_world()
    instrument, spec = world.instruments["SPY"], world.path("SPY")
    assert spec is not None
    live = snapshot(instrument, spec, ny(2026, 11, 24, 10, 0, 5), frozen=False)
    assert live.bid is not None and live.ask is not None and live.ask - live.bid == pytest.approx(0.01)
    assert live.last == world.price("SPY", ny(2026, 11, 24, 10, 0, 5)) and live.last_time == ny(2026, 11, 24, 10, 0, 5)
    assert live.low is not None and live.high is not None and live.low <= live.last <= live.high
    holiday = snapshot(instrument, spec, ny(2026, 11, 26, 12, 0), frozen=False)
    assert holiday.bid is None and holiday.last_time == ny(2026, 11, 25, 19, 59, 59)
    frozen = snapshot(instrument, spec, ny(2026, 11, 26, 12, 0), frozen=True)
    assert frozen.bid is not None and frozen.last == holiday.last
    pre_market = snapshot(instrument, spec, ny(2026, 11, 24, 8, 0), frozen=False)
    assert pre_market.open is None and pre_market.close is not None  # no open before the bell, the prior close


# -- contracts ---------------------------------------------------------------------------------------------------
def test_contract_matching() -> None:
    world = market_world()

    def ask(**fields: object) -> str | None:
        base = {"con_id": 0, "symbol": "", "sec_type": "", "exchange": "", "primary_exchange": "", "currency": "",
                "local_symbol": ""}
        found = find(world, ContractRequest(**{**base, **fields}))  # type: ignore[arg-type]
        return found.symbol if found else None

    assert ask(symbol="SPY", sec_type="STK", exchange="SMART", currency="USD") == "SPY"
    assert ask(con_id=265598) == "AAPL"
    assert ask(con_id=265598, symbol="MSFT") is None
    assert ask(symbol="SPY", sec_type="OPT") is None
    assert ask(symbol="SPY", currency="EUR") is None
    assert ask(symbol="NOPE") is None
    spy = facts(world.instruments["SPY"], "", ny(2026, 11, 25, 9, 0))
    assert (spy.exchange, spy.primary_exchange, spy.time_zone_id) == ("SMART", "ARCA", "US/Eastern")
    assert spy.liquid_hours.startswith("20261125:0930-20261125:1600;20261126:CLOSED;20261127:0930-20261127:1300")


# -- what-if -----------------------------------------------------------------------------------------------------
class _Capture(Client):
    def __init__(self, version: int) -> None:
        super().__init__(Wrapper(None))  # type: ignore[arg-type]
        self.sent: list[list[str]] = []
        self.version = version

    def isConnected(self) -> bool:
        return True

    def serverVersion(self) -> int:
        return self.version

    def sendMsg(self, msg: str) -> None:
        self.sent.append(msg.split("\0")[:-1])


@pytest.mark.parametrize("version", (157, 176, 178))
def test_what_if_is_found_in_every_shape_of_place_order(version: int) -> None:
    spy = Stock("SPY", "SMART", "USD")
    bag = Bag(symbol="SPY", exchange="SMART", currency="USD",
              comboLegs=[ComboLeg(1, 1, "BUY", "SMART"), ComboLeg(2, 1, "SELL", "SMART")])
    cases = [
        (spy, LimitOrder("BUY", 10, 500.0, whatIf=True), True),
        (spy, MarketOrder("SELL", 5), False),
        (spy, Order(action="BUY", totalQuantity=3, orderType="LMT", lmtPrice=1.0, algoStrategy="Adaptive",
                    algoParams=[TagValue("adaptivePriority", "Normal")], hedgeType="D", hedgeParam="0.5",
                    whatIf=True), True),
        (spy, Order(action="BUY", totalQuantity=3, orderType="LMT", lmtPrice=1.0, scalePriceIncrement=0.5,
                    scaleInitLevelSize=1, deltaNeutralOrderType="LMT", whatIf=True), True),
        (bag, Order(action="BUY", totalQuantity=1, orderType="LMT", lmtPrice=1.0, whatIf=True), True),
    ]
    client = _Capture(version)
    for contract, placed, expected in cases:
        client.sent.clear()
        client.placeOrder(7, contract, placed)
        assert parse_place_order(client.sent[0], version).what_if is expected, placed


def test_what_if_margin_comes_from_the_account() -> None:
    world = market_world()
    client = _Capture(178)
    client.placeOrder(9, Stock("SPY", "SMART", "USD"), LimitOrder("BUY", 100, 600.0, whatIf=True))
    order, state = what_if(world, 1, parse_place_order(client.sent[0]))
    fields = state.fields()
    assert len(fields) == 14 and order.status == "PreSubmitted" and order.perm_id == 0
    # 1,000,000 equity over 4,000,000 buying power: 25% of 100 x 600
    assert fields[:9] == ["0.00", "0.00", "1000000.00", "15000.00", "15000.00", "-1.00", "15000.00", "15000.00",
                          "999999.00"]
    assert world.open_orders == []
    client.sent.clear()
    client.placeOrder(10, Stock("NOPE", "SMART", "USD"), MarketOrder("BUY", 1, whatIf=True))
    with pytest.raises(WhatIfRefused, match="No market price"):
        what_if(world, 1, parse_place_order(client.sent[0]))


# -- messages against ib_async's Decoder ---------------------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_contract_details_decode(version: int) -> None:
    world = market_world()
    details = facts(world.instruments["AAPL"], "SMART", ny(2026, 11, 25, 9, 0))
    [(name, (req_id, cd))] = decode(out.contract_details(version, 4, details), version)
    c = cd.contract
    assert (name, req_id, c.symbol, c.secType, c.conId, c.exchange, c.primaryExchange, c.currency) == (
        "contractDetails", 4, "AAPL", "STK", 265598, "SMART", "NASDAQ", "USD")
    assert (cd.minTick, cd.timeZoneId, cd.longName, cd.marketRuleIds.split(",")[0]) == (
        0.01, "US/Eastern", "APPLE INC", "26")
    assert cd.tradingHours == details.trading_hours and cd.liquidHours == details.liquid_hours
    assert cd.stockType == "COMMON" and cd.liquidSessions()[0].start == ny(2026, 11, 25, 9, 30)
    if version >= 164:
        assert cd.suggestedSizeIncrement == 100
    assert decode(out.contract_details_end(4), version) == [("contractDetailsEnd", (4,))]


@pytest.mark.parametrize("version", VERSIONS)
def test_market_data_messages_decode(version: int) -> None:
    assert len(out.tick_price(3, 1, 500.12, 300, 1)) == 7  # unpacked without a rest
    assert decode(out.tick_price(3, 1, 500.12, 300, 1), version) == [("priceSizeTick", (3, 1, 500.12, 300.0))]
    assert decode(out.tick_size(3, 8, 12345.0), version) == [("tickSize", (3, 8, 12345.0))]
    assert decode(out.tick_string(3, 45, "1795794300"), version) == [("tickString", (3, 45, "1795794300"))]
    assert decode(out.market_data_type(3, 3), version) == [("marketDataType", (3, 3))]
    assert decode(out.tick_snapshot_end(3), version) == [("tickSnapshotEnd", (3,))]
    assert decode(out.tick_req_params(3, 0.01, "9c0001", 3), version) == [("tickReqParams", (3, 0.01, "9c0001", 3))]
    assert decode(out.head_timestamp(5, "20000103 09:30:00 US/Eastern"), version) == [
        ("headTimestamp", (5, "20000103 09:30:00 US/Eastern"))]
    [(name, (rule_id, increments))] = decode(out.market_rule(26, [(0.0, 0.01)]), version)
    assert (name, rule_id, [(i.lowEdge, i.increment) for i in increments]) == ("marketRule", 26, [(0.0, 0.01)])


@pytest.mark.parametrize("version", VERSIONS)
def test_bar_messages_decode(version: int) -> None:
    bars = _bars(ny(2026, 11, 24, 10, 2, 30), "600 S", "1 min")
    calls = decode(out.historical_data(6, "a", "b", bars, 1), version)
    assert [name for name, _ in calls] == ["historicalData"] * len(bars) + ["historicalDataEnd"]
    first = calls[0][1][1]
    assert (first.date, first.open, first.high, first.low, first.close, first.volume, first.barCount) == (
        "20261124 09:52:30 US/Eastern", bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume,
        bars[0].count)
    [(name, (req_id, update))] = decode(out.historical_data_update(6, bars[-1], 2), version)
    assert (name, req_id, update.date, update.open, update.close, update.high, update.low) == (
        "historicalDataUpdate", 6, str(int(bars[-1].start.timestamp())), bars[-1].open, bars[-1].close,
        bars[-1].high, bars[-1].low)
    daily = _bars(ny(2026, 11, 24, 18, 0), "1 D", "1 day")
    assert decode(out.historical_data(7, "a", "b", daily, 1), version)[0][1][1].date == "20261124"
    [(name, args)] = decode(out.real_time_bar(8, bars[-1]), version)
    assert name == "realtimeBar" and args[:2] == (8, int(bars[-1].start.timestamp()))
    schedule = out.historical_schedule(9, "20261124-09:30:00", "20261124-16:00:00", "US/Eastern",
                                       [("20261124-09:30:00", "20261124-16:00:00", "20261124")])
    [(name, args)] = decode(schedule, version)
    assert name == "historicalSchedule" and args[3] == "US/Eastern" and len(args[4]) == 1


@pytest.mark.parametrize("version", VERSIONS)
def test_what_if_open_order_decodes(version: int) -> None:
    state = ["0.00", "0.00", "1000000.00", "15000.00", "15000.00", "-1.00", "15000.00", "15000.00", "999999.00",
             "1.0", "1.0", "1.0", "USD", ""]
    [(name, (order_id, _contract, placed, order_state))] = decode(
        encoder.open_order(version, order(status="PreSubmitted"), what_if=state), version)
    assert (name, order_id, placed.whatIf, order_state.status) == ("openOrder", 7, True, "PreSubmitted")
    assert (order_state.initMarginChange, order_state.commission, order_state.commissionCurrency) == (
        "15000.00", 1.0, "USD")
    assert not math.isnan(float(order_state.equityWithLoanAfter))


def test_day_before_epoch_and_far_future_are_defined() -> None:
    spec = market_world().path("MSFT")
    assert spec is not None
    assert price_at(spec, ny(1999, 12, 31, 12, 0)) > 0 and price_at(spec, ny(2026, 1, 2, 9, 30) + timedelta(days=1))
