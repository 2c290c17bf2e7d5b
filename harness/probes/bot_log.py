"""The bot's log as the features need it, read once: its newest start, what it logged about orders and its
gateway connection since, and its last clean shutdown.

Every feature that asks "since the bot's newest start" gets the same block from `read_newest_start`, so the
startup block is located in one place, by one rule (the newest line naming the startup, after --since).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from harness.probes import logs
from harness.probes.reconcile import ORDER_SUBMITTED_PATTERN, BotOrderLog, parse_bot_orders

MAX_EARLIER_ORDERS = 20_000  # order lines of earlier starts kept (bounded for memory)

# The bot's own claim that it connected. It never proves a connection (the gateway must show it); its absence
# is what fails "the gateway has seen the bot" when the gateway shows nothing either.
CONNECTED_CLAIM = "gateway connection established"


@dataclass(frozen=True, slots=True)
class NewestStart:
    """Where and when the bot last started, as its log tells it, and how its times were read."""

    spec: str | None  # the log files looked at (a glob); None when no log was given
    log: logs.LogFacts | None  # the files read and any problem reading them
    block: logs.StartupBlock | None  # the newest startup block (after --since); None when there is none
    newest_any: logs.StartupBlock | None  # with --since and no block after it: the newest block at all
    startup_text: str  # what a startup line says
    since: datetime | None
    zone: str  # how naive log times were read, for messages

    @property
    def problem(self) -> str | None:
        """Why the log could not be read at all (as opposed to: read, and no startup in it)."""
        if self.spec is None:
            return "no bot log to read: give --bot-log or --bot-dir"
        return self.log.problem if self.log is not None else None

    @property
    def files(self) -> list[str]:
        return list(self.log.paths) if self.log is not None else []

    @property
    def where(self) -> str:
        return f"{self.block.path}:{self.block.first_lineno}" if self.block is not None else ""

    @property
    def started_at(self) -> datetime | None:
        return self.block.started_at if self.block is not None else None


@dataclass(frozen=True, slots=True)
class BotActivity:
    """What the bot logged since its newest start about its orders and its gateway connection."""

    start: NewestStart
    orders: BotOrderLog
    connected_claim: logs.LogLine | None  # the bot's "Gateway connection established" line, if any
    earlier: BotOrderLog = field(default_factory=BotOrderLog)  # earlier starts' since the switch (a GTC still open)

    @property
    def since(self) -> datetime | None:
        return self.start.started_at

    @property
    def where(self) -> str:
        return self.start.where


@dataclass(frozen=True, slots=True)
class LastShutdown:
    """The bot's last clean shutdown line, or why it cannot be told."""

    line: logs.LogLine | None
    zone: str
    problem: str | None = None

    @property
    def at(self) -> datetime | None:
        return self.line.timestamp if self.line is not None else None

    @property
    def source(self) -> str:
        if self.line is None:
            return self.problem or "no shutdown line"
        return f"{self.line.path}:{self.line.lineno}, its time read as {self.zone}"


def read_newest_start(spec: str | None, *, base_dir: Path | None, startup_text: str, since: datetime | None,
                      tz: tzinfo | None, zone: str) -> NewestStart:
    """The newest startup block of the bot's log (after `since` when given). Never raises for a bad log."""
    if spec is None:
        return NewestStart(None, None, None, None, startup_text, since, zone)
    facts = logs.inspect_logs(spec, base_dir=base_dir)
    block = newest_any = None
    if facts.problem is None:
        block = logs.newest_startup_block(list(facts.paths), startup_text, since=since, tz=tz)
        if block is None and since is not None:
            newest_any = logs.newest_startup_block(list(facts.paths), startup_text, tz=tz)
    return NewestStart(spec, facts, block, newest_any, startup_text, since, zone)


def bot_activity(start: NewestStart, switched: datetime | None = None, tz: tzinfo | None = None) -> BotActivity:
    """The orders and the connection claim in the newest startup block (nothing when there is no block); with
    `switched` (when the transition began), also the orders earlier starts logged since then."""
    lines = start.block.lines if start.block is not None else []
    claim = next((line for line in lines if CONNECTED_CLAIM in logs.message_text(line.text).lower()), None)
    return BotActivity(start, parse_bot_orders(lines), claim, _earlier_orders(start, switched, tz))


def _earlier_orders(start: NewestStart, switched: datetime | None, tz: tzinfo | None) -> BotOrderLog:
    """The orders the bot logged from `switched` up to its newest start: its earlier starts in this transition."""
    began = start.started_at
    if switched is None or began is None or not start.files or switched >= began:
        return BotOrderLog()
    found = logs.scan(start.files, [ORDER_SUBMITTED_PATTERN], since=switched, tz=tz, keep=MAX_EARLIER_ORDERS,
                      workers=1)
    return parse_bot_orders([line for line in found.patterns[0].first
                             if line.timestamp is not None and line.timestamp < began])


def read_last_shutdown(spec: str | None, *, base_dir: Path | None, markers: tuple[str, ...], tz: tzinfo | None,
                       zone: str) -> LastShutdown:
    """The last line saying the bot shut down cleanly, with its time. Never raises for a bad log."""
    if spec is None:
        return LastShutdown(None, zone, "no bot log to read (--bot-log)")
    files = logs.find_log_files(spec, base_dir=base_dir)
    patterns = [logs.Pattern(text, ignore_case=True) for text in markers]
    line = logs.last_shutdown(files, patterns, tz=tz) if files else None
    if line is None or line.timestamp is None:
        return LastShutdown(None, zone, f"no shutdown line with a time found in {spec}")
    return LastShutdown(line, zone)
