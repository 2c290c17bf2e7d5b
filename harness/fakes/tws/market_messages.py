"""Outgoing market-data messages (gateway -> client), one function per message, each returning the field list.

Field orders follow ib_async 2.1.0's `decoder.py` for server versions 157..178 (and ib_insync 0.9.86's, the same
up to its 176). tickPrice (1) is unpacked with an exact count (7 fields); contractDetails (10) carries a version
field and mdSizeMultiplier only below 164; historicalData (17) has no version field in this range.
"""

from __future__ import annotations

from dataclasses import dataclass

from .bars import Bar
from .encoder import Fields, num, price
from .timefmt import bar_time

TICK_PRICE = 1
TICK_SIZE = 2
CONTRACT_DATA = 10
HISTORICAL_DATA = 17
TICK_STRING = 46
REAL_TIME_BARS = 50
CONTRACT_DATA_END = 52
TICK_SNAPSHOT_END = 57
MARKET_DATA_TYPE = 58
TICK_REQ_PARAMS = 81
HEAD_TIMESTAMP = 88
HISTORICAL_DATA_UPDATE = 90
MARKET_RULE = 93
HISTORICAL_SCHEDULE = 106


@dataclass(frozen=True, slots=True)
class ContractFacts:
    """What contractDetails tells of one stock (see contracts.py)."""

    symbol: str
    con_id: int
    exchange: str
    primary_exchange: str
    currency: str
    min_tick: float
    order_types: str
    valid_exchanges: str
    long_name: str
    industry: str
    category: str
    subcategory: str
    time_zone_id: str
    trading_hours: str
    liquid_hours: str
    market_rule_ids: str
    stock_type: str


def contract_details(server_version: int, req_id: int, c: ContractFacts) -> Fields:
    fields = [str(CONTRACT_DATA)]
    if server_version < 164:
        fields.append("8")  # version
    # reqId, symbol, secType, lastTradeDate(+time, zone), strike, right, exchange, currency, localSymbol,
    # marketName, tradingClass, conId, minTick
    fields += [str(req_id), c.symbol, "STK", "", "0", "", c.exchange, c.currency, c.symbol, c.symbol, c.symbol,
               str(c.con_id), str(c.min_tick)]
    if server_version < 164:
        fields.append("1")  # mdSizeMultiplier
    # multiplier, orderTypes, validExchanges, priceMagnifier, underConId, longName, primaryExchange,
    # contractMonth, industry, category, subcategory, timeZoneId, tradingHours, liquidHours, evRule,
    # evMultiplier, secIdList count
    fields += ["", c.order_types, c.valid_exchanges, "1", "0", c.long_name, c.primary_exchange, "", c.industry,
               c.category, c.subcategory, c.time_zone_id, c.trading_hours, c.liquid_hours, "", "0", "0"]
    # aggGroup, underSymbol, underSecType, marketRuleIds, realExpirationDate, stockType
    fields += ["1", "", "", c.market_rule_ids, "", c.stock_type]
    if server_version == 163:
        fields.append("0.0001")  # sizeMinTick
    if server_version >= 164:
        fields += ["0.0001", "0.0001", "100"]  # minSize, sizeIncrement, suggestedSizeIncrement
    return fields


def contract_details_end(req_id: int) -> Fields:
    return [str(CONTRACT_DATA_END), "1", str(req_id)]


def tick_req_params(req_id: int, min_tick: float, bbo_exchange: str, snapshot_permissions: int) -> Fields:
    """tickReqParams (81): no version field."""
    return [str(TICK_REQ_PARAMS), str(req_id), str(min_tick), bbo_exchange, str(snapshot_permissions)]


def market_data_type(req_id: int, data_type: int) -> Fields:
    return [str(MARKET_DATA_TYPE), "1", str(req_id), str(data_type)]


def tick_price(req_id: int, tick_type: int, value: float, size: float, attributes: int = 0) -> Fields:
    """tickPrice (1): exactly 7 fields (ib_async unpacks them without a rest); -1 with size 0 is "no quote"."""
    return [str(TICK_PRICE), "6", str(req_id), str(tick_type), price(value), num(float(size)), str(attributes)]


def tick_size(req_id: int, tick_type: int, size: float) -> Fields:
    return [str(TICK_SIZE), "6", str(req_id), str(tick_type), num(float(size))]


def tick_string(req_id: int, tick_type: int, value: str) -> Fields:
    return [str(TICK_STRING), "6", str(req_id), str(tick_type), value]


def tick_snapshot_end(req_id: int) -> Fields:
    return [str(TICK_SNAPSHOT_END), "1", str(req_id)]


def _bar_fields(bar: Bar, format_date: int) -> Fields:
    return [bar_time(bar.start, bar.daily, format_date), price(bar.open), price(bar.high), price(bar.low),
            price(bar.close), num(float(bar.volume)), num(float(bar.wap)), str(bar.count)]


def historical_data(req_id: int, start: str, end: str, bars: list[Bar], format_date: int) -> Fields:
    """historicalData (17): `reqId | start | end | count | (date, open, high, low, close, volume, WAP, barCount)*`."""
    fields = [str(HISTORICAL_DATA), str(req_id), start, end, str(len(bars))]
    for bar in bars:
        fields += _bar_fields(bar, format_date)
    return fields


def historical_data_update(req_id: int, bar: Bar, format_date: int) -> Fields:
    """historicalDataUpdate (90): `reqId | barCount | date | open | close | high | low | WAP | volume`."""
    return [str(HISTORICAL_DATA_UPDATE), str(req_id), str(bar.count), bar_time(bar.start, bar.daily, format_date),
            price(bar.open), price(bar.close), price(bar.high), price(bar.low), num(float(bar.wap)),
            num(float(bar.volume))]


def real_time_bar(req_id: int, bar: Bar) -> Fields:
    """realtimeBar (50): `3 | reqId | time | open | high | low | close | volume | WAP | count`."""
    return [str(REAL_TIME_BARS), "3", str(req_id), str(int(bar.start.timestamp())), price(bar.open), price(bar.high),
            price(bar.low), price(bar.close), num(float(bar.volume)), num(float(bar.wap)), str(bar.count)]


def head_timestamp(req_id: int, text: str) -> Fields:
    """headTimestamp (88): no version field."""
    return [str(HEAD_TIMESTAMP), str(req_id), text]


def market_rule(rule_id: int, increments: list[tuple[float, float]]) -> Fields:
    """marketRule (93): `ruleId | count | (lowEdge, increment)*`, no version field."""
    fields = [str(MARKET_RULE), str(rule_id), str(len(increments))]
    for low_edge, increment in increments:
        fields += [str(low_edge), str(increment)]
    return fields


def historical_schedule(req_id: int, start: str, end: str, time_zone: str,
                        sessions: list[tuple[str, str, str]]) -> Fields:
    """historicalSchedule (106): `reqId | start | end | timeZone | count | (start, end, refDate)*`."""
    fields = [str(HISTORICAL_SCHEDULE), str(req_id), start, end, time_zone, str(len(sessions))]
    for session in sessions:
        fields += list(session)
    return fields
