"""The first trading day after the switch, as the bot's log tells it (docs/first-day.md is the contract).

The switch is the bot's first paper start (at or after --since, else the baseline's time); the first hour ends when
the bot's first-hour watch ended (else one hour after the switch); the first day is the NYSE trading day of the
first scheduled start (06:00 ET) after that; its window runs from 00:00 ET that day to the scheduled start time of
the next calendar day. One forward pass from the switch to the window's end collects:
every startup block in the window (and whether it is the scheduled start), the connection events (disconnects,
attempts, connections) from the switch on, error and crash lines, clean shutdowns, and the largest silences
while the bot ran. Facts only: never asserts, never raises for a fault of the log.
"""

from __future__ import annotations

import contextlib
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path

from harness.core import clock
from harness.probes import logs, market, reconcile
from harness.probes.envfile import strict_bool
from harness.probes.logs import files as _files
from harness.probes.logs import timestamps as _timestamps
from harness.probes.market import NEW_YORK

AUTOSTART_EARLY = timedelta(minutes=2)  # a start this long before --autostart-at is still the scheduled one (skew)
AUTOSTART_LATE = timedelta(minutes=10)  # ... and this long after (the scheduler's delay, a slow start)
RESTART_EARLY = timedelta(minutes=15)  # a disconnect this long before --gateway-restart belongs to the restart
RESTART_LATE = timedelta(minutes=30)  # ... and this long after it
START_LINES = 200  # lines of each startup block kept (the startup checks read its first lines)
MAX_KEPT = 20  # error lines, events and shutdowns kept
MAX_EVENTS = 2000  # connection attempts kept (a bot retrying every second for hours)
MAX_GAPS = 5  # the largest silences kept
MAX_CLOSED_DAYS = 14  # days searched for the next trading day
MAX_ORDER_LINES = 20_000  # the window's order lines kept ("Order submitted/rejected/status"), bounded for memory

# What a line's MESSAGE says about the connection (docs/first-day.md). "connected" is tried first, so
# "connection re-established" is never a disconnect.
CONNECTED = re.compile(
    r"connection\s+(?:re-?)?established|\breconnected\b|connection\s+restored|connectivity\b.*\brestored"
    r"|\b110[12]\b.*\brestored", re.IGNORECASE)
DISCONNECTED = re.compile(
    r"(?<!not )(?<!never )\bdisconnected\b|connection\s+(?:lost|closed|reset|dropped)|lost\s+connection"
    r"|\bnot\s+connected\b|connectivity\s+between\s+ib\b.*\blost\b|\b(?:code|error)[\s=:]*1100\b", re.IGNORECASE)
ATTEMPT = re.compile(r"\breconnecting\b|\bconnect(?:ion)?\s+attempt", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DayStart:
    """A startup block in the day's window."""

    block: logs.StartupBlock
    scheduled: bool  # within [autostart - AUTOSTART_EARLY, autostart + AUTOSTART_LATE]

    @property
    def at(self) -> datetime | None:
        return self.block.started_at

    @property
    def where(self) -> str:
        return f"{self.block.path}:{self.block.first_lineno}"


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    kind: str  # "connected", "disconnected" or "attempt"
    line: logs.LogLine

    @property
    def at(self) -> datetime | None:
        return self.line.timestamp


@dataclass(frozen=True, slots=True)
class Gap:
    """A silence while the bot ran: from one dated line to the next (or to `until`'s reason)."""

    start: datetime
    end: datetime
    after: logs.LogLine  # the last line before the silence
    until: str  # "the next line", "the window's end", "now"

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Mentions:
    """Lines of the window that say one thing (live mode, dry-run mode): how many, and the first few."""

    count: int = 0
    first: tuple[logs.LogLine, ...] = ()


@dataclass(frozen=True)
class FirstDay:
    """The first trading day after the switch, as the log tells it (all instants aware; messages say ET)."""

    spec: str | None
    zone: str  # how naive log times were read
    now: datetime
    log: logs.LogFacts | None = None
    problem: str | None = None  # the log cannot be read, or the switch cannot be found
    switch: logs.LogLine | None = None  # the bot's first paper startup line
    switch_basis: str = ""  # where the search for it began
    first_hour_end: datetime | None = None  # the first day is the day of the first scheduled start after this
    first_hour_basis: str = ""  # the watch that ended it, or "one hour after the switch"
    day: date | None = None
    closed_days: tuple[date, ...] = ()  # days between the switch's day and the first day (weekend, holiday)
    window_start: datetime | None = None
    window_end: datetime | None = None
    autostart: datetime | None = None
    gateway_restart: datetime | None = None
    session_open: datetime | None = None  # the first day's regular session (exchange_calendars; early closes)
    session_close: datetime | None = None
    starts: tuple[DayStart, ...] = ()
    events: tuple[ConnectionEvent, ...] = ()  # from the switch to the window's end
    errors: tuple[logs.LogLine, ...] = ()  # the first MAX_KEPT in the window
    error_count: int = 0
    live_mode: Mentions = Mentions()  # lines saying live trading mode (markers by meaning)
    dry_run: Mentions = Mentions()  # lines saying dry-run mode
    shutdowns: tuple[logs.LogLine, ...] = ()
    gaps: tuple[Gap, ...] = ()  # the largest silences while running, largest first
    lines_in_window: int = 0
    undated: int = 0  # lines whose time cannot be told (never counted in the window)
    first_line: logs.LogLine | None = None  # in the window
    last_line: logs.LogLine | None = None  # in the window
    read_problems: tuple[logs.FileProblem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    orders: reconcile.BotOrderLog = field(default_factory=reconcile.BotOrderLog)  # the bot's order lines in the window
    order_lines_capped: bool = False  # more than MAX_ORDER_LINES order lines: the rest were not read

    @property
    def over(self) -> bool:
        return self.window_end is not None and self.now >= self.window_end

    @property
    def scheduled_start(self) -> DayStart | None:
        return next((start for start in self.starts if start.scheduled), None)

    @property
    def weekly_relogin_sunday(self) -> date | None:
        """The Sunday of IB Gateway's weekly full re-login between the switch's day and the first day, if any."""
        if self.switch is None or self.switch.timestamp is None or self.day is None:
            return None
        return relogin_sunday(self.switch.timestamp.astimezone(NEW_YORK).date(), self.day)


def relogin_sunday(switch_day: date, first_day: date) -> date | None:
    """The first Sunday from the switch's day (ET) up to the day before the first day: IB Gateway's weekly full
    re-login falls between them; None when none does."""
    days_to_sunday = (6 - switch_day.weekday()) % 7
    sunday = switch_day + timedelta(days=days_to_sunday)
    return sunday if sunday < first_day else None


def et(instant: datetime | None) -> str:
    """An instant as an operator reads it: '2026-03-09 06:00:03 EDT'."""
    if instant is None:
        return "an unknown time"
    return instant.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S %Z")


def regular_session(day: date) -> tuple[datetime | None, datetime | None]:
    """The day's regular session (open, close), ET; (None, None) on a closed day."""
    session = market.trading_day(day)
    return (session.open_at, session.close_at) if session is not None else (None, None)


FIRST_HOUR = timedelta(hours=1)  # the seed's hour of running by hand, when no `harness watch` says how long it was


def first_day_after(first_hour_end: datetime, autostart_at: time) -> tuple[date, tuple[date, ...]]:
    """The first day: the NYSE trading day of the first scheduled start (`autostart_at` ET) at or after the end of
    the first hour, and the closed days skipped on the way (exchange_calendars). A switch at 01:29 ET on a Monday
    has its first day that Monday (its 06:00 start); one at 17:05 on a Friday, the next Monday."""
    end = first_hour_end.astimezone(NEW_YORK)
    candidate = end.date()
    if datetime.combine(candidate, autostart_at, NEW_YORK) < end:
        candidate += timedelta(days=1)
    closed: list[date] = []
    for _ in range(MAX_CLOSED_DAYS):
        if market.trading_day(candidate) is not None:
            return candidate, tuple(closed)
        closed.append(candidate)
        candidate += timedelta(days=1)
    raise ValueError(f"no NYSE trading day within {MAX_CLOSED_DAYS} days after {end:%Y-%m-%d}")


def first_hour_end(switch: datetime, watch_ends: Sequence[datetime]) -> tuple[datetime, str]:
    """When the first hour ended: the first `harness watch` of this bot that ended after the switch, else one hour
    after the switch; and where that came from, for messages."""
    ended = sorted(end for end in watch_ends if end > switch)
    if ended:
        return ended[0], f"the first-hour watch ended at {et(ended[0])}"
    end = switch + FIRST_HOUR
    return end, f"one hour after the switch, {et(end)} (no first-hour watch of this bot ended after it)"


def read_first_day(
    spec: str | None,
    *,
    base_dir: Path | None,
    startup_text: str,
    since: datetime | None,
    since_basis: str,
    autostart_at: time,
    gateway_restart: time,
    error_markers: tuple[str, ...],
    shutdown_markers: tuple[str, ...],
    gateway_line: str,
    tz: tzinfo | None,
    zone: str,
    now: datetime | None = None,
    watch_ends: Sequence[datetime] = (),
    live_markers: tuple[str, ...] = logs.DEFAULT_TEXTS["live_mode"],
    dry_run_markers: tuple[str, ...] = logs.DEFAULT_TEXTS["dry_run"],
) -> FirstDay:
    """The first trading day after the switch (the first paper start at or after `since`): the day of the first
    scheduled start after the first hour (`watch_ends`: when this bot's first-hour watches ended). Never raises
    for a bad log; `since_basis` says where `since` came from, for messages."""
    now = now or clock.now()
    if spec is None:
        return FirstDay(None, zone, now, problem="no bot log to read: give --bot-log or --bot-dir")
    facts = logs.inspect_logs(spec, base_dir=base_dir)
    if facts.problem is not None:
        return FirstDay(spec, zone, now, facts, problem=f"the bot's log cannot be read: {facts.problem}")
    paths = list(facts.paths)
    switch = _first_paper_start(paths, startup_text, since, tz)
    basis = f"the first paper startup at or after {since_basis}" if since else "the first paper startup in the log"
    if switch is None:
        where = f"at or after {since_basis}" if since else "in the log"
        return FirstDay(spec, zone, now, facts, switch_basis=basis,
                        problem=f"no startup line saying DRY_RUN=false, PAPER_TRADING=true {where} "
                                f"({', '.join(paths)}; log times read as {zone}): when the switch was cannot be told")
    hour_end, hour_basis = first_hour_end(switch.timestamp, watch_ends)  # type: ignore[arg-type]
    try:
        day, closed = first_day_after(hour_end, autostart_at)
        window = _Window(
            start=datetime.combine(day, time(0, 0), NEW_YORK),
            end=datetime.combine(day + timedelta(days=1), autostart_at, NEW_YORK),
            autostart=datetime.combine(day, autostart_at, NEW_YORK),
        )
    except (OverflowError, ValueError) as error:  # a log dated at the end of the calendar (9999-12-31)
        return FirstDay(spec, zone, now, facts, switch=switch, switch_basis=basis,
                        problem=f"the switch at {et(switch.timestamp)} ({switch.where}) leaves no first trading day "
                                f"to read: {error}")
    session_open, session_close = regular_session(day)
    base = FirstDay(spec, zone, now, facts, switch=switch, switch_basis=basis, first_hour_end=hour_end,
                    first_hour_basis=hour_basis, day=day, closed_days=closed,
                    window_start=window.start, window_end=window.end, autostart=window.autostart,
                    gateway_restart=datetime.combine(day, gateway_restart, NEW_YORK), session_open=session_open,
                    session_close=session_close)
    if now < window.end:
        return base
    reader = _DayReader(window, now, startup_text, error_markers, shutdown_markers, gateway_line)
    reader.modes = {"live_mode": logs.markers(live_markers), "dry_run": logs.markers(dry_run_markers)}
    reader.read(paths, switch.timestamp, tz)  # type: ignore[arg-type]
    return reader.facts(base)


def _first_paper_start(paths: list[str], startup_text: str, since: datetime | None,
                       tz: tzinfo | None) -> logs.LogLine | None:
    """The first startup line at or after `since` whose values say DRY_RUN=false and PAPER_TRADING=true."""
    found = logs.scan(paths, [logs.Pattern(startup_text)], since=since, tz=tz, keep=1000, workers=1)
    for line in found.patterns[0].first:
        if line.timestamp is None:
            continue
        block = logs.StartupBlock(line.path, line.lineno, line.timestamp, (line,))
        config = logs.configuration_line(block)
        if config is not None and strict_bool(config.value("DRY_RUN")) is False and \
                strict_bool(config.value("PAPER_TRADING")) is True:
            return line
    return None


_NO_TIME = timedelta(0)


def _any_matches(patterns: tuple[logs.Pattern, ...], text: str, lowered: str) -> bool:
    """Pattern.matches, with each pattern's keyword (lowercase ASCII every match holds) tried first: a plain
    substring test passes over most lines without a regex."""
    for pattern in patterns:
        if pattern.keyword and pattern.keyword not in lowered:
            continue
        if not pattern.regex and pattern.ignore_case:
            if pattern.text.lower() in lowered:
                return True
            continue
        if pattern.matches(text):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    end: datetime
    autostart: datetime


class _DayReader:
    """One forward pass over the log from the switch to the window's end."""

    def __init__(self, window: _Window, now: datetime, startup_text: str, error_markers: tuple[str, ...],
                 shutdown_markers: tuple[str, ...], gateway_line: str) -> None:
        self.window = window
        self.stop_at = min(window.end, now)
        self.startup = logs.Pattern(startup_text)
        self.errors_wanted = logs.error_markers(error_markers)
        self.shutdown_wanted = tuple(logs.Pattern(text, ignore_case=True) for text in shutdown_markers)
        self.gateway_line = gateway_line.lower()
        self.blocks: list[tuple[list[logs.LogLine], bool]] = []  # (lines, capped)
        self.events: list[ConnectionEvent] = []
        self.errors: list[logs.LogLine] = []
        self.error_count = 0
        self.modes: dict[str, tuple[logs.Pattern, ...]] = {}  # FirstDay field -> its markers
        self.mentions: dict[str, tuple[int, list[logs.LogLine]]] = {}
        self.shutdowns: list[logs.LogLine] = []
        self.gaps: list[tuple[timedelta, int, Gap]] = []  # a min-heap of the largest
        self.gap_count = 0
        self.in_window = 0
        self.undated = 0
        self.first: logs.LogLine | None = None
        self.last: logs.LogLine | None = None
        self.running = False
        self.previous: logs.LogLine | None = None  # the last dated line while running
        self.problems: list[logs.FileProblem] = []
        self.order_lines: list[logs.LogLine] = []
        self.order_lines_capped = False
        self.done = False

    # -- reading --

    def read(self, paths: list[str], switch_at: datetime, tz: tzinfo | None) -> None:
        sources, problems = _files.open_all(paths)
        self.problems.extend(problems)
        parser = _timestamps.TimestampParser(logs.DEFAULT_TIMESTAMP_FORMAT)
        zone = _timestamps.Zone(tz)
        for src in sources:
            if self.done:
                break
            start = _timestamps.start_for_time(src, switch_at - _timestamps.SINCE_MARGIN, parser, zone,
                                               self.problems)
            if start is None:
                continue
            self._read_file(src, start, parser, zone)
        self._finish()

    def _read_file(self, src: _files.Source, start: int, parser, zone) -> None:
        problems = self.problems
        timeline = (_timestamps.seeded_timeline(src, start, parser, zone, problems) if start > src.data_start
                    else _timestamps.Timeline(src, parser, zone))
        lineno = _files.count_newlines(src, src.data_start, start, problems) if start > src.data_start else 0
        newline = src.newline
        chunks = _files.line_buffers(_files.stream_chunks(src, start, problems), newline)
        with contextlib.closing(chunks):
            for buf in chunks:
                timeline.new_buffer()
                for offset, raw in _files.split_lines(bytes(buf), newline):
                    lineno += 1
                    stamp = timeline.time_of(buf, offset)
                    if stamp is None:
                        self.undated += 1
                        continue
                    if stamp >= self.window.end or stamp > self.stop_at:
                        self.done = True
                        return
                    text, codec, replaced = _files.decode(src, raw)
                    if not text.strip():
                        continue
                    self._line(logs.LogLine(src.display, lineno, stamp, text, codec, replaced))
                timeline.end_buffer(buf)
                # A piece of an over-long line (no newline) is the same line as the next piece.
                if not bytes(buf).endswith(newline):
                    lineno -= 1

    # -- one line --

    def _line(self, line: logs.LogLine) -> None:
        at = line.timestamp
        assert at is not None  # only dated lines reach here
        lowered = line.text.lower()
        startup = self.startup.matches(line.text)
        self._event(line, lowered)
        if at < self.window.start:
            self.running = (self.running or startup) and not self._is_shutdown(line, lowered)
            if self.running:
                self.previous = line
            return
        self.in_window += 1
        self.first = self.first or line
        self.last = line
        if startup:
            self.blocks.append(([line], False))
        elif self.blocks:
            lines, _capped = self.blocks[-1]
            if len(lines) < START_LINES:
                lines.append(line)
            else:
                self.blocks[-1] = (lines, True)
        if "order " in lowered:
            if len(self.order_lines) < MAX_ORDER_LINES:
                self.order_lines.append(line)
            else:
                self.order_lines_capped = True
        if _any_matches(self.errors_wanted, line.text, lowered):
            self.error_count += 1
            if len(self.errors) < MAX_KEPT:
                self.errors.append(line)
        for name, patterns in self.modes.items():
            if _any_matches(patterns, line.text, lowered):
                count, kept = self.mentions.get(name, (0, []))
                self.mentions[name] = (count + 1, [*kept, line] if len(kept) < MAX_KEPT else kept)
        if startup or self.running:
            if self.running and self.previous is not None:
                self._gap(self.previous, at, "the next line")
            self.running = True
            self.previous = line
        if self._is_shutdown(line, lowered):
            if len(self.shutdowns) < MAX_KEPT:
                self.shutdowns.append(line)
            self.running = False
            self.previous = None

    def _is_shutdown(self, line: logs.LogLine, lowered: str) -> bool:
        return _any_matches(self.shutdown_wanted, line.text, lowered)

    def _event(self, line: logs.LogLine, lowered: str) -> None:
        # Every connection phrase holds "connect" (or IB's code 1100): most lines are passed over without a regex.
        if "connect" not in lowered and "1100" not in lowered:
            return
        message = logs.message_text(line.text)
        if CONNECTED.search(message):
            kind = "connected"
        elif DISCONNECTED.search(message):
            kind = "disconnected"
        elif ATTEMPT.search(message) or self.gateway_line in message.lower():
            kind = "attempt"
        else:
            return
        if len(self.events) < MAX_EVENTS or kind != "attempt":
            self.events.append(ConnectionEvent(kind, line))

    def _gap(self, after: logs.LogLine, end: datetime, until: str) -> None:
        start = max(after.timestamp, self.window.start)  # type: ignore[type-var]
        length = end - start
        if length <= _NO_TIME or (len(self.gaps) >= MAX_GAPS and length <= self.gaps[0][0]):
            return  # most lines: not among the largest silences
        self.gap_count += 1
        entry = (length, -self.gap_count, Gap(start, end, after, until))  # equal lengths: the earlier is kept
        if len(self.gaps) < MAX_GAPS:
            heapq.heappush(self.gaps, entry)
        else:
            heapq.heappushpop(self.gaps, entry)

    def _finish(self) -> None:
        if self.running and self.previous is not None:
            self._gap(self.previous, self.stop_at, "the window's end" if self.stop_at == self.window.end else "now")

    # -- facts --

    def facts(self, base: FirstDay) -> FirstDay:
        from dataclasses import replace

        low = self.window.autostart - AUTOSTART_EARLY
        high = self.window.autostart + AUTOSTART_LATE
        starts = []
        for lines, capped in self.blocks:
            first = lines[0]
            block = logs.StartupBlock(first.path, first.lineno, first.timestamp, tuple(lines), lines_capped=capped,
                                      max_lines=START_LINES, files=tuple(dict.fromkeys(line.path for line in lines)))
            at = first.timestamp
            starts.append(DayStart(block, at is not None and low <= at <= high))
        # Only the first start in the scheduled minutes is the scheduled one: a second is a restart.
        seen = False
        for index, start in enumerate(starts):
            if start.scheduled:
                if seen:
                    starts[index] = DayStart(start.block, False)
                seen = True
        gaps = tuple(gap for _length, _order, gap in sorted(self.gaps, key=lambda item: (-item[0], -item[1])))
        return replace(base, starts=tuple(starts), events=tuple(self.events), errors=tuple(self.errors),
                       error_count=self.error_count,
                       **{name: Mentions(count, tuple(kept)) for name, (count, kept) in self.mentions.items()},
                       shutdowns=tuple(self.shutdowns), gaps=gaps,
                       lines_in_window=self.in_window, undated=self.undated, first_line=self.first,
                       last_line=self.last, read_problems=tuple(self.problems),
                       orders=reconcile.parse_bot_orders(self.order_lines), order_lines_capped=self.order_lines_capped)

