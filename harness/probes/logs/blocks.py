"""The bot's starts as its log tells them: the newest startup block, the last shutdown and the last line, the
expected lines in order, and what the startup lines say (the configuration values, the gateway address).

What depends only on the end of the log is read from the END backwards in plain files (`rfind` over blocks of
`files.BACK_BLOCK_BYTES`), so locating the newest startup line costs a search of the bytes after it, not of the
log. Gzipped and UTF-16 files cannot be read backwards cheaply; they are read forwards (rotated `.gz` files are old
and small; PowerShell logs are small).

A block's lines (at most `MAX_BLOCK_LINES`) are read as bytes at once, and each is decoded and timed only when it
or a later line is first asked for (`BlockLines`): most checks need a few lines at its start (the configuration
line, the expected lines in order), and a 21 MB block holds hundreds of thousands.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import overload

from harness.probes.logs import files
from harness.probes.logs.files import (
    FileProblem,
    LogLine,
    Source,
    backward_buffers,
    count_newlines,
    decode,
    line_buffers,
    numbered_exactly,
    open_all,
    stream_chunks,
    strip_eol,
)
from harness.probes.logs.patterns import (
    DEFAULT_EXPECTED_STARTUP,
    DEFAULT_SHUTDOWN_PATTERNS,
    DEFAULT_STARTUP_PATTERN,
    Matcher,
    PatternLike,
    as_pattern,
    last_match_in_buffer,
    matches_in_buffer,
)
from harness.probes.logs.structured import fields_of, message_text
from harness.probes.logs.timestamps import (
    DEFAULT_TIMESTAMP_FORMAT,
    Clock,
    Timeline,
    TimestampFormat,
    TimestampParser,
    Zone,
    seeded_timeline,
)

MAX_BLOCK_LINES = 5000  # lines of a startup block kept in memory
_COUNT_STEP = 64 * 1024  # a block's lines are counted in steps of this many bytes, at C speed


# --- what a block is ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartupBlock:
    """The newest start of the bot: from the last startup line to the end of the log."""

    path: str  # file holding the startup line
    first_lineno: int  # its line number (see LogLine.lineno)
    started_at: datetime | None
    lines: Sequence[LogLine]  # the block's first `max_lines` lines, across newer rotated files too
    start_offset: int = 0  # byte offset of the startup line in the file's scan stream (see `scan`)
    lines_capped: bool = False  # True: the block has more lines than were kept
    max_lines: int = MAX_BLOCK_LINES
    files: tuple[str, ...] = ()  # files the block spans, oldest first
    problems: tuple[FileProblem, ...] = ()  # files skipped while looking for it


@dataclass(frozen=True, slots=True)
class _Segment:
    """Whole lines of one file, read for a block: the bytes of `lines` lines, the first numbered `first_lineno`."""

    src: Source
    data: bytes
    first_lineno: int
    lines: int


class BlockLines(Sequence[LogLine]):
    """A startup block's kept lines: their bytes were read at once; each becomes a `LogLine` when it, or a later
    line, is first asked for, in file order (a line's time can depend on the lines before it: an inherited time,
    the fall-back hour). Equal to the tuple of its lines."""

    __slots__ = ("_lineno", "_made", "_position", "_segment", "_segments", "_size", "_time", "_time_known", "_timeline")

    def __init__(self, segments: list[_Segment], timeline: Timeline) -> None:
        self._segments = segments
        self._size = sum(segment.lines for segment in segments)
        self._timeline = timeline
        self._made: list[LogLine] = []
        self._segment = 0  # where the next line to make starts: segment, offset in its bytes, line number
        self._position = 0
        self._lineno = segments[0].first_lineno if segments else 0
        self._time: datetime | None = None  # the time of the last timestamped line made: an untimed line's time
        self._time_known = False  # False until the first line is made (an untimed first line inherits the carry)

    def __len__(self) -> int:
        return self._size

    @overload
    def __getitem__(self, index: int) -> LogLine: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[LogLine, ...]: ...

    def __getitem__(self, index: int | slice) -> LogLine | tuple[LogLine, ...]:
        if isinstance(index, slice):
            wanted = range(*index.indices(self._size))
            if wanted:
                self._make_up_to(max(wanted[0], wanted[-1]))
            return tuple(self._made[item] for item in wanted)
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError("block line index out of range")
        self._make_up_to(index)
        return self._made[index]

    def __iter__(self) -> Iterator[LogLine]:
        index = 0
        while index < self._size:
            if index >= len(self._made):
                self._make_up_to(index)
            yield self._made[index]
            index += 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (BlockLines, tuple, list)):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"BlockLines({self._size} lines, {len(self._made)} read)"

    def _make_up_to(self, index: int) -> None:
        made = self._made
        timeline = self._timeline
        parser = timeline.parser
        while len(made) <= index:
            segment = self._segments[self._segment]
            data, src = segment.data, segment.src
            start = self._position
            end = data.find(src.newline, start)
            end = len(data) if end == -1 else end + 1
            raw = data[start:end]
            stamp = parser.parse_bytes(raw)
            if stamp is not None:
                self._time = timeline.resolve(stamp)
            elif not self._time_known:
                self._time = timeline.carry
            self._time_known = True
            text, codec, replaced = decode(src, raw)
            made.append(LogLine(src.display, self._lineno, self._time, text, codec, replaced))
            # A piece of a huge line (no newline) keeps the line number for the next piece.
            if raw.endswith(src.newline):
                self._lineno += 1
            self._position = end
            if end >= len(data) and self._segment + 1 < len(self._segments):
                self._segment += 1
                self._position = 0
                self._lineno = self._segments[self._segment].first_lineno
        if len(made) == self._size:
            self._segments = []  # every line is made: the bytes are no longer needed


@dataclass(frozen=True, slots=True)
class ExpectedLine:
    """One expected line: found in order, found out of order, or missing."""

    pattern: str
    line: LogLine | None
    in_order: bool

    @property
    def found(self) -> bool:
        return self.line is not None


@dataclass(frozen=True, slots=True)
class OrderedMatch:
    """Which expected lines a startup block holds, in the expected order."""

    expected: tuple[ExpectedLine, ...]
    block_capped: bool = False  # the block had more lines than were searched

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(item.pattern for item in self.expected if item.line is None)

    @property
    def out_of_order(self) -> tuple[str, ...]:
        return tuple(item.pattern for item in self.expected if item.line is not None and not item.in_order)

    @property
    def all_in_order(self) -> bool:
        return all(item.line is not None and item.in_order for item in self.expected)


# --- a line found from the end -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    """A line located in a file: where it starts and its raw bytes."""

    start: int
    raw: bytes
    newlines_after: int | None  # newlines from the line's start to the end of the stream, when counted
    ends_with_newline: bool
    newlines_before: int | None = None  # known when the file was read forwards


def _last_match(src: Source, matchers: Sequence[Matcher], problems: list[FileProblem]) -> _Found | None:
    """The last line of a file matching any matcher (the last non-blank line when there are none): backwards
    for plain files, forwards otherwise."""
    if src.seekable:
        try:
            with files.open_binary(src.path) as handle:
                size = handle.seek(0, os.SEEK_END)
                ends_with_newline = True
                if size > src.data_start:
                    handle.seek(size - 1)
                    ends_with_newline = handle.read(1) == src.newline
                # A line this far from the start is numbered from the end: count the newlines on the way back,
                # while the bytes are at hand.
                count_after = not numbered_exactly(src, size)
                newlines_after = 0
                for offset, buf, begin in backward_buffers(handle, src, size):
                    if matchers:
                        hit = last_match_in_buffer(buf, matchers, src, begin)
                    else:
                        hit = _last_line_hit(buf, src, begin)
                    if hit is not None:
                        start, end = hit
                        after = newlines_after + buf.count(src.newline, start) if count_after else None
                        return _Found(offset + start, bytes(buf[start:end]), after, ends_with_newline)
                    if count_after:
                        newlines_after += buf.count(src.newline, begin)
        except OSError as error:
            problems.append(FileProblem(src.display, "unreadable", f"{type(error).__name__}: {error}"))
        return None
    # Forward: remember the last hit, count the newlines after it.
    last: tuple[int, bytes, int] | None = None
    position = 0
    newlines_before_buffer = 0
    newlines_after = 0
    tail = b""
    for buf in line_buffers(stream_chunks(src, 0, problems), src.newline):
        hits = matches_in_buffer(buf, matchers, src) if matchers else _last_line_hits(buf, src)
        in_buffer = buf.count(src.newline)
        if hits:
            start, end, _ = hits[-1]
            before = newlines_before_buffer + buf.count(src.newline, 0, start)
            last = (position + start, buf[start:end], before)
            newlines_after = buf.count(src.newline, start)
        else:
            newlines_after += in_buffer
        newlines_before_buffer += in_buffer
        position += len(buf)
        tail = buf[-1:]
    if last is None:
        return None
    return _Found(last[0], last[1], newlines_after, tail == src.newline, last[2])


def _last_line_hit(buf: bytes | bytearray, src: Source, begin: int = 0) -> tuple[int, int] | None:
    """The last non-blank line of buf[begin:]: (start, end)."""
    end = len(buf)
    while end > begin:
        found = buf.rfind(src.newline, begin, end - 1)
        start = found + 1 if found != -1 else begin
        if strip_eol(buf[start:end], src.newline).strip():
            return start, end
        end = start
    return None


def _last_line_hits(buf: bytes, src: Source) -> list[tuple[int, int, list[int]]]:
    """The last non-blank line of a buffer, in the shape `matches_in_buffer` returns."""
    hit = _last_line_hit(buf, src)
    return [] if hit is None else [(hit[0], hit[1], [])]


def _line_number(src: Source, found: _Found, problems: list[FileProblem]) -> int:
    if found.newlines_before is not None:
        return found.newlines_before + 1
    if numbered_exactly(src, found.start):
        return count_newlines(src, src.data_start, found.start, problems) + 1
    after = found.newlines_after
    if after is None:  # not counted on the way back (the limit moved): count now
        after = count_newlines(src, found.start, src.size, problems)
    return -(after + (0 if found.ends_with_newline else 1))


def _line_at(src: Source, found: _Found, parser: TimestampParser, zone: Zone, problems: list[FileProblem]) -> LogLine:
    timeline = seeded_timeline(src, found.start, parser, zone, problems)
    stamp = timeline.time_of(found.raw, 0)
    text, codec, replaced = decode(src, found.raw)
    return LogLine(src.display, _line_number(src, found, problems), stamp, text, codec, replaced)


# --- the newest startup block ------------------------------------------------------------------------------------


def newest_startup_block(
    files: Sequence[str | Path],
    startup_pattern: PatternLike = DEFAULT_STARTUP_PATTERN,
    since: datetime | None = None,
    tz: tzinfo | str | None = None,
    *,
    timestamp_format: TimestampFormat = DEFAULT_TIMESTAMP_FORMAT,
    max_lines: int = MAX_BLOCK_LINES,
) -> StartupBlock | None:
    """The newest startup block (from the last startup line to the end), or None.

    `files` oldest first (as `find_log_files` returns them). None when no file has a startup line, or when
    the newest one is before `since` or its time cannot be told while `since` is given.
    """
    sources, problems = open_all(files)
    matchers = [Matcher(as_pattern(startup_pattern))]
    parser = TimestampParser(timestamp_format)
    zone = Zone(tz)
    for position in range(len(sources) - 1, -1, -1):
        src = sources[position]
        found = _last_match(src, matchers, problems)
        if found is None:
            continue
        block = _read_block(src, found, sources[position + 1 :], parser, zone, max_lines, problems)
        if since is not None:
            threshold = Clock(zone).instant(since)
            if block.started_at is None or block.started_at < threshold:
                return None
        return block
    return None


def _read_block(
    src: Source,
    found: _Found,
    newer: Sequence[Source],
    parser: TimestampParser,
    zone: Zone,
    max_lines: int,
    problems: list[FileProblem],
) -> StartupBlock:
    """The block's first `max_lines` lines as bytes (read now: the files may rotate before they are used)."""
    first_lineno = _line_number(src, found, problems)
    segments: list[_Segment] = []
    kept = 0
    capped = False
    spanned: list[str] = []
    timeline = seeded_timeline(src, found.start, parser, zone, problems)
    for index, current in enumerate((src, *newer)):
        start = found.start if index == 0 else current.data_start
        lineno = first_lineno if index == 0 else 1
        spanned.append(current.display)
        newline = current.newline
        chunks = line_buffers(stream_chunks(current, start, problems), newline)
        with contextlib.closing(chunks):
            for buf in chunks:
                used, lines = _first_lines(buf, newline, max_lines - kept)
                if lines:
                    segments.append(_Segment(current, buf[:used] if used < len(buf) else buf, lineno, lines))
                    kept += lines
                if used < len(buf):
                    capped = True
                    break
                # A piece of a huge line (no newline) keeps the line number for the next piece.
                lineno += lines if buf.endswith(newline) else lines - 1
        if capped:
            break
    lines = BlockLines(segments, timeline)
    return StartupBlock(
        path=src.display, first_lineno=first_lineno, started_at=lines[0].timestamp if lines else None,
        lines=lines, start_offset=found.start, lines_capped=capped, max_lines=max_lines, files=tuple(spanned),
        problems=tuple(problems),
    )


def _first_lines(buf: bytes, newline: bytes, room: int) -> tuple[int, int]:
    """(bytes, lines) of a buffer's first lines, at most `room` of them; its last line may lack a newline."""
    position = 0
    taken = 0
    size = len(buf)
    while position < size:
        step_end = min(size, position + _COUNT_STEP)
        in_step = buf.count(newline, position, step_end)
        if taken + in_step >= room:
            for _ in range(room - taken):
                position = buf.find(newline, position) + 1
            return position, room
        taken += in_step
        position = step_end
    return size, taken + (1 if buf and not buf.endswith(newline) else 0)


def find_in_order(block: StartupBlock, patterns: Sequence[PatternLike] = DEFAULT_EXPECTED_STARTUP) -> OrderedMatch:
    """Which expected lines the block holds, each after the previous one found.

    An expected line that only occurs before the previous expected line is `out of order` (its first
    occurrence is given); one that does not occur in the block's kept lines is missing.
    """
    results: list[ExpectedLine] = []
    cursor = 0
    lines = block.lines
    for item in patterns:
        pattern = as_pattern(item)
        found_at = next((i for i in range(cursor, len(lines)) if pattern.matches(lines[i].text)), None)
        if found_at is not None:
            results.append(ExpectedLine(str(pattern), lines[found_at], True))
            cursor = found_at + 1
            continue
        earlier = next((line for line in lines[:cursor] if pattern.matches(line.text)), None)
        results.append(ExpectedLine(str(pattern), earlier, False))
    return OrderedMatch(tuple(results), block.lines_capped)


# --- the last shutdown and the last line -------------------------------------------------------------------------


def last_shutdown(
    files: Sequence[str | Path],
    patterns: Sequence[PatternLike] = DEFAULT_SHUTDOWN_PATTERNS,
    tz: tzinfo | str | None = None,
    *,
    timestamp_format: TimestampFormat = DEFAULT_TIMESTAMP_FORMAT,
) -> LogLine | None:
    """The last line matching a shutdown marker, in the newest file that has one (read from the end)."""
    return _last_line_matching(files, [Matcher(as_pattern(item)) for item in patterns], tz, timestamp_format)


def last_line(
    files: Sequence[str | Path],
    tz: tzinfo | str | None = None,
    *,
    timestamp_format: TimestampFormat = DEFAULT_TIMESTAMP_FORMAT,
) -> LogLine | None:
    """The last non-blank line of the log (read from the end): did the bot's last words say shutdown?"""
    return _last_line_matching(files, [], tz, timestamp_format)


def _last_line_matching(
    files: Sequence[str | Path], matchers: list[Matcher], tz: tzinfo | str | None, fmt: TimestampFormat
) -> LogLine | None:
    sources, problems = open_all(files)
    parser = TimestampParser(fmt)
    zone = Zone(tz)
    for src in reversed(sources):
        found = _last_match(src, matchers, problems)
        if found is not None:
            return _line_at(src, found, parser, zone, problems)
    return None


# --- what the startup lines say ----------------------------------------------------------------------------------
# Read from a block's lines, plain or JSON-lines (the message of a record; a structlog record's "host" and "port"
# fields when the message carries no address). Only facts: whether a value is paper is the checks' business
# (`harness.checks.startup`).

# KEY=value as a bot prints its configuration: `DRY_RUN=false, PAPER_TRADING=true` (a quoted value keeps its
# quotes out; a value runs to the next space, comma or semicolon).
_ASSIGNMENT = re.compile(r"(?<![\w.])(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;]*)")
# The address after the gateway line's text: HOST:PORT, [IPv6]:PORT or IPv6:PORT, up to a space or delimiter.
_ADDRESS = re.compile(r"\s*(?P<address>\[[^\]\s]*\](?::\w+)?|[^\s,;\"'()<>]+)")


@dataclass(frozen=True, slots=True)
class ConfigurationLine:
    """The startup line's KEY=value pairs, as written (values unquoted, never interpreted)."""

    line: LogLine
    values: tuple[tuple[str, str], ...]

    def value(self, key: str) -> str | None:
        """The LAST value the line gives `key` (a line naming a key twice is read as the bot's final word)."""
        found = [value for name, value in self.values if name == key]
        return found[-1] if found else None


@dataclass(frozen=True, slots=True)
class GatewayLine:
    """A line naming the gateway the bot connects (or reconnects) to."""

    line: LogLine
    address: str  # as written after the line's text ("" when nothing follows)
    host: str | None  # None when the address names no host
    port: int | None  # None when the address names no port (or not a number)


def configuration_line(block: StartupBlock) -> ConfigurationLine | None:
    """The values of the block's first line (the startup line: "Configuration loaded: ..."); None for an empty
    block."""
    if not block.lines:
        return None
    line = block.lines[0]
    values = tuple((found["key"], _unquote(found["value"])) for found in _ASSIGNMENT.finditer(message_text(line.text)))
    return ConfigurationLine(line, values)


def gateway_lines(block: StartupBlock, text: str) -> tuple[GatewayLine, ...]:
    """Every kept line of the block whose message holds `text` (any case), with the address after it."""
    wanted = text.lower()
    found: list[GatewayLine] = []
    for line in block.lines:
        message = message_text(line.text)
        at = message.lower().find(wanted)
        if at == -1:
            continue
        address = _ADDRESS.match(message, at + len(text))
        written = address["address"].rstrip(".:") if address else ""
        if not written:
            written = _structured_address(line.text)
        host, port = _split_address(written)
        found.append(GatewayLine(line, written, host, port))
    return tuple(found)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _structured_address(text: str) -> str:
    """HOST:PORT from a JSON record's "host"/"port" fields (structlog: log.info("Connecting...", host=, port=))."""
    fields = fields_of(text)
    host, port = fields.get("host"), fields.get("port")
    if host is None and port is None:
        return ""
    return f"{host if host is not None else ''}:{port if port is not None else ''}"


def _split_address(address: str) -> tuple[str | None, int | None]:
    if not address:
        return None, None
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port_text = address.rpartition(":")
        if not sep:
            host, port_text = address, ""
    port = int(port_text) if port_text.isdigit() and len(port_text) <= 5 else None
    return (host or None), port
