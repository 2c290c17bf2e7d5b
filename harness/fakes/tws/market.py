"""The fake's market: the instruments a world names, and what the market shows of one at an instant.

Prices come from each symbol's seeded path (`path.py`), trades and quotes happen only when the NYSE calendar says
the market trades (`hours.py`): bid/ask/last/sizes/volume and the day's open, high, low and the prior close.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from . import hours
from .path import PathSpec, day_prices, position, price_at, size_at, volume_between

if TYPE_CHECKING:  # numpy is imported when a path is first walked
    import numpy as np

DEFAULT_ANCHOR = datetime(2026, 1, 2, 9, 30, tzinfo=hours.NEW_YORK)  # where a path stands at its `price`
DEFAULT_VOLATILITY = 0.20  # annual, for a symbol that gives none
DELAY = timedelta(minutes=15)  # what delayed market data (types 3 and 4) lags by


@dataclass(frozen=True, slots=True)
class Instrument:
    """A stock the gateway knows: contract details and where its path starts (`price` at the market's anchor)."""

    symbol: str
    con_id: int
    price: float
    primary_exchange: str = "NASDAQ"
    currency: str = "USD"
    volatility: float | None = None  # None: the market's
    min_tick: float = 0.01
    spread_ticks: int = 1
    long_name: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    stock_type: str = "COMMON"
    daily_volume: float = 1_000_000.0
    listed: date = date(2000, 1, 3)  # the head timestamp: no bars before it

    def round(self, price: float, ticks: float = 1.0) -> float:
        """To a multiple of `ticks` x min_tick, as a short float (500.12, never 500.12000000000001)."""
        step = self.min_tick * ticks
        return round(round(price / step) * step, 8)

    def bid_ask(self, raw: float) -> tuple[float, float]:
        """The quote around a path price: the bid at the traded price less half the spread (whole ticks)."""
        bid = self.round(raw) - (self.spread_ticks // 2) * self.min_tick
        return round(bid, 8), round(bid + self.spread_ticks * self.min_tick, 8)

    def shown(self, raw: float, what: str) -> float:
        """A path price as one series of bars shows it: TRADES, MIDPOINT, BID or ASK."""
        if what in ("BID", "ASK"):
            return self.bid_ask(raw)[0 if what == "BID" else 1]
        if what == "MIDPOINT":
            bid, ask = self.bid_ask(raw)
            return round((bid + ask) / 2, 8)
        return self.round(raw)


@dataclass(frozen=True, slots=True)
class MarketSettings:
    """The world's market: the paths' seed, their default annual volatility and the anchor instant."""

    seed: int = 0
    volatility: float = DEFAULT_VOLATILITY
    anchor: datetime = DEFAULT_ANCHOR


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the market shows of a symbol at one instant. None: nothing to show (no quote off-hours, no open
    before the bell)."""

    bid: float | None
    ask: float | None
    bid_size: int
    ask_size: int
    last: float | None
    last_size: int
    last_time: datetime | None
    volume: float | None
    open: float | None
    high: float | None
    low: float | None
    close: float | None


def segment(spec: PathSpec, start: datetime, end: datetime) -> np.ndarray:
    """The path's prices second by second over [start, end), which lie within one 04:00-20:00 day."""
    index, first = position(start)
    last = first + max(1, math.ceil((end - start).total_seconds()))
    return day_prices(spec, index)[first:last]


def volume(spec: PathSpec, start: datetime, end: datetime) -> float:
    """Shares traded over [start, end) within one 04:00-20:00 day."""
    index, first = position(start)
    return volume_between(spec, index, first, first + round((end - start).total_seconds()))


def warm_up(at: datetime) -> None:
    """Load numpy and the NYSE calendar now: the first market request otherwise pays for them (0.3-1 s, more on a
    busy machine), long enough for a client's request timeout to run out on a gateway that is fine."""
    import numpy  # noqa: F401

    _current_day(at)


def _current_day(at: datetime) -> tuple[hours.TradingDay | None, hours.TradingDay | None]:
    """(the trading day whose extended session began last at or before `at`, the trading day before it)."""
    local = at.astimezone(hours.NEW_YORK)
    days = [d for d in hours.trading_days_back(local.date(), 3) if d.extended_open_at <= local]
    if not days:
        return None, None
    return days[-1], (days[-2] if len(days) > 1 else None)


def snapshot(instrument: Instrument, spec: PathSpec, at: datetime, frozen: bool) -> Snapshot:
    """The market at `at`. Off-hours a live view has no quote (bid/ask None) and shows the last trade; a frozen
    view shows the quote as it stood at the last trade."""
    current, previous = _current_day(at)
    if current is None:
        return Snapshot(None, None, 0, 0, None, 0, None, None, None, None, None, None)
    second = timedelta(seconds=1)
    trading = at < current.extended_close_at
    last_time = at.replace(microsecond=0) if trading else current.extended_close_at - second
    quote_time = last_time if trading or frozen else None
    bid = ask = None
    if quote_time is not None:
        bid, ask = instrument.bid_ask(price_at(spec, quote_time))
    day_end = min(last_time + second, current.extended_close_at)
    open_ = high = low = None
    if last_time >= current.open_at:
        regular = segment(spec, current.open_at, min(day_end, current.close_at))
        open_ = instrument.round(float(regular[0]))
        high, low = instrument.round(float(regular.max())), instrument.round(float(regular.min()))
    close = None
    if previous is not None:
        close = instrument.round(price_at(spec, previous.close_at - second))
    return Snapshot(
        bid=bid,
        ask=ask,
        bid_size=size_at(spec, last_time, 1) if bid is not None else 0,
        ask_size=size_at(spec, last_time, 2) if ask is not None else 0,
        last=instrument.round(price_at(spec, last_time)),
        last_size=size_at(spec, last_time, 3),
        last_time=last_time,
        volume=volume(spec, current.extended_open_at, day_end),
        open=open_,
        high=high,
        low=low,
        close=close,
    )
