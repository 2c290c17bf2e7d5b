"""NYSE session facts from exchange_calendars, in America/New_York with DST."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from harness.probes.market import NEW_YORK, session_at


def ny(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("instant", "is_open"),
    [
        ("2026-02-10T16:45", False),  # the seed's transition time: after the close
        ("2026-02-10T09:29", False),
        ("2026-02-10T09:30", True),
        ("2026-02-10T15:59", True),
        ("2026-11-26T11:00", False),  # Thanksgiving
        ("2026-11-27T12:59", True),  # day after Thanksgiving: early close at 13:00
        ("2026-11-27T13:00", False),
        ("2026-03-09T09:45", True),  # first session after the DST change
        ("2026-02-14T11:00", False),  # Saturday
    ],
)
def test_regular_session(instant, is_open):
    assert session_at(ny(instant)).is_open is is_open


def test_early_close_is_reported():
    facts = session_at(ny("2026-11-27T10:00"))
    assert facts.early_close and facts.close_at.hour == 13


def test_next_open_before_the_bell_is_today():
    assert session_at(ny("2026-02-10T06:00")).next_open == ny("2026-02-10T09:30")


def test_utc_instants_convert_across_dst():
    # 14:00 UTC is 09:00 EST in winter (closed) and 10:00 EDT in summer (open).
    assert not session_at(datetime(2026, 1, 6, 14, 0, tzinfo=timezone.utc)).is_open
    assert session_at(datetime(2026, 7, 7, 14, 0, tzinfo=timezone.utc)).is_open


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        session_at(datetime(2026, 2, 10, 16, 45))
