"""Every day of 2026 and 2027, at the hours that matter, through every date rule the harness and its embedded world
use: not the day CI happens to run on.

The rules: whether the NYSE regular session is open (holidays and early closes), which day is the first day (the
day of the first 06:00 ET auto-start after the first hour), its window and its 06:00 and 16:30 in New York time on
DST change days too, the weekly re-login Sunday, the dry-run bot's clean shutdown in the embedded world, and the
embedded first day's plan of its own past, which must agree with the harness's first-day rule.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from harness.fakes.botdir import shutdown_before
from harness.fakes.first_day import first_day_dates
from harness.probes import bot_day, market
from harness.probes.market import NEW_YORK

FIRST, LAST = date(2026, 1, 1), date(2027, 12, 31)
HOURS = {  # the times of day the rules change at
    "night": time(0, 30), "before-0600": time(5, 0), "before-the-open": time(8, 0), "in-session": time(12, 0),
    "after-an-early-close": time(13, 30), "after-1600": time(16, 10), "after-1630": time(16, 45),
    "late-evening": time(22, 30),
}
AUTOSTART, RESTART = time(6, 0), time(16, 30)
LONGEST_CLOSURE = timedelta(days=5)  # a holiday beside a weekend (or two, as after Christmas 2026) and the night


def _days() -> list[date]:
    return [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]


def _instants() -> list[datetime]:
    return [datetime.combine(day, moment, NEW_YORK) for day in _days() for moment in HOURS.values()]


def _in_new_york(instant: datetime, wall: time) -> bool:
    """`instant` shows `wall` on a New York clock, with the offset New York has then (EST -5 h, EDT -4 h)."""
    local = instant.astimezone(NEW_YORK)
    expected = timedelta(hours=-4) if local.dst() else timedelta(hours=-5)
    return local.time() == wall and local.utcoffset() == expected


def test_the_session_is_open_exactly_between_a_trading_days_open_and_its_close():
    early = []
    for instant in _instants():
        session = market.session_at(instant)
        day = market.trading_day(instant.date())
        assert session.is_trading_day == (day is not None), instant
        assert session.is_open == (day is not None and day.open_at <= instant < day.close_at), instant
        assert session.next_open > instant and market.trading_day(session.next_open.date()) is not None, instant
        if day is not None:
            assert _in_new_york(day.open_at, time(9, 30)), day
            assert day.close_at.time() in (time(13, 0), time(16, 0)), day
            if day.early_close and instant.time() == HOURS["after-an-early-close"]:
                early.append(instant.date())
                assert not session.is_open
    assert early == [date(2026, 11, 27), date(2026, 12, 24), date(2027, 11, 26)]
    assert market.trading_day(date(2026, 11, 26)) is None and market.trading_day(date(2027, 3, 26)) is None


def test_the_first_day_is_the_trading_day_of_the_first_autostart_after_the_first_hour():
    """A switch at any of these times, its first hour run by hand (one hour, no watch)."""
    for day in _days():
        for moment in HOURS.values():
            switch = datetime.combine(day, moment, NEW_YORK)
            hour_end, _basis = bot_day.first_hour_end(switch, ())
            first, closed = bot_day.first_day_after(hour_end, AUTOSTART)
            autostart = datetime.combine(first, AUTOSTART, NEW_YORK)
            assert market.trading_day(first) is not None, switch
            assert hour_end <= autostart < hour_end + LONGEST_CLOSURE, switch
            # No trading day's 06:00 start came between the end of the first hour and the first day's.
            skipped = [hour_end.date() + timedelta(days=n) for n in range((first - hour_end.date()).days)]
            for other in skipped:
                assert (market.trading_day(other) is None
                        or datetime.combine(other, AUTOSTART, NEW_YORK) < hour_end), (switch, other)
            assert all(market.trading_day(other) is None for other in closed), switch
            assert _in_new_york(autostart, AUTOSTART), switch
            assert _in_new_york(datetime.combine(first, RESTART, NEW_YORK), RESTART), switch
            window_end = datetime.combine(first + timedelta(days=1), AUTOSTART, NEW_YORK)
            assert window_end - autostart in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))
            sunday = bot_day.relogin_sunday(switch.date(), first)
            between = [switch.date() + timedelta(days=n) for n in range((first - switch.date()).days)]
            assert sunday == next((d for d in between if d.weekday() == 6), None), switch


def test_the_first_day_rule_by_name():
    """The issue's cases, on a clock that says so."""
    def first(at: str) -> date:
        switch = datetime.fromisoformat(at).replace(tzinfo=NEW_YORK)
        return bot_day.first_day_after(bot_day.first_hour_end(switch, ())[0], AUTOSTART)[0]

    assert first("2026-12-07T01:29") == date(2026, 12, 7)  # Monday before dawn: Monday's own 06:00 start
    assert first("2026-12-07T05:30") == date(2026, 12, 8)  # the first hour ends after 06:00: Tuesday
    assert first("2026-12-04T17:05") == date(2026, 12, 7)  # Friday evening: Monday
    assert first("2026-11-27T14:05") == date(2026, 11, 30)  # after Black Friday's early close: Monday
    assert first("2026-12-24T13:30") == date(2026, 12, 28)  # Christmas Eve, Christmas on Friday: Monday
    assert first("2027-03-25T17:00") == date(2027, 3, 29)  # before Good Friday: Monday
    assert first("2026-12-31T23:30") == date(2027, 1, 4)  # New Year's Eve: over the holiday and the weekend
    assert first("2026-03-06T17:00") == date(2026, 3, 9)  # Friday, DST begins on Sunday


def test_the_embedded_worlds_plan_of_its_past_agrees_with_the_first_day_rule_on_every_day():
    for now in _instants():
        plan = first_day_dates(now, AUTOSTART)
        switch_close = plan.switch_close
        by_hand = switch_close + timedelta(minutes=65)  # harness.fakes.first_day.append_manual_paper_hour
        baseline = switch_close + timedelta(minutes=50)  # harness.fakes.embedded._first_day
        assert market.trading_day(plan.first_day) is not None, now
        assert market.trading_day(plan.switch_day).close_at == switch_close, now
        assert plan.day_ends <= now - timedelta(hours=1), now  # over before the checks look
        assert now - plan.day_ends < timedelta(days=16), now
        assert bot_day.relogin_sunday(plan.switch_day, plan.first_day) is not None, now  # a weekend between
        for instant in (switch_close + timedelta(minutes=45), baseline, by_hand, by_hand + timedelta(minutes=65)):
            assert not market.session_at(instant).is_open, (now, instant)  # the switch is outside the session
        assert baseline < by_hand < plan.at(AUTOSTART), now
        hour_end, _basis = bot_day.first_hour_end(by_hand, ())
        assert bot_day.first_day_after(hour_end, AUTOSTART)[0] == plan.first_day, now
        assert _in_new_york(plan.at(AUTOSTART), AUTOSTART) and _in_new_york(plan.at(RESTART), RESTART), now


def test_the_embedded_dry_run_bots_clean_shutdown_is_after_a_close_and_before_now_on_every_day():
    for now in _instants():
        shutdown = shutdown_before(now)
        assert shutdown < now and not market.session_at(shutdown).is_open, now
        day = market.trading_day(shutdown.astimezone(NEW_YORK).date())
        assert day is not None and shutdown == day.close_at + timedelta(minutes=45), now
        assert now.astimezone(timezone.utc) - shutdown < LONGEST_CLOSURE + timedelta(days=1), now
