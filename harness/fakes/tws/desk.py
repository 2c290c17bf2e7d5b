"""One connection's market-data desk: contract details, market data, historical and real-time bars.

Served: reqContractDetails (9), reqMktData (1, snapshot or stream) and cancelMktData (2), reqMarketDataType (59:
1 live, 2 frozen, 3 delayed, 4 delayed frozen), reqHistoricalData (20, with keepUpToDate and the SCHEDULE view)
and cancelHistoricalData (25), reqRealTimeBars (50) and cancelRealTimeBars (51), reqHeadTimeStamp (87) and its
cancel (90), reqMarketRule (91). Everything runs on the gateway's loop; `push` streams what changed, called by the
gateway's tick. The desk knows its connection only through the callables it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import encoder, hours
from . import market_messages as out
from .bars import (
    Bar,
    BarRequestError,
    BarSize,
    bar_in_progress,
    head_timestamp,
    historical_bars,
    parse_bar_size,
    parse_duration,
    real_time_bar,
    window_start,
)
from .contracts import MARKET_RULE, NO_SECURITY_TEXT, ContractRequest, facts, find, parse_contract
from .decoder import as_int
from .decoder import field as at
from .market import DELAY, Instrument, snapshot
from .path import PathSpec
from .timefmt import bar_time, parse_ib_time, schedule_time
from .world import World

Fields = list[str]
HMDS_ERROR = 162  # "Historical Market Data Service error message:..."
PROCESSING_ERROR = 322  # "Error processing request..."
BBO_EXCHANGE = "9c0001"
SNAPSHOT_PERMISSIONS = 3
REAL_TIME_WHAT = ("TRADES", "MIDPOINT", "BID", "ASK")
# tick types: (bid, ask, last, high, low, close, open, volume, last timestamp), live and delayed
LIVE_TICKS = (1, 2, 4, 6, 7, 9, 14, 8, 45)
DELAYED_TICKS = (66, 67, 68, 72, 73, 75, 76, 74, 88)


@dataclass
class _Ticker:
    symbol: str
    sent: dict[int, Fields] = field(default_factory=dict)  # tick type (58 for the data type) -> last frame


@dataclass
class _Bars:
    symbol: str
    size: BarSize
    what: str
    rth: bool
    format_date: int
    slot: int
    last: Bar


@dataclass
class _RealTime:
    symbol: str
    what: str
    rth: bool
    last_start: datetime


class MarketDesk:
    """Market data for one connection. `send` queues a frame; `world`, `now` and `version` read the gateway."""

    def __init__(self, send: Callable[[Fields], None], world: Callable[[], World], now: Callable[[], datetime],
                 version: Callable[[], int]) -> None:
        self._send, self._world, self._now, self._version = send, world, now, version
        self.data_type = 1
        self.tickers: dict[int, _Ticker] = {}
        self.bars: dict[int, _Bars] = {}
        self.real_time: dict[int, _RealTime] = {}
        self._pushed_second: int | None = None

    # -- helpers -------------------------------------------------------------------------------------------
    def _error(self, req_id: int, code: int, text: str) -> None:
        self._send(encoder.error(self._version(), req_id, code, text))

    def _priced(self, symbol: str) -> tuple[Instrument, PathSpec] | None:
        world = self._world()
        instrument, spec = world.instrument(symbol), world.path(symbol)
        return None if instrument is None or spec is None else (instrument, spec)

    def _find(self, req_id: int, request: ContractRequest) -> tuple[Instrument, PathSpec] | None:
        """The requested stock and its path; error 200 on the request (and None) when the world has none."""
        instrument = find(self._world(), request)
        found = self._priced(instrument.symbol) if instrument is not None else None
        if found is None:
            self._error(req_id, 200, NO_SECURITY_TEXT)
        return found

    # -- contract details ------------------------------------------------------------------------------------
    def req_contract_details(self, fields: Fields) -> None:
        """9 | 8 | reqId | contract (12) | includeExpired | secIdType | secId [| issuerId]."""
        req_id, request = as_int(at(fields, 2)), parse_contract(fields, 3)
        instrument = find(self._world(), request)
        if instrument is None:
            self._error(req_id, 200, NO_SECURITY_TEXT)
            return
        self._send(out.contract_details(self._version(), req_id, facts(instrument, request.exchange, self._now())))
        self._send(out.contract_details_end(req_id))

    def req_market_rule(self, fields: Fields) -> None:
        """91 | marketRuleId: every rule the fake names is US stocks' (0.01 from 0)."""
        rule_id = as_int(at(fields, 1), MARKET_RULE)
        self._send(out.market_rule(rule_id, [(0.0, 0.01)]))

    # -- market data -----------------------------------------------------------------------------------------
    def req_market_data_type(self, fields: Fields) -> None:
        """59 | 1 | type: later (and current) tickers switch to it; each is told with marketDataType."""
        data_type = as_int(at(fields, 2))
        if data_type not in (1, 2, 3, 4):
            self._error(-1, PROCESSING_ERROR, f"Error processing request.-'fake' : cause - market data type "
                                              f"{data_type} is not 1 (live), 2 (frozen), 3 (delayed) or 4")
            return
        self.data_type = data_type
        now = self._now()
        for req_id, ticker in self.tickers.items():
            ticker.sent.clear()
            self._send_ticks(req_id, ticker, now)

    def req_mkt_data(self, fields: Fields) -> None:
        """1 | 11 | reqId | contract (12) [| combo legs] | deltaNeutral [...] | genericTicks | snapshot | ..."""
        req_id, request = as_int(at(fields, 2)), parse_contract(fields, 3)
        index = 15
        if request.sec_type == "BAG":
            index += 1 + 4 * as_int(at(fields, index))
        index += 1 + (3 if at(fields, index) == "1" else 0)
        snapshot_wanted = at(fields, index + 1) == "1" or at(fields, index + 2) == "1"
        if req_id in self.tickers:
            self._error(req_id, PROCESSING_ERROR, "Error processing request.-'bW' : cause - Duplicate ticker id")
            return
        found = self._find(req_id, request)
        if found is None:
            return
        instrument, _spec = found
        self._send(out.tick_req_params(req_id, instrument.min_tick, BBO_EXCHANGE, SNAPSHOT_PERMISSIONS))
        ticker = _Ticker(instrument.symbol)
        self._send_ticks(req_id, ticker, self._now())
        if snapshot_wanted:
            self._send(out.tick_snapshot_end(req_id))
        else:
            self.tickers[req_id] = ticker

    def cancel_mkt_data(self, fields: Fields) -> None:
        self.tickers.pop(as_int(at(fields, 2)), None)

    def _view(self, now: datetime) -> tuple[datetime, bool, int]:
        """(the instant shown, frozen?, the marketDataType to report) for the requested type at `now`."""
        delayed = self.data_type in (3, 4)
        shown = now - DELAY if delayed else now
        if self.data_type in (2, 4) and not hours.is_extended_open(shown):
            return shown, True, self.data_type
        return shown, False, 3 if delayed else 1

    def _send_ticks(self, req_id: int, ticker: _Ticker, now: datetime) -> None:
        """What changed since the ticker's last frames: the data type, then bid, ask, last, the day's figures."""
        found = self._priced(ticker.symbol)
        if found is None:
            return
        instrument, spec = found
        shown, frozen, data_type = self._view(now)
        s = snapshot(instrument, spec, shown, frozen)
        bid, ask, last, high, low, close, open_, volume, stamp = DELAYED_TICKS if data_type in (3, 4) else LIVE_TICKS
        frames: dict[int, Fields] = {58: out.market_data_type(req_id, data_type)}
        frames[bid] = out.tick_price(req_id, bid, -1.0 if s.bid is None else s.bid, s.bid_size, 1)
        frames[ask] = out.tick_price(req_id, ask, -1.0 if s.ask is None else s.ask, s.ask_size, 1)
        if s.last is not None:
            frames[last] = out.tick_price(req_id, last, s.last, s.last_size)
        for tick_type, value in ((high, s.high), (low, s.low), (close, s.close), (open_, s.open)):
            if value is not None:
                frames[tick_type] = out.tick_price(req_id, tick_type, value, 0)
        if s.volume is not None:
            frames[volume] = out.tick_size(req_id, volume, s.volume)
        if s.last_time is not None:
            frames[stamp] = out.tick_string(req_id, stamp, str(int(s.last_time.timestamp())))
        if ticker.sent.get(58) != frames[58]:
            ticker.sent = {}  # a new data type: every tick again, under its own tick types
        for key, frame in frames.items():
            if ticker.sent.get(key) != frame:
                self._send(frame)
                ticker.sent[key] = frame

    # -- historical bars -------------------------------------------------------------------------------------
    def req_historical_data(self, fields: Fields) -> None:
        """20 | reqId | contract (12) | includeExpired | end | barSize | duration | useRTH | whatToShow |
        formatDate [| combo legs] | keepUpToDate | chartOptions."""
        req_id, request = as_int(at(fields, 1)), parse_contract(fields, 2)
        end_text, size_text, duration = at(fields, 15), at(fields, 16), at(fields, 17)
        rth, what, format_date = at(fields, 18) == "1", at(fields, 19).upper(), as_int(at(fields, 20), 1)
        keep_up = at(fields, 21) == "1"
        found = self._find(req_id, request)
        if found is None:
            return
        instrument, spec = found
        now = self._now()
        end = _end_instant(end_text, now)
        if end is None:
            self._hmds(req_id, f"end date/time {end_text!r} is not valid (e.g. '20261127 16:00:00 US/Eastern')")
            return
        if keep_up and end_text.strip():
            self._hmds(req_id, "End date not supported with live updates")
            return
        end = min(end, now)
        if what == "SCHEDULE":
            self._schedule(req_id, end, duration, rth)
            return
        try:
            size = parse_bar_size(size_text)
            bars = historical_bars(instrument, spec, end, duration, size, what, rth)
        except BarRequestError as exc:
            self._hmds(req_id, str(exc))
            return
        if not bars:
            self._hmds(req_id, f"HMDS query returned no data: {instrument.symbol}@SMART {what.title()}")
            return
        start = window_start(end, duration, rth)
        self._send(out.historical_data(req_id, bar_time(start, False, 1), bar_time(end, False, 1), bars,
                                       format_date))
        if keep_up:
            slot = int(now.timestamp()) // 5
            self.bars[req_id] = _Bars(instrument.symbol, size, what, rth, format_date, slot, bars[-1])

    def _hmds(self, req_id: int, text: str) -> None:
        self._error(req_id, HMDS_ERROR, f"Historical Market Data Service error message:{text}")

    def _schedule(self, req_id: int, end: datetime, duration: str, rth: bool) -> None:
        """reqHistoricalSchedule: the sessions of the last N days (historicalSchedule needs server version 166)."""
        if self._version() < 166:
            self._hmds(req_id, "SCHEDULE needs server version 166 or later")
            return
        try:
            count, unit = parse_duration(duration)
        except BarRequestError as exc:
            self._hmds(req_id, str(exc))
            return
        days = hours.trading_days_back(end.astimezone(hours.NEW_YORK).date(), count if unit == "D" else 1)
        sessions = [(schedule_time(d.window(rth)[0]), schedule_time(d.window(rth)[1]), f"{d.day:%Y%m%d}")
                    for d in days]
        if not sessions:
            self._hmds(req_id, "HMDS query returned no data")
            return
        self._send(out.historical_schedule(req_id, sessions[0][0], sessions[-1][1], hours.TWS_TIME_ZONE, sessions))

    def cancel_historical_data(self, fields: Fields) -> None:
        self.bars.pop(as_int(at(fields, 2)), None)

    def req_head_timestamp(self, fields: Fields) -> None:
        """87 | reqId | contract (12) | includeExpired | useRTH | whatToShow | formatDate."""
        req_id = as_int(at(fields, 1))
        found = self._find(req_id, parse_contract(fields, 2))
        if found is not None:
            first = head_timestamp(found[0], at(fields, 15) == "1")
            self._send(out.head_timestamp(req_id, bar_time(first, False, as_int(at(fields, 17), 1))))

    def cancel_head_timestamp(self, fields: Fields) -> None:
        """90 | reqId: the head timestamp was answered at once; nothing is left to cancel."""

    # -- real-time bars --------------------------------------------------------------------------------------
    def req_real_time_bars(self, fields: Fields) -> None:
        """50 | 3 | reqId | contract (12) | barSize | whatToShow | useRTH | options: a 5-second bar every 5 s."""
        req_id, request = as_int(at(fields, 2)), parse_contract(fields, 3)
        what = at(fields, 16).upper()
        if as_int(at(fields, 15), 5) != 5 or what not in REAL_TIME_WHAT:
            self._error(req_id, PROCESSING_ERROR, f"Error processing request.-'fake' : cause - real-time bars are "
                                                  f"5 seconds of {', '.join(REAL_TIME_WHAT)}")
            return
        found = self._find(req_id, request)
        if found is not None:
            now = self._now()
            self.real_time[req_id] = _RealTime(found[0].symbol, what, at(fields, 17) == "1", _five(now))

    def cancel_real_time_bars(self, fields: Fields) -> None:
        self.real_time.pop(as_int(at(fields, 2)), None)

    # -- streaming -------------------------------------------------------------------------------------------
    def push(self) -> None:
        """Send what the streams show now: changed ticks, the bar in progress, completed 5-second bars. At most
        once a simulated second."""
        if not (self.tickers or self.bars or self.real_time):
            return
        now = self._now()
        second = int(now.timestamp())
        if second == self._pushed_second:
            return
        self._pushed_second = second
        for req_id, ticker in self.tickers.items():
            self._send_ticks(req_id, ticker, now)
        for req_id, subscription in self.bars.items():
            self._push_bar(req_id, subscription, now)
        for req_id, stream in self.real_time.items():
            self._push_real_time(req_id, stream, now)

    def _push_bar(self, req_id: int, sub: _Bars, now: datetime) -> None:
        """keepUpToDate: the bar in progress every 5 s; when a new bar begins, the one before it as it closed."""
        slot = int(now.timestamp()) // 5
        found = self._priced(sub.symbol)
        if slot == sub.slot or found is None:
            return
        sub.slot = slot
        bar = bar_in_progress(*found, now, sub.size, sub.what, sub.rth)
        if bar is None:
            return
        if bar.start != sub.last.start:
            closed = bar_in_progress(*found, bar.start - timedelta(seconds=1), sub.size, sub.what, sub.rth)
            if closed is not None and closed.start == sub.last.start:
                self._send(out.historical_data_update(req_id, closed, sub.format_date))
        self._send(out.historical_data_update(req_id, bar, sub.format_date))
        sub.last = bar

    def _push_real_time(self, req_id: int, stream: _RealTime, now: datetime) -> None:
        """The latest completed 5-second bar, once (a jump of the clock sends only the newest)."""
        start = _five(now)
        found = self._priced(stream.symbol)
        if start <= stream.last_start or found is None:
            return
        stream.last_start = start
        bar = real_time_bar(*found, start, stream.what, stream.rth)
        if bar is not None:
            self._send(out.real_time_bar(req_id, bar))


def _five(now: datetime) -> datetime:
    """The start of the latest completed 5-second bar."""
    second = int(now.timestamp()) // 5 * 5 - 5
    return datetime.fromtimestamp(second, hours.NEW_YORK)


def _end_instant(text: str, now: datetime) -> datetime | None:
    """A request's end: now when empty; `yyyymmdd` is that day's end (New York)."""
    text = text.strip()
    if not text:
        return now
    if len(text) == 8 and text.isdigit():
        text += " 23:59:59"
    return parse_ib_time(text)
