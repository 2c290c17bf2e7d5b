"""Where to start reading a file for the lines at or after a time (`scan(since=datetime)`).

Plain files are bisected on their timestamps, to `SINCE_MARGIN` before `since` (more than any DST step, so
the fold logic sees context); then every matching line's own time decides. Gzip and UTF-16 files cannot be
bisected: their mtime says whether they can be skipped.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import BinaryIO

from harness.probes.logs import files, tunables
from harness.probes.logs.facts import FileProblem
from harness.probes.logs.files import _Source
from harness.probes.logs.matching import _split_lines
from harness.probes.logs.reading import _backward_buffers
from harness.probes.logs.timestamps import _Clock, _TimestampParser, _Zone


def _start_for_time(
    src: _Source, target: datetime, parser: _TimestampParser, zone: _Zone, problems: list[FileProblem]
) -> int | None:
    """Where to start reading a file for lines at/after `target`; None when the whole file is older."""
    if not src.seekable:
        # Cannot bisect gzip or UTF-16: its mtime (time of its last write) says whether it can be skipped.
        modified = datetime.fromtimestamp(src.mtime, timezone.utc)
        return None if modified < target else src.data_start
    clock = _Clock(zone)
    try:
        with files._open_binary(src.path) as handle:
            size = handle.seek(0, os.SEEK_END)
            last = _last_time(handle, src, size, parser, clock)
            if last is not None and last < target:
                return None
            low, high = src.data_start, size
            while high - low > tunables.BACK_BLOCK_BYTES:
                middle = (low + high) // 2
                stamp, line_start = _first_time_after(handle, src, middle, parser, clock)
                if stamp is None or stamp >= target:
                    high = middle
                else:
                    low = line_start
            return _line_start_at_or_before(handle, src, low)
    except OSError as error:
        problems.append(FileProblem(src.display, "unreadable", f"{type(error).__name__}: {error}"))
        return None


def _last_time(
    handle: BinaryIO, src: _Source, size: int, parser: _TimestampParser, clock: _Clock
) -> datetime | None:
    for _offset, buf in _backward_buffers(handle, src, size):
        lines = list(_split_lines(buf, src.newline))
        for _start, raw in reversed(lines):
            stamp = parser.parse_bytes(raw)
            if stamp is not None:
                return clock.instant(stamp)
        return None  # no timestamp in the last block: do not skip the file
    return None


def _first_time_after(
    handle: BinaryIO, src: _Source, offset: int, parser: _TimestampParser, clock: _Clock
) -> tuple[datetime | None, int]:
    handle.seek(offset)
    data = handle.read(tunables.CONTEXT_BYTES)
    cut = data.find(src.newline)
    if cut == -1:
        return None, offset
    for start, raw in _split_lines(data[cut + 1 :], src.newline):
        stamp = parser.parse_bytes(raw)
        if stamp is not None:
            return clock.instant(stamp), offset + cut + 1 + start
    return None, offset


def _line_start_at_or_before(handle: BinaryIO, src: _Source, offset: int) -> int:
    if offset <= src.data_start:
        return src.data_start
    begin = max(src.data_start, offset - tunables.MAX_LINE_BYTES)
    handle.seek(begin)
    data = handle.read(offset - begin)
    cut = data.rfind(src.newline)
    return begin + cut + 1 if cut != -1 else begin
