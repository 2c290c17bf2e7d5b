"""NYSE session facts: is the regular session open at an instant (holidays and early closes included).

exchange_calendars (XNYS) is the source of truth for sessions; zoneinfo gives America/New_York with DST.
The calendar pulls in pandas, so it is imported only when a session fact is asked for.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """The NYSE regular session as seen from one instant (all times America/New_York)."""

    at: datetime
    is_trading_day: bool
    is_open: bool  # inside the regular session
    open_at: datetime | None  # today's regular open, when today is a trading day
    close_at: datetime | None  # today's close (13:00 on early-close days)
    early_close: bool
    next_open: datetime  # the next regular open after `at`


@lru_cache(maxsize=8)
def _calendar(first_year: int, last_year: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecation notices from inside exchange_calendars
        import exchange_calendars as xcals

        return xcals.get_calendar("XNYS", start=f"{first_year}-01-01", end=f"{last_year}-12-31")


def _sessions(day: date):
    return _calendar(day.year - 1, day.year + 1)


def session_at(instant: datetime) -> SessionFacts:
    """Session facts for an aware instant. Naive instants are refused: they hide a time-zone guess."""
    if instant.tzinfo is None:
        raise ValueError("session_at needs an aware datetime")
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _session_at(instant.astimezone(NEW_YORK), pd)


def _session_at(at: datetime, pd) -> SessionFacts:
    calendar = _sessions(at.date())
    day = pd.Timestamp(at.date())
    is_trading_day = bool(calendar.is_session(day))
    open_at = close_at = None
    early = False
    if is_trading_day:
        open_at = calendar.session_open(day).to_pydatetime().astimezone(NEW_YORK)
        close_at = calendar.session_close(day).to_pydatetime().astimezone(NEW_YORK)
        early = close_at.time() < REGULAR_CLOSE
    is_open = bool(open_at and close_at and open_at <= at < close_at)
    next_open = _next_open(calendar, at)
    return SessionFacts(at, is_trading_day, is_open, open_at, close_at, early, next_open)


def _next_open(calendar, at: datetime) -> datetime:
    import pandas as pd

    # next_open(t) is the first open strictly after t; flooring to the minute keeps 09:29:30 -> 09:30 today.
    minute = pd.Timestamp(at.astimezone(timezone.utc).replace(second=0, microsecond=0))
    try:
        nxt = calendar.next_open(minute)
    except ValueError:  # beyond the calendar's bounds: widen by a year
        nxt = _calendar(at.year - 1, at.year + 2).next_open(minute)
    return nxt.to_pydatetime().astimezone(NEW_YORK)


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One NYSE trading day's regular session (America/New_York)."""

    day: date
    open_at: datetime
    close_at: datetime  # 13:00 on an early-close day

    @property
    def early_close(self) -> bool:
        return self.close_at.time() < REGULAR_CLOSE


@lru_cache(maxsize=4096)
def trading_day(day: date) -> TradingDay | None:
    """The day's regular session, None on a weekend or an NYSE holiday (date rules ask this of many days)."""
    facts = session_at(datetime.combine(day, time(12, 0), NEW_YORK))
    if not facts.is_trading_day or facts.open_at is None or facts.close_at is None:
        return None
    return TradingDay(day, facts.open_at, facts.close_at)
