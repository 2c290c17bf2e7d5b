"""Bars from a symbol's path: historical bars (1 sec to 1 month), the bar in progress, 5-second real-time bars.

A request names its end, a duration (`3600 S`, `2 D`, `1 W`, `1 M`, `1 Y`), a bar size, what to show (TRADES,
MIDPOINT, BID, ASK, BID_ASK) and useRTH. Bars exist only inside NYSE sessions: the regular one with useRTH, else
04:00 to 20:00 (17:00 after an early close); holidays and weekends have none. `N D` is the last N trading days;
W, M and Y are calendar spans back from the end. Intraday bars are aligned to the clock from midnight and cut at
the session's edges (the first hourly bar of a regular session is 09:30-10:00); the bar in progress is included.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from . import hours
from .market import Instrument
from .path import DAY_START, PathSpec, day_prices, position, volume_between

DAY, WEEK, MONTH = "day", "week", "month"
_UNIT_SECONDS = {"sec": 1, "min": 60, "hour": 3600}
BAR_SECONDS = (1, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 14400, 28800)
WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK")
MAX_BARS = 100_000
_DURATION = re.compile(r"^\s*(\d+)\s*([SDWMY])\s*$", re.IGNORECASE)
_BAR_SIZE = re.compile(r"^\s*(\d+)\s*(secs?|mins?|hours?|days?|weeks?|months?)\s*$", re.IGNORECASE)


class BarRequestError(ValueError):
    """A bar request the gateway refuses; the message is what the client is told."""


@dataclass(frozen=True, slots=True)
class Bar:
    start: datetime  # aware, New York; a daily or longer bar is labelled by its first day
    daily: bool
    open: float
    high: float
    low: float
    close: float
    volume: float  # -1 where TWS sends none (quotes, not trades)
    wap: float
    count: int


BarSize = int | str  # seconds, or DAY / WEEK / MONTH


def parse_bar_size(text: str) -> BarSize:
    """`5 mins` -> 300, `1 day` -> DAY; TWS's sizes from 1 sec to 1 month."""
    match = _BAR_SIZE.match(text)
    if match is None:
        raise BarRequestError(f"bar size {text!r} is not valid")
    count, unit = int(match.group(1)), match.group(2).lower().rstrip("s")
    if unit in (DAY, WEEK, MONTH):
        if count != 1:
            raise BarRequestError(f"bar size {text!r} is not valid: 1 {unit} is the only {unit} bar")
        return unit
    seconds = count * _UNIT_SECONDS[unit]
    if seconds not in BAR_SECONDS:
        raise BarRequestError(f"bar size {text!r} is not valid")
    return seconds


def parse_duration(text: str) -> tuple[int, str]:
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise BarRequestError(f"duration {text!r} is not valid (e.g. '3600 S', '2 D', '1 W', '1 M', '1 Y')")
    return int(match.group(1)), match.group(2).upper()


def _months_back(instant: datetime, months: int) -> datetime:
    month0 = instant.year * 12 + instant.month - 1 - months
    year, month = divmod(month0, 12)
    day = min(instant.day, calendar.monthrange(year, month + 1)[1])
    return instant.replace(year=year, month=month + 1, day=day)


def window_start(end: datetime, duration: str, rth: bool) -> datetime:
    """Where a request's duration begins, counted back from `end`."""
    end = end.astimezone(hours.NEW_YORK)
    count, unit = parse_duration(duration)
    if unit == "S":
        return end - timedelta(seconds=count)
    if unit == "D":
        days = [d for d in hours.trading_days_back(end.date(), count + 1) if d.window(rth)[0] < end][-count:]
        return days[0].window(rth)[0] if days else end
    if unit == "W":
        return end - timedelta(weeks=count)
    return _months_back(end, count * (12 if unit == "Y" else 1))


def _bar(instrument: Instrument, spec: PathSpec, index: int, first: int, last: int, what: str, start: datetime,
         daily: bool) -> Bar:
    """One bar over seconds [first, last) of weekday `index` (last > first)."""
    prices = day_prices(spec, index)[first:last]
    return _make_bar(instrument, start, daily, (float(prices[0]), float(prices.max()), float(prices.min()),
                     float(prices[-1]), float(prices.mean())), volume_between(spec, index, first, last), what)


def _make_bar(instrument: Instrument, start: datetime, daily: bool, ohlcm: tuple[float, float, float, float, float],
              traded: float, what: str) -> Bar:
    o, h, low, c, mean = ohlcm
    if what == "TRADES":
        trades = max(1, round(traded / 100)) if traded > 0 else 0
        return Bar(start, daily, instrument.round(o), instrument.round(h), instrument.round(low), instrument.round(c),
                   traded, round(mean, 4), trades)
    if what == "BID_ASK":  # TWS: time-average bid, max ask, min bid, time-average ask
        return Bar(start, daily, instrument.shown(mean, "BID"), instrument.shown(h, "ASK"),
                   instrument.shown(low, "BID"), instrument.shown(mean, "ASK"), -1, -1, -1)
    return Bar(start, daily, instrument.shown(o, what), instrument.shown(h, what), instrument.shown(low, what),
               instrument.shown(c, what), -1, -1, -1)


def _seconds(day: hours.TradingDay, instant: datetime) -> int:
    """Second of the day's 04:00-20:00 path (instants inside that span)."""
    return round((instant - datetime.combine(day.day, DAY_START, hours.NEW_YORK)).total_seconds())


def _day_bars(instrument: Instrument, spec: PathSpec, day: hours.TradingDay, start: datetime, end: datetime,
              size: int, what: str) -> list[Bar]:
    """Intraday bars of one trading day over [start, end), clipped to the session."""
    index, _ = position(day.extended_open_at)
    first, last = _seconds(day, start), _seconds(day, end)
    if last <= first:
        return []
    offset = DAY_START.hour * 3600  # bars align to the clock from midnight
    origin = datetime.combine(day.day, DAY_START, hours.NEW_YORK)
    bars = []
    t = (first + offset) // size * size - offset
    while t < last:
        lo, hi = max(t, first), min(t + size, last)
        bars.append(_bar(instrument, spec, index, lo, hi, what, origin + timedelta(seconds=lo), False))
        t += size
    return bars


def _clip(day: hours.TradingDay, rth: bool, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    session_start, session_end = day.window(rth)
    lo, hi = max(session_start, start), min(session_end, end)
    return (lo, hi) if lo < hi else None


def _merge(bars: list[Bar], label: datetime) -> Bar:
    traded = sum(b.volume for b in bars)
    trades = bars[0].volume >= 0
    wap = round(sum(b.wap * b.volume for b in bars) / traded, 4) if trades and traded > 0 else bars[-1].wap
    return Bar(label, True, bars[0].open, max(b.high for b in bars), min(b.low for b in bars), bars[-1].close,
               traded if trades else -1, wap, sum(b.count for b in bars) if trades else -1)


def historical_bars(instrument: Instrument, spec: PathSpec, end: datetime, duration: str, size: BarSize,
                    what: str, rth: bool) -> list[Bar]:
    """The bars a reqHistoricalData asks for (oldest first). `end` is at most now: no bar from the future."""
    if what not in WHAT_TO_SHOW:
        served = ", ".join(WHAT_TO_SHOW)
        raise BarRequestError(f"whatToShow {what!r} is not served by the fake gateway (one of {served})")
    end = end.astimezone(hours.NEW_YORK)
    start = window_start(end, duration, rth)
    listed = datetime.combine(instrument.listed, DAY_START, hours.NEW_YORK)
    start = max(start, listed)
    if isinstance(size, int) and (end - start).total_seconds() / size > MAX_BARS:
        raise BarRequestError(f"{duration} of {size}-second bars is more than the {MAX_BARS:,} bars the fake serves")
    first_day = start.date()
    days = hours.trading_days_between(first_day, end.date())
    if isinstance(size, int):
        bars: list[Bar] = []
        for day in days:
            span = _clip(day, rth, start, end)
            if span is not None:
                bars += _day_bars(instrument, spec, day, span[0], span[1], size, what)
        return bars
    daily = [bar for day in days if (bar := _daily_bar(instrument, spec, day, end, what, rth)) is not None]
    if size == DAY:
        return daily
    groups: dict[tuple[int, int], list[Bar]] = {}
    for bar in daily:
        key = bar.start.isocalendar()[:2] if size == WEEK else (bar.start.year, bar.start.month)
        groups.setdefault(key, []).append(bar)
    return [_merge(group, group[0].start) for group in groups.values()]


def _daily_bar(instrument: Instrument, spec: PathSpec, day: hours.TradingDay, end: datetime, what: str,
               rth: bool) -> Bar | None:
    session_start, session_end = day.window(rth)
    stop = min(session_end, end)
    if stop <= session_start:
        return None
    index, _ = position(day.extended_open_at)
    label = datetime.combine(day.day, time(0), hours.NEW_YORK)
    return _bar(instrument, spec, index, _seconds(day, session_start), _seconds(day, stop), what, label, True)


def bar_in_progress(instrument: Instrument, spec: PathSpec, now: datetime, size: BarSize, what: str,
                    rth: bool) -> Bar | None:
    """The bar containing `now` as it stands (what keepUpToDate sends), None outside the session."""
    local = now.astimezone(hours.NEW_YORK).replace(microsecond=0)
    day = hours.trading_day(local.date())
    if day is None:
        return None
    session_start, session_end = day.window(rth)
    if not session_start <= local < session_end:
        return None
    end = local + timedelta(seconds=1)
    if not isinstance(size, int):
        return historical_bars(instrument, spec, end, "1 D", size, what, rth)[-1]
    bars = _day_bars(instrument, spec, day, session_start, end, size, what)
    return bars[-1] if bars else None


def real_time_bar(instrument: Instrument, spec: PathSpec, start: datetime, what: str, rth: bool) -> Bar | None:
    """The 5-second bar from `start` (a multiple of 5 s), None outside the session."""
    local = start.astimezone(hours.NEW_YORK)
    day = hours.trading_day(local.date())
    if day is None:
        return None
    span = _clip(day, rth, local, local + timedelta(seconds=5))
    if span is None:
        return None
    index, _ = position(day.extended_open_at)
    return _bar(instrument, spec, index, _seconds(day, span[0]), _seconds(day, span[1]), what, span[0], False)


def head_timestamp(instrument: Instrument, rth: bool) -> datetime:
    """The earliest bar's instant: the listing day's open."""
    day = hours.trading_day(instrument.listed)
    first = day or hours.trading_days_between(instrument.listed, instrument.listed + timedelta(days=10))[0]
    return first.window(rth)[0]
