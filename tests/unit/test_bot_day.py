"""The first-day probe (harness.probes.bot_day) on hand-written logs: which day, its window, the starts, the
connection events, the errors and the silences, in plain, cp1252/CRLF and JSON-lines logs, across DST."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from harness.probes import bot_day
from harness.probes.logs import DEFAULT_TEXTS

NEW_YORK = ZoneInfo("America/New_York")
PAPER_START = ("Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
               "Connecting to IBKR Gateway at 127.0.0.1:4002", "Gateway connection established",
               "Paper trading mode ACTIVE", "Bot initialized successfully")
LONG_AFTER = datetime(2030, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Line:
    at: datetime  # aware, any zone
    level: str
    message: str


def at(day: date, clock: str) -> datetime:
    hours, minutes, *rest = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hours, minutes, rest[0] if rest else 0), NEW_YORK)


def block(when: datetime, messages: Iterable[str] = PAPER_START) -> list[Line]:
    return [Line(when + timedelta(milliseconds=100 * index), "INFO", text) for index, text in enumerate(messages)]


def every(first: datetime, last: datetime, step: timedelta, message: str = "Heartbeat: alive") -> list[Line]:
    lines = []
    while first <= last:
        lines.append(Line(first, "INFO", message))
        first += step
    return lines


def clean_day(switch_day: date = date(2026, 3, 6), day: date = date(2026, 3, 9), *, start: str = "06:00:03",
              reconnect_after: timedelta = timedelta(seconds=70)) -> list[Line]:
    """The switch on `switch_day` 17:10 ET, a clean shutdown, then `day`: the 06:00 start, a heartbeat every 20 min,
    the 16:30 restart and the reconnection, a clean shutdown at 17:05."""
    begin = at(day, start)
    restart = at(day, "16:30:02")
    return [
        *block(at(switch_day, "17:10:00")),
        Line(at(switch_day, "17:40:00"), "INFO", "Shutting down: clean shutdown complete"),
        *block(begin),
        *every(begin + timedelta(minutes=20), at(day, "16:25"), timedelta(minutes=20)),
        Line(restart, "WARNING", "Gateway disconnected"),
        Line(restart + timedelta(seconds=1), "INFO", "Reconnecting to IBKR Gateway at 127.0.0.1:4002"),
        Line(restart + reconnect_after, "INFO", "Gateway connection re-established"),
        *every(at(day, "16:40"), at(day, "17:00"), timedelta(minutes=20)),
        Line(at(day, "17:05"), "INFO", "Shutting down: clean shutdown complete"),
    ]


def write_plain(path: Path, lines: Iterable[Line], *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    """As Python's logging writes it: local (New York) naive times, `asctime levelname name: message`."""
    text = "".join(f"{line.at.astimezone(NEW_YORK):%Y-%m-%d %H:%M:%S},{line.at.microsecond // 1000:03d} "
                   f"{line.level} bot: {line.message}{newline}" for line in sorted(lines, key=lambda item: item.at))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def write_json(path: Path, lines: Iterable[Line]) -> Path:
    """structlog-style JSON lines with UTC times."""
    records = [json.dumps({"timestamp": line.at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
                           "level": line.level.lower(), "event": line.message})
               for line in sorted(lines, key=lambda item: item.at)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(records) + "\n", encoding="utf-8", newline="\n")
    return path


def read(path: Path, *, since: datetime | None = None, now: datetime = LONG_AFTER,
         autostart: time = time(6, 0), watch_ends: tuple[datetime, ...] = ()) -> bot_day.FirstDay:
    return bot_day.read_first_day(
        str(path), base_dir=None, startup_text=DEFAULT_TEXTS["startup"][0], since=since,
        since_basis=f"--since {since.isoformat()}" if since else "", autostart_at=autostart,
        gateway_restart=time(16, 30), error_markers=DEFAULT_TEXTS["errors"], shutdown_markers=DEFAULT_TEXTS["shutdown"],
        gateway_line=DEFAULT_TEXTS["gateway_line"][0], tz=NEW_YORK, zone="America/New_York", now=now,
        watch_ends=watch_ends)


def test_the_first_day_is_the_first_trading_day_after_the_switch_and_its_window_is_dst_aware(tmp_path):
    day = read(write_plain(tmp_path / "bot.log", clean_day()))
    assert day.problem is None
    assert day.switch is not None and day.switch.lineno == 1
    assert day.day == date(2026, 3, 9)  # Friday's switch -> Monday, over the weekend DST began
    assert day.closed_days == (date(2026, 3, 7), date(2026, 3, 8))
    assert day.weekly_relogin_sunday == date(2026, 3, 8)
    assert day.window_start.utcoffset() == timedelta(hours=-4)
    assert day.window_start.astimezone(timezone.utc) == datetime(2026, 3, 9, 4, tzinfo=timezone.utc)
    assert day.window_end == datetime(2026, 3, 10, 6, tzinfo=NEW_YORK)
    assert day.autostart.astimezone(timezone.utc) == datetime(2026, 3, 9, 10, tzinfo=timezone.utc)


def test_a_switch_before_dawn_on_a_trading_day_has_that_days_autostart_as_its_first_day(tmp_path):
    """01:29 ET on a Monday: the hour by hand ends at 02:29, and the next 06:00 auto-start is that Monday's."""
    monday = date(2026, 12, 7)
    lines = [*block(at(monday, "01:29")), Line(at(monday, "02:35"), "INFO", "Shutting down: clean shutdown complete")]
    day = read(write_plain(tmp_path / "bot.log", lines))
    assert day.day == monday and day.closed_days == ()
    assert day.first_hour_end == at(monday, "02:29") and "one hour after the switch" in day.first_hour_basis
    assert day.autostart == at(monday, "06:00") and day.window_start == at(monday, "00:00")


def test_a_first_hour_watched_past_the_autostart_moves_the_first_day_to_the_next_trading_day(tmp_path):
    """05:30 ET on a Monday, watched until 06:31: Monday's 06:00 start came during the first hour; the first day is
    the Tuesday. A watch that ended before the switch (an earlier attempt) is not this switch's first hour."""
    monday = date(2026, 12, 7)
    path = write_plain(tmp_path / "bot.log", block(at(monday, "05:30")))
    day = read(path, watch_ends=(at(monday, "01:00"), at(monday, "06:31"), at(monday, "09:00")))
    assert day.day == date(2026, 12, 8)
    assert day.first_hour_end == at(monday, "06:31") and "watch ended" in day.first_hour_basis
    assert read(path, watch_ends=(at(monday, "05:59"),)).day == monday  # ended before 06:00: Monday's start


def test_the_first_day_after_a_friday_holiday_is_the_monday(tmp_path):
    """Good Friday 2027 (March 26): a Thursday evening switch skips the holiday and the weekend."""
    thursday = date(2027, 3, 25)
    day = read(write_plain(tmp_path / "bot.log", block(at(thursday, "16:45"))))
    assert day.day == date(2027, 3, 29)
    assert day.closed_days == (date(2027, 3, 26), date(2027, 3, 27), date(2027, 3, 28))


def test_a_clean_day_has_one_scheduled_start_its_reconnection_and_no_error(tmp_path):
    day = read(write_plain(tmp_path / "bot.log", clean_day()))
    assert [(start.at, start.scheduled) for start in day.starts] == [(at(date(2026, 3, 9), "06:00:03"), True)]
    lines = day.scheduled_start.block.lines  # from its startup line to the end of the window
    assert [line.text.split(": ", 1)[1] for line in lines[:5]] == list(PAPER_START)
    assert "clean shutdown" in lines[-1].text and not day.scheduled_start.block.lines_capped
    kinds = [(event.kind, event.at.astimezone(NEW_YORK).strftime("%m-%d %H:%M:%S")) for event in day.events]
    assert kinds == [("attempt", "03-06 17:10:00"), ("connected", "03-06 17:10:00"),
                     ("attempt", "03-09 06:00:03"), ("connected", "03-09 06:00:03"),
                     ("disconnected", "03-09 16:30:02"), ("attempt", "03-09 16:30:03"),
                     ("connected", "03-09 16:31:12")]
    assert day.error_count == 0
    assert [line.timestamp for line in day.shutdowns] == [at(date(2026, 3, 9), "17:05")]
    assert max(gap.length for gap in day.gaps) <= timedelta(minutes=20)
    assert all(gap.until == "the next line" for gap in day.gaps)  # after the clean shutdown: not running


def test_the_same_day_in_cp1252_with_crlf_reads_the_same(tmp_path):
    lines = [*clean_day(), Line(at(date(2026, 3, 9), "09:31"), "INFO", "Order filled: 1 SPY @ 1.00 € fee")]
    plain = read(write_plain(tmp_path / "a" / "bot.log", lines))
    windows = read(write_plain(tmp_path / "b" / "bot.log", lines, encoding="cp1252", newline="\r\n"))
    assert [(start.at, start.scheduled) for start in windows.starts] == [(start.at, start.scheduled)
                                                                         for start in plain.starts]
    assert [(event.kind, event.at) for event in windows.events] == [(event.kind, event.at) for event in plain.events]
    assert windows.lines_in_window == plain.lines_in_window
    assert not any(line.text.endswith("\r") for line in windows.scheduled_start.block.lines)


def test_json_lines_logs_are_read_by_their_message_and_time(tmp_path):
    lines = [*clean_day(), Line(at(date(2026, 3, 9), "12:00"), "ERROR", "Unhandled exception in strategy A")]
    day = read(write_json(tmp_path / "bot.jsonl", lines))
    assert [(start.at, start.scheduled) for start in day.starts] == [(at(date(2026, 3, 9), "06:00:03"), True)]
    assert [event.kind for event in day.events][-3:] == ["disconnected", "attempt", "connected"]
    assert day.error_count == 1 and day.errors[0].timestamp == at(date(2026, 3, 9), "12:00")


def test_a_start_at_07_00_in_summer_is_not_the_scheduled_one(tmp_path):
    day = read(write_plain(tmp_path / "bot.log", clean_day(date(2026, 7, 10), date(2026, 7, 13), start="07:00:03")))
    assert day.day == date(2026, 7, 13)
    assert [start.scheduled for start in day.starts] == [False]
    assert day.scheduled_start is None


def test_a_crash_and_a_restart_are_two_starts_with_the_error_between(tmp_path):
    monday = date(2026, 3, 9)
    lines = [*clean_day(), Line(at(monday, "12:00:00"), "ERROR", "Traceback (most recent call last):"),
             *block(at(monday, "12:05:00"))]
    day = read(write_plain(tmp_path / "bot.log", lines))
    assert [(start.at, start.scheduled) for start in day.starts] == [(at(monday, "06:00:03"), True),
                                                                     (at(monday, "12:05:00"), False)]
    assert day.error_count == 1


def test_a_second_start_within_the_scheduled_minutes_is_a_restart(tmp_path):
    monday = date(2026, 3, 9)
    day = read(write_plain(tmp_path / "bot.log", [*clean_day(), *block(at(monday, "06:04:00"))]))
    assert [start.scheduled for start in day.starts] == [True, False]


def test_silence_while_running_is_a_gap_and_silence_after_a_shutdown_is_not(tmp_path):
    monday = date(2026, 3, 9)
    lines = [line for line in clean_day() if not (at(monday, "11:01") <= line.at <= at(monday, "11:59"))]
    day = read(write_plain(tmp_path / "bot.log", lines))
    assert day.gaps[0].start == at(monday, "11:00:03") and day.gaps[0].end == at(monday, "12:00:03")
    # The night after the clean 17:05 shutdown is not a silence.
    assert all(gap.end <= at(monday, "17:05") for gap in day.gaps)


def test_a_log_that_stops_without_a_shutdown_is_silent_to_the_window_end(tmp_path):
    monday = date(2026, 3, 9)
    lines = [line for line in clean_day() if line.at <= at(monday, "13:05")]
    day = read(write_plain(tmp_path / "bot.log", lines))
    assert day.gaps[0].until == "the window's end"
    assert day.gaps[0].end == datetime(2026, 3, 10, 6, tzinfo=NEW_YORK)


def test_a_holiday_is_skipped_and_the_window_is_not_over_before_its_end(tmp_path):
    lines = clean_day(date(2026, 11, 25), date(2026, 11, 27))  # Thanksgiving, 2026-11-26, is closed
    path = write_plain(tmp_path / "bot.log", lines)
    day = read(path, now=datetime(2026, 11, 27, 20, tzinfo=NEW_YORK))
    assert day.day == date(2026, 11, 27) and day.closed_days == (date(2026, 11, 26),)
    assert not day.over and day.starts == ()  # not read before the window ends
    assert read(path).over


def test_the_switch_is_the_first_paper_start_at_or_after_since(tmp_path):
    dry_run = ("Configuration loaded: DRY_RUN=true, PAPER_TRADING=false", "DRY_RUN mode active")
    old_paper = block(at(date(2026, 2, 2), "17:00"))  # a paper start long before the baseline
    lines = [*old_paper, *block(at(date(2026, 3, 5), "17:00"), dry_run), *clean_day()]
    path = write_plain(tmp_path / "bot.log", lines)
    assert read(path).switch.timestamp == at(date(2026, 2, 2), "17:00")
    day = read(path, since=at(date(2026, 3, 5), "12:00"))
    assert day.switch.timestamp == at(date(2026, 3, 6), "17:10")
    assert day.day == date(2026, 3, 9)


def test_no_paper_start_is_a_problem_not_a_guess(tmp_path):
    lines = block(at(date(2026, 3, 6), "17:00"), ("Configuration loaded: DRY_RUN=true, PAPER_TRADING=false",))
    day = read(write_plain(tmp_path / "bot.log", lines))
    assert day.problem is not None and "DRY_RUN=false, PAPER_TRADING=true" in day.problem
    assert bot_day.read_first_day(None, base_dir=None, startup_text="x", since=None, since_basis="",
                                  autostart_at=time(6), gateway_restart=time(16, 30), error_markers=("error",),
                                  shutdown_markers=("shutdown",), gateway_line="x", tz=None, zone="local").problem


def test_a_switch_at_the_end_of_the_calendar_is_a_problem_not_a_traceback(tmp_path):
    path = tmp_path / "bot.log"
    path.write_text("9999-12-31 10:00:00,000 INFO bot: Configuration loaded: DRY_RUN=false, PAPER_TRADING=true\n",
                    encoding="utf-8", newline="\n")
    day = read(path)
    assert day.problem is not None and "the switch at 9999-12-31 10:00:00 EST (" in day.problem
    assert "leaves no first trading day to read" in day.problem and day.day is None


def test_a_missing_log_is_a_problem(tmp_path):
    day = read(tmp_path / "nothing.log")
    assert day.problem is not None and day.starts == ()


@pytest.mark.parametrize(("message", "kind"), [
    ("Gateway disconnected", "disconnected"),
    ("Connection lost to IB Gateway", "disconnected"),
    ("Error 1100: Connectivity between IB and Trader Workstation has been lost.", "disconnected"),
    ("Gateway connection re-established", "connected"),
    ("Reconnected to the gateway", "connected"),
    ("Connectivity between IB and Trader Workstation has been restored - data maintained.", "connected"),
    ("Reconnecting to IBKR Gateway at 127.0.0.1:4002", "attempt"),
    ("Connect attempt 3 failed: ConnectionRefusedError", "attempt"),
    ("Heartbeat: connected", None),
    ("Order submitted: id=1", None),
])
def test_connection_events_by_meaning(tmp_path, message, kind):
    monday = date(2026, 3, 9)
    day = read(write_plain(tmp_path / "bot.log", [*clean_day(), Line(at(monday, "10:10:10"), "INFO", message)]))
    found = [event.kind for event in day.events if event.at == at(monday, "10:10:10")]
    assert found == ([kind] if kind else [])


@pytest.mark.parametrize("text", [
    "2026-03-09 12:00:00,000 ERROR bot: boom", "Traceback (most recent call last):", "no error today",
    "error_count=0", '{"level": "error", "event": "x"}', "CRITICAL: disk", "İstanbul ERROR", "Shutting down now",
    "SHUTDOWN COMPLETE", "clean shutdown", "all fine", "fatal: git", "ERROR: None", "K\u212a error",
])
def test_the_keyword_fast_path_agrees_with_pattern_matches(text):
    from harness.probes import logs

    for patterns in (logs.error_markers(DEFAULT_TEXTS["errors"]),
                     tuple(logs.Pattern(item, ignore_case=True) for item in DEFAULT_TEXTS["shutdown"])):
        assert bot_day._any_matches(patterns, text, text.lower()) == any(p.matches(text) for p in patterns)


def test_the_days_order_lines_are_read_and_the_others_are_not(tmp_path):
    day = date(2026, 3, 9)
    lines = [*clean_day(),
             Line(at(date(2026, 3, 6), "17:15"), "INFO", "Order submitted: id=1 ref=strategy-A BUY 1 SPY @ 1.00"),
             Line(at(day, "06:00:05"), "INFO", "Order submitted: id=7 ref=strategy-A BUY 1 SPY @ 1.00"),
             Line(at(day, "06:00:06"), "INFO", "Order submitted: id=8 ref=strategy-B SELL 2 IWM"),
             Line(at(day, "06:00:07"), "INFO", "Order rejected: id=8 code=201 reason=insufficient funds"),
             Line(at(day, "06:00:08"), "INFO", "Order status: id=7 PreSubmitted"),
             Line(datetime(2026, 3, 10, 7, tzinfo=NEW_YORK), "INFO", "Order submitted: id=9 ref=x BUY 1 QQQ @ 1.00")]
    found = read(write_plain(tmp_path / "bot.log", lines))
    orders = found.orders
    assert [(o.order_id, o.side, o.quantity, o.symbol, o.price) for o in orders.orders] == [
        (7, "BUY", 1.0, "SPY", 1.0), (8, "SELL", 2.0, "IWM", None)]  # not the switch day's, not the next day's
    assert orders.orders[0].at == at(day, "06:00:05") and orders.orders[0].where.endswith("bot.log:" + str(
        next(n for n, line in enumerate(sorted(lines, key=lambda item: item.at), 1) if "id=7 ref" in line.message)))
    assert [(r.order_id, r.code) for r in orders.rejections] == [(8, 201)]
    assert orders.status_of(7) == "PreSubmitted" and not found.order_lines_capped


def test_order_lines_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(bot_day, "MAX_ORDER_LINES", 2)
    day = date(2026, 3, 9)
    lines = [*clean_day(), *(Line(at(day, f"07:0{n}"), "INFO", f"Order submitted: id={n} ref=a BUY 1 SPY @ 1.00")
                             for n in range(1, 5))]
    found = read(write_plain(tmp_path / "bot.log", lines))
    assert [o.order_id for o in found.orders.orders] == [1, 2] and found.order_lines_capped
