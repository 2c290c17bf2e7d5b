"""What depends only on the end of the log: the newest startup block, the last shutdown, the last line.

Plain files are read from the END backwards, so the cost follows the newest block, not the size of the log.
Gzipped and UTF-16 files cannot be read backwards cheaply; they are read forwards (rotated `.gz` files are
old and small; PowerShell logs are small).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from harness.probes.logs import files, tunables
from harness.probes.logs.facts import ExpectedLine, FileProblem, LogLine, OrderedMatch, StartupBlock
from harness.probes.logs.files import _open_all, _Source
from harness.probes.logs.linenos import _count_newlines
from harness.probes.logs.matching import _decode, _Matcher, _matches_in_buffer, _split_lines, _strip_eol
from harness.probes.logs.patterns import (
    DEFAULT_EXPECTED_STARTUP,
    DEFAULT_SHUTDOWN_PATTERNS,
    DEFAULT_STARTUP_PATTERN,
    PatternLike,
    _pattern,
)
from harness.probes.logs.reading import _backward_buffers, _line_buffers, _stream_chunks
from harness.probes.logs.timeline import _seeded_timeline
from harness.probes.logs.timestamps import DEFAULT_TIMESTAMP_FORMAT, TimestampFormat, _Clock, _TimestampParser, _Zone


@dataclass(frozen=True, slots=True)
class _Found:
    """A line located in a file: where it starts and its raw bytes."""

    start: int
    raw: bytes
    newlines_after: int  # newlines from the line's start to the end of the stream
    ends_with_newline: bool
    newlines_before: int | None = None  # known when the file was read forwards


def _last_match(src: _Source, matchers: Sequence[_Matcher], problems: list[FileProblem]) -> _Found | None:
    """The last line of a file matching any matcher: backwards for plain files, forwards otherwise."""
    if src.seekable:
        try:
            with files._open_binary(src.path) as handle:
                size = handle.seek(0, os.SEEK_END)
                newlines_after = 0
                ends_with_newline = True
                if size > src.data_start:
                    handle.seek(size - 1)
                    ends_with_newline = handle.read(1) == src.newline
                for offset, buf in _backward_buffers(handle, src, size):
                    hits = _matches_in_buffer(buf, matchers, src) if matchers else _last_line_hit(buf, src)
                    if hits:
                        start, end, _ = hits[-1]
                        after = newlines_after + buf.count(src.newline, start)
                        return _Found(offset + start, buf[start:end], after, ends_with_newline)
                    newlines_after += buf.count(src.newline)
        except OSError as error:
            problems.append(FileProblem(src.display, "unreadable", f"{type(error).__name__}: {error}"))
        return None
    # Forward: remember the last hit, count the newlines after it.
    last: tuple[int, bytes, int] | None = None
    position = 0
    newlines_before_buffer = 0
    newlines_after = 0
    tail = b""
    for buf in _line_buffers(_stream_chunks(src, 0, problems), src.newline):
        hits = _matches_in_buffer(buf, matchers, src) if matchers else _last_line_hit(buf, src)
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


def _last_line_hit(buf: bytes, src: _Source) -> list[tuple[int, int, list[int]]]:
    """The last non-blank line of a buffer, in the shape `_matches_in_buffer` returns."""
    end = len(buf)
    while end > 0:
        start = buf.rfind(src.newline, 0, end - 1) + 1
        if _strip_eol(buf[start:end], src.newline).strip():
            return [(start, end, [])]
        end = start
    return []


def _line_number(src: _Source, found: _Found, problems: list[FileProblem]) -> int:
    if found.newlines_before is not None:
        return found.newlines_before + 1
    if not src.seekable or found.start - src.data_start <= tunables.EXACT_LINENO_LIMIT:
        return _count_newlines(src, src.data_start, found.start, problems) + 1
    return -(found.newlines_after + (0 if found.ends_with_newline else 1))


def _line_at(
    src: _Source, found: _Found, parser: _TimestampParser, zone: _Zone, problems: list[FileProblem]
) -> LogLine:
    timeline = _seeded_timeline(src, found.start, parser, zone, problems)
    stamp = timeline.time_of(found.raw, 0)
    text, codec, replaced = _decode(src, found.raw)
    return LogLine(src.display, _line_number(src, found, problems), stamp, text, codec, replaced)


def newest_startup_block(
    files: Sequence[str | Path],
    startup_pattern: PatternLike = DEFAULT_STARTUP_PATTERN,
    since: datetime | None = None,
    tz: tzinfo | str | None = None,
    *,
    timestamp_format: TimestampFormat = DEFAULT_TIMESTAMP_FORMAT,
    max_lines: int = tunables.MAX_BLOCK_LINES,
) -> StartupBlock | None:
    """The newest startup block (from the last startup line to the end), or None.

    `files` oldest first (as `find_log_files` returns them). None when no file has a startup line, or when
    the newest one is before `since` or its time cannot be told while `since` is given.
    """
    sources, problems = _open_all(files)
    matchers = [_Matcher(_pattern(startup_pattern))]
    parser = _TimestampParser(timestamp_format)
    zone = _Zone(tz)
    for position in range(len(sources) - 1, -1, -1):
        src = sources[position]
        found = _last_match(src, matchers, problems)
        if found is None:
            continue
        block = _read_block(src, found, sources[position + 1 :], parser, zone, max_lines, problems)
        if since is not None:
            threshold = _Clock(zone).instant(since)
            if block.started_at is None or block.started_at < threshold:
                return None
        return block
    return None


def _read_block(
    src: _Source,
    found: _Found,
    newer: Sequence[_Source],
    parser: _TimestampParser,
    zone: _Zone,
    max_lines: int,
    problems: list[FileProblem],
) -> StartupBlock:
    first_lineno = _line_number(src, found, problems)
    lines: list[LogLine] = []
    capped = False
    spanned: list[str] = []
    # Every line is read in order here, so the clock sees each timestamp and continuations inherit directly.
    clock = _seeded_timeline(src, found.start, parser, zone, problems)
    current_time = clock.carry
    for index, current in enumerate((src, *newer)):
        start = found.start if index == 0 else current.data_start
        lineno = first_lineno if index == 0 else 1
        spanned.append(current.display)
        chunks = _line_buffers(_stream_chunks(current, start, problems), current.newline)
        with contextlib.closing(chunks):
            for buf in chunks:
                for _offset, raw in _split_lines(buf, current.newline):
                    if len(lines) >= max_lines:
                        capped = True
                        break
                    stamp = parser.parse_bytes(raw)
                    if stamp is not None:
                        current_time = clock.clock.resolve(stamp)
                    text, codec, replaced = _decode(current, raw)
                    lines.append(LogLine(current.display, lineno, current_time, text, codec, replaced))
                    # A piece of a huge line (no newline) keeps the line number for the next piece.
                    if raw.endswith(current.newline):
                        lineno += 1
                if capped:
                    break
        if capped:
            break
    started_at = lines[0].timestamp if lines else None
    return StartupBlock(
        path=src.display, first_lineno=first_lineno, started_at=started_at, lines=tuple(lines),
        start_offset=found.start, lines_capped=capped, max_lines=max_lines, files=tuple(spanned),
        problems=tuple(problems),
    )


def find_in_order(block: StartupBlock, patterns: Sequence[PatternLike] = DEFAULT_EXPECTED_STARTUP) -> OrderedMatch:
    """Which expected lines the block holds, each after the previous one found.

    An expected line that only occurs before the previous expected line is `out of order` (its first
    occurrence is given); one that does not occur in the block's kept lines is missing.
    """
    results: list[ExpectedLine] = []
    cursor = 0
    lines = block.lines
    for item in patterns:
        pattern = _pattern(item)
        found_at = next((i for i in range(cursor, len(lines)) if pattern.matches(lines[i].text)), None)
        if found_at is not None:
            results.append(ExpectedLine(str(pattern), lines[found_at], True))
            cursor = found_at + 1
            continue
        earlier = next((line for line in lines[:cursor] if pattern.matches(line.text)), None)
        results.append(ExpectedLine(str(pattern), earlier, False))
    return OrderedMatch(tuple(results), block.lines_capped)


def last_shutdown(
    files: Sequence[str | Path],
    patterns: Sequence[PatternLike] = DEFAULT_SHUTDOWN_PATTERNS,
    tz: tzinfo | str | None = None,
    *,
    timestamp_format: TimestampFormat = DEFAULT_TIMESTAMP_FORMAT,
) -> LogLine | None:
    """The last line matching a shutdown marker, in the newest file that has one (read from the end)."""
    return _last_line_matching(files, [_Matcher(_pattern(item)) for item in patterns], tz, timestamp_format)


def last_line(
    files: Sequence[str | Path],
    tz: tzinfo | str | None = None,
    *,
    timestamp_format: TimestampFormat = DEFAULT_TIMESTAMP_FORMAT,
) -> LogLine | None:
    """The last non-blank line of the log (read from the end): did the bot's last words say shutdown?"""
    return _last_line_matching(files, [], tz, timestamp_format)


def _last_line_matching(
    files: Sequence[str | Path], matchers: list[_Matcher], tz: tzinfo | str | None, fmt: TimestampFormat
) -> LogLine | None:
    sources, problems = _open_all(files)
    parser = _TimestampParser(fmt)
    zone = _Zone(tz)
    for src in reversed(sources):
        found = _last_match(src, matchers, problems)
        if found is not None:
            return _line_at(src, found, parser, zone, problems)
    return None
