"""The times of a file's lines while streaming it: own, inherited, and the DST fold state.

A line without a timestamp (traceback, continuation) takes the time of the previous timestamped line. Only
matching lines are looked at, so around the fall-back hour the clock is first shown the lines it skipped;
reading from the middle of a file starts from the `CONTEXT_BYTES` before that point.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from harness.probes.logs import tunables
from harness.probes.logs.facts import FileProblem
from harness.probes.logs.files import _Source
from harness.probes.logs.matching import _split_lines
from harness.probes.logs.reading import _stream_chunks
from harness.probes.logs.timestamps import _Clock, _TimestampParser, _Zone


class _Timeline:
    """Timestamps of one file's lines in file order: own, inherited, and the DST fold state."""

    def __init__(self, src: _Source, parser: _TimestampParser, zone: _Zone) -> None:
        self.src = src
        self.parser = parser
        self.clock = _Clock(zone)
        self.carry: datetime | None = None  # time of the last timestamped line before the current buffer
        self.carry_alternative: datetime | None = None
        self.alternative: datetime | None = None  # other reading of the last `time_of` (DST, no context)
        self._observed = 0  # position in the current buffer up to which the clock has seen every line

    def new_buffer(self) -> None:
        self._observed = 0

    def observe_lines(self, buf: bytes, start: int, end: int) -> None:
        """Let the clock see every timestamped line in buf[start:end] (used around the fall-back hour)."""
        for _offset, raw in _split_lines(buf[start:end], self.src.newline):
            stamp = self.parser.parse_bytes(raw)
            if stamp is not None:
                self.carry = self.clock.resolve(stamp)
                self.carry_alternative = self.clock.alternative

    def _resolve_at(self, buf: bytes, line_start: int, stamp: datetime) -> datetime:
        if stamp.tzinfo is None and self.clock.zone.ambiguous(stamp) and line_start > self._observed:
            self.observe_lines(buf, self._observed, line_start)
        resolved = self.clock.resolve(stamp)
        self.alternative = self.clock.alternative
        self._observed = max(self._observed, line_start + 1)
        return resolved

    def _carried(self) -> datetime | None:
        self.alternative = self.carry_alternative
        return self.carry

    def time_of(self, buf: bytes, line_start: int) -> datetime | None:
        """The time of the line at buf[line_start]: its own, else the previous timestamped line's."""
        own = self.parser.parse_bytes(buf, line_start)
        if own is not None:
            return self._resolve_at(buf, line_start, own)
        newline = self.src.newline
        position = line_start
        for _ in range(tunables._WALK_BACK_LINES):
            if position <= 0:
                return self._carried()
            previous = buf.rfind(newline, 0, position - 1) + 1
            stamp = self.parser.parse_bytes(buf, previous)
            if stamp is not None:
                return self._resolve_at(buf, previous, stamp)
            position = previous
        return self._carried()

    def end_buffer(self, buf: bytes, end: int | None = None) -> None:
        """Remember the time of the buffer's last timestamped line for the next buffer's continuations."""
        newline = self.src.newline
        position = len(buf) if end is None else end
        for _ in range(tunables._WALK_BACK_LINES):
            if position <= 0:
                return
            start = buf.rfind(newline, 0, position - 1) + 1
            stamp = self.parser.parse_bytes(buf, start)
            if stamp is not None:
                # Resolving a line the clock already saw again is harmless: same wall time, no step back.
                self.carry = self._resolve_at(buf, start, stamp)
                self.carry_alternative = self.alternative
                return
            position = start


def _context_before(src: _Source, offset: int, problems: list[FileProblem]) -> bytes:
    """Whole lines in the CONTEXT_BYTES before `offset` (for inherited timestamps and DST context)."""
    start = max(src.data_start, offset - tunables.CONTEXT_BYTES)
    if start >= offset:
        return b""
    data = b""
    chunks = _stream_chunks(src, start, problems)
    with contextlib.closing(chunks):
        for chunk in chunks:
            data += chunk[: offset - start - len(data)]
            if len(data) >= offset - start:
                break
    if start > src.data_start:
        cut = data.find(src.newline)
        data = data[cut + 1 :] if cut != -1 else b""
    return data


def _seeded_timeline(
    src: _Source, offset: int, parser: _TimestampParser, zone: _Zone, problems: list[FileProblem]
) -> _Timeline:
    timeline = _Timeline(src, parser, zone)
    context = _context_before(src, offset, problems)
    if context:
        timeline.observe_lines(context, 0, len(context))
    return timeline
