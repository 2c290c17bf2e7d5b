"""Line numbers for lines found from a starting offset: exact, or counted from the end.

Counting the lines before a line found near the end of a huge file would cost a full pass, so when more than
`EXACT_LINENO_LIMIT` bytes precede it the number is counted from the end instead and is negative (-1 is the
last line of the file as it was read).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from harness.probes.logs import tunables
from harness.probes.logs.facts import FileProblem
from harness.probes.logs.files import _Source
from harness.probes.logs.reading import _stream_chunks


def _count_newlines(src: _Source, start: int, end: int, problems: list[FileProblem]) -> int:
    """Newlines in the scan stream between two offsets."""
    count = 0
    position = start
    chunks = _stream_chunks(src, start, problems)
    with contextlib.closing(chunks):
        for chunk in chunks:
            take = min(len(chunk), end - position)
            count += chunk.count(src.newline, 0, take)
            position += take
            if position >= end:
                break
    return count


@dataclass(slots=True)
class _LineCounter:
    """Turns 0-based line indexes from a scan start into LogLine numbers (exact or from the end)."""

    exact_base: int | None  # lines before the start, when counted; None: number from the end
    lines_seen: int = 0  # lines from the start to the end of what was read
    ends_with_newline: bool = True

    def number(self, index: int) -> int:
        if self.exact_base is not None:
            return self.exact_base + index + 1
        total = self.lines_seen if self.ends_with_newline else self.lines_seen + 1
        return index - total


def _counter_for(src: _Source, start: int, problems: list[FileProblem]) -> _LineCounter:
    if start <= src.data_start:
        return _LineCounter(0)
    if not src.seekable or start - src.data_start <= tunables.EXACT_LINENO_LIMIT:
        return _LineCounter(_count_newlines(src, src.data_start, start, problems))
    return _LineCounter(None)
