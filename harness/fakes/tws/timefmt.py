"""Times as the TWS API writes them: reading a client's time texts, writing the gateway's."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .hours import NEW_YORK, TWS_TIME_ZONE


def parse_ib_time(text: str) -> datetime | None:
    """A client's time: `yyyymmdd-hh:mm:ss` (UTC), `yyyymmdd hh:mm:ss [Zone/Name]` (else New York). None for an
    empty or unreadable text."""
    text = text.strip()
    if not text:
        return None
    try:
        if len(text) >= 9 and text[8] == "-":
            return datetime.strptime(text[:17], "%Y%m%d-%H:%M:%S").replace(tzinfo=timezone.utc)
        date_part, _, rest = text.partition(" ")
        clock_part, _, zone = rest.strip().partition(" ")
        naive = datetime.strptime(date_part + clock_part, "%Y%m%d%H:%M:%S")
        return naive.replace(tzinfo=ZoneInfo(zone.strip()) if zone.strip() else NEW_YORK)
    except (ValueError, KeyError):
        return None


def bar_time(instant: datetime, daily: bool, format_date: int) -> str:
    """A bar's date: `20261127` for a daily or longer bar; intraday `20261127 09:30:00 US/Eastern` (formatDate 1,
    as TWS writes it) or Unix seconds (formatDate 2)."""
    local = instant.astimezone(NEW_YORK)
    if daily:
        return f"{local:%Y%m%d}"
    if format_date == 2:
        return str(int(instant.timestamp()))
    return f"{local:%Y%m%d %H:%M:%S} {TWS_TIME_ZONE}"


def schedule_time(instant: datetime) -> str:
    """A historical schedule's instant: `20261127-09:30:00` (New York)."""
    return f"{instant.astimezone(NEW_YORK):%Y%m%d-%H:%M:%S}"
