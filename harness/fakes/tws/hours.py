"""When the fake's market trades: NYSE sessions (holidays, early closes) in America/New_York, and TWS's hour strings.

The calendar is `harness.probes.market` (exchange_calendars XNYS, imported on first use). A trading day has its
regular session (09:30 to 16:00, or 13:00 on an early close) and its extended one (04:00 to 20:00, or 17:00 after
an early close); a holiday or a weekend has neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from harness.probes.market import NEW_YORK
from harness.probes.market import trading_day as nyse_day

EXTENDED_OPEN = time(4, 0)
EXTENDED_CLOSE = time(20, 0)
EARLY_EXTENDED_CLOSE = time(17, 0)  # the after-hours session ends at 17:00 on an early-close day
TWS_TIME_ZONE = "US/Eastern"  # the time zone id TWS gives US stocks (contract details, schedules)


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One NYSE trading day: its regular and extended sessions (aware, New York)."""

    day: date
    open_at: datetime
    close_at: datetime
    extended_open_at: datetime
    extended_close_at: datetime

    @property
    def early_close(self) -> bool:
        return self.close_at.time() < time(16, 0)

    def window(self, rth: bool) -> tuple[datetime, datetime]:
        """The regular session (rth) or the extended one, as [start, end)."""
        return (self.open_at, self.close_at) if rth else (self.extended_open_at, self.extended_close_at)


@lru_cache(maxsize=8192)
def trading_day(day: date) -> TradingDay | None:
    """The day's sessions, None on a weekend or an NYSE holiday."""
    regular = nyse_day(day)
    if regular is None:
        return None
    open_at = regular.open_at.astimezone(NEW_YORK)
    close_at = regular.close_at.astimezone(NEW_YORK)
    extended_end = EARLY_EXTENDED_CLOSE if close_at.time() < time(16, 0) else EXTENDED_CLOSE
    return TradingDay(
        day,
        open_at,
        close_at,
        datetime.combine(day, EXTENDED_OPEN, NEW_YORK),
        datetime.combine(day, extended_end, NEW_YORK),
    )


def is_regular_open(instant: datetime) -> bool:
    """Inside the NYSE regular session (the `nyse` session rule of a world)."""
    today = trading_day(instant.astimezone(NEW_YORK).date())
    return today is not None and today.open_at <= instant < today.close_at


def is_extended_open(instant: datetime) -> bool:
    """Inside the NYSE extended session: where outsideRth limit orders may fill under the `nyse` rule."""
    today = trading_day(instant.astimezone(NEW_YORK).date())
    return today is not None and today.extended_open_at <= instant < today.extended_close_at


def trading_days_back(last: date, count: int) -> list[TradingDay]:
    """The `count` trading days ending on or before `last`, oldest first."""
    days: list[TradingDay] = []
    day = last
    for _ in range(count * 7 // 5 + 60):  # holidays never run for weeks: the bound only stops a runaway loop
        if len(days) == count:
            break
        found = trading_day(day)
        if found is not None:
            days.append(found)
        day -= timedelta(days=1)
    return days[::-1]


def trading_days_between(first: date, last: date) -> list[TradingDay]:
    """Every trading day from `first` to `last` inclusive, oldest first."""
    found = (trading_day(first + timedelta(days=n)) for n in range((last - first).days + 1))
    return [day for day in found if day is not None]


def hours_text(first: date, days: int, rth: bool) -> str:
    """TWS's tradingHours / liquidHours: `20261127:0930-20261127:1300;20261128:CLOSED;...` from `first` on."""
    parts = []
    for n in range(days):
        day = first + timedelta(days=n)
        found = trading_day(day)
        if found is None:
            parts.append(f"{day:%Y%m%d}:CLOSED")
            continue
        start, end = found.window(rth)
        parts.append(f"{start:%Y%m%d:%H%M}-{end:%Y%m%d:%H%M}")
    return ";".join(parts)
