"""The streaming scan: one forward pass over the files, counting each pattern's lines and keeping a few.

A plain file of at least `PARALLEL_MIN_BYTES` is split at line starts across worker processes (spawned, so the
same on Windows); each counts its own lines, so line numbers stay exact. The workers import `_scan_range` from
this module by its path. If processes cannot start (a sandbox, a frozen app), the scan runs in the calling
process and says so: `ScanFacts.worker_failure` holds why, and `ScanFacts.worker_ranges` counts the ranges
the workers did scan.

(Not named `scan.py`: `harness.probes.logs.scan` is the public function, and a submodule of the same name would be
shadowed by it.)
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from harness.probes.logs import files, timestamps
from harness.probes.logs.blocks import StartupBlock
from harness.probes.logs.files import FileProblem, LineCounter, LogLine, Source, buffers, counter_for, decode, open_all
from harness.probes.logs.patterns import Matcher, Pattern, PatternLike, as_pattern, matches_in_buffer
from harness.probes.logs.timestamps import (
    DEFAULT_TIMESTAMP_FORMAT,
    Clock,
    Timeline,
    TimestampFormat,
    TimestampParser,
    Zone,
    seeded_timeline,
    start_for_time,
)

KEEP_MATCHES = 5  # first/last matching lines kept per pattern by `scan`
PARALLEL_MIN_BYTES = 256 * 1024 * 1024  # `scan` splits plain files at least this large across processes
MAX_WORKERS = 4


@dataclass(frozen=True, slots=True)
class PatternFacts:
    """How often one pattern occurs inside the scanned window, with the first and last few lines."""

    pattern: str  # the pattern's text as given (its key: `str(Pattern)`)
    count: int  # matching lines inside the window
    first: tuple[LogLine, ...]
    last: tuple[LogLine, ...]
    undated: int = 0  # matching lines whose time could not be told (only with `since` as a datetime)
    words: str = ""  # how a person reads it (`Pattern.describe()`): what messages show, never a regex


@dataclass(frozen=True, slots=True)
class ScanFacts:
    """The result of one streaming pass over the log files."""

    files: tuple[str, ...]  # files actually read (others were before the window or had problems)
    since: datetime | None  # lower bound in time, or the startup time of the block scanned from
    from_block: str | None  # "file:line" of the startup block the scan started at, if any
    patterns: tuple[PatternFacts, ...]
    problems: tuple[FileProblem, ...] = ()
    bytes_scanned: int = 0
    replaced_lines: int = 0  # kept lines that needed U+FFFD replacement
    worker_ranges: int = 0  # byte ranges scanned in worker processes (0: everything was scanned in this one)
    worker_failure: str | None = None  # why worker processes could not be used (the scan then ran in this one)

    def facts_for(self, pattern: PatternLike) -> PatternFacts:
        """The facts for one of the scanned patterns."""
        wanted = str(pattern)
        for item in self.patterns:
            if item.pattern == wanted:
                return item
        raise KeyError(wanted)

    @property
    def total(self) -> int:
        return sum(item.count for item in self.patterns)


_Hit = tuple[int, "datetime | None", bytes]  # (line index from the range start, time, raw line)


@dataclass(slots=True)
class _RangeResult:
    """What one pass over a byte range of one file found (picklable: parallel workers return it)."""

    counts: list[int]
    undated: list[int]
    first: list[list[_Hit]]
    last: list[deque[_Hit]]
    lines: int = 0  # newlines in the range
    last_byte: bytes = b""
    bytes_read: int = 0
    problems: list[FileProblem] = dataclasses.field(default_factory=list)


def scan(
    files: Sequence[str | Path],
    patterns: Sequence[PatternLike],
    since: datetime | StartupBlock | None = None,
    tz: tzinfo | str | None = None,
    *,
    timestamp_format: TimestampFormat = DEFAULT_TIMESTAMP_FORMAT,
    keep: int = KEEP_MATCHES,
    workers: int | None = None,
) -> ScanFacts:
    """Count the lines matching each pattern, keeping the first and last `keep` of each; one pass, bytes.

    `since`: None = every line; a datetime = lines at or after it (plain files bisected, see
    `harness.probes.logs.timestamps`); a StartupBlock = the lines from that block's startup line on (older files
    skipped). `workers`: processes for plain files of at least PARALLEL_MIN_BYTES (None: one per CPU, at most
    MAX_WORKERS; 1: this process only). Line numbers stay exact: each worker counts its own range.
    """
    wanted = tuple(as_pattern(item) for item in patterns)
    sources, problems = open_all(files)
    parser = TimestampParser(timestamp_format)
    zone = Zone(tz)
    threshold: datetime | None = None
    plan: list[tuple[Source, int]] = []
    from_block: str | None = None
    if isinstance(since, StartupBlock):
        from_block = f"{since.path}:{since.first_lineno}"
        names = [src.display for src in sources]
        if since.path in names:
            first = names.index(since.path)
            plan = [(src, since.start_offset if src.display == since.path else src.data_start)
                    for src in sources[first:]]
        else:
            problems.append(FileProblem(since.path, "missing", "the startup block's file is not among the "
                                        "files scanned; scanning all of them"))
            plan = [(src, src.data_start) for src in sources]
    elif since is not None:
        threshold = Clock(zone).instant(since)
        for src in sources:
            start = start_for_time(src, threshold - timestamps.SINCE_MARGIN, parser, zone, problems)
            if start is not None:
                plan.append((src, start))
    else:
        plan = [(src, src.data_start) for src in sources]

    count = [0] * len(wanted)
    undated = [0] * len(wanted)
    first: list[list[tuple[Source, LineCounter, _Hit]]] = [[] for _ in wanted]
    last: list[deque[tuple[Source, LineCounter, _Hit]]] = [deque(maxlen=keep) for _ in wanted]
    total_bytes = 0
    with _Workers(workers) as pool:
        for src, start in plan:
            counter = counter_for(src, start, problems)
            ranges = _split_ranges(src, start, pool.size)
            results = pool.map(src, ranges, wanted, keep, threshold, timestamp_format, tz)
            base = 0
            for result in results:
                problems.extend(result.problems)
                total_bytes += result.bytes_read
                for which in range(len(wanted)):
                    count[which] += result.counts[which]
                    undated[which] += result.undated[which]
                    for index, stamp, raw in result.first[which]:
                        if len(first[which]) < keep:
                            first[which].append((src, counter, (base + index, stamp, raw)))
                    for index, stamp, raw in result.last[which]:
                        last[which].append((src, counter, (base + index, stamp, raw)))
                base += result.lines
            counter.lines_seen = base
            counter.ends_with_newline = not results or results[-1].last_byte in (b"", src.newline)

    facts = []
    replaced = 0
    for which, pattern in enumerate(wanted):
        kept_first = tuple(_materialise(item) for item in first[which])
        kept_last = tuple(_materialise(item) for item in last[which])
        replaced += sum(1 for line in kept_first + kept_last if line.replaced)
        facts.append(PatternFacts(str(pattern), count[which], kept_first, kept_last, undated[which],
                                  pattern.describe()))
    block_time = since.started_at if isinstance(since, StartupBlock) else threshold
    return ScanFacts(tuple(src.display for src, _ in plan), block_time, from_block, tuple(facts),
                     tuple(problems), total_bytes, replaced, pool.ranges_done, pool.failure)


def _materialise(item: tuple[Source, LineCounter, _Hit]) -> LogLine:
    src, counter, (index, stamp, raw) = item
    text, codec, replaced = decode(src, raw)
    return LogLine(src.display, counter.number(index), stamp, text, codec, replaced)


def _split_ranges(src: Source, start: int, parts: int) -> list[tuple[int, int | None]]:
    """Cut [start, end of file) into up to `parts` ranges beginning at line starts."""
    size = src.size
    if parts <= 1 or not src.seekable or size - start < PARALLEL_MIN_BYTES:
        return [(start, None)]
    bounds = [start]
    try:
        with files.open_binary(src.path) as handle:
            for part in range(1, parts):
                guess = start + (size - start) * part // parts
                handle.seek(guess - 1)
                data = handle.read(files.MAX_LINE_BYTES)
                cut = data.find(src.newline)
                if cut == -1:
                    continue
                bound = guess + cut
                if bound > bounds[-1] and bound < size:
                    bounds.append(bound)
    except OSError:
        return [(start, None)]
    ends: list[int | None] = [*bounds[1:], None]
    return list(zip(bounds, ends, strict=True))


class _Workers:
    """A process pool for large files, or none. When processes cannot start, the file is scanned in this process
    and `failure` says why."""

    def __init__(self, workers: int | None) -> None:
        wanted = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
        self.size = max(1, wanted)
        self.ranges_done = 0  # ranges the worker processes scanned
        self.failure: str | None = None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def map(
        self,
        src: Source,
        ranges: list[tuple[int, int | None]],
        patterns: tuple[Pattern, ...],
        keep: int,
        threshold: datetime | None,
        fmt: TimestampFormat,
        tz: tzinfo | str | None,
    ) -> list[_RangeResult]:
        if len(ranges) > 1:
            try:
                if self._pool is None:
                    # spawn, not fork: the same on Windows and POSIX, and safe when the caller has threads.
                    context = multiprocessing.get_context("spawn")
                    self._pool = concurrent.futures.ProcessPoolExecutor(self.size, mp_context=context)
                futures = [self._pool.submit(_scan_range, src, start, end, patterns, keep, threshold, fmt, tz)
                           for start, end in ranges]
                results = [future.result() for future in futures]
            except (OSError, RuntimeError, concurrent.futures.process.BrokenProcessPool,
                    pickle.PicklingError, AttributeError) as error:
                # No processes here: do it in this process, and say why in the facts.
                self.size = 1
                self.failure = f"{type(error).__name__}: {error}"
            else:
                self.ranges_done += len(ranges)
                return results
        start = ranges[0][0]
        return [_scan_range(src, start, None, patterns, keep, threshold, fmt, tz)]


def _scan_range(
    src: Source,
    start: int,
    end: int | None,
    patterns: tuple[Pattern, ...],
    keep: int,
    threshold: datetime | None,
    fmt: TimestampFormat,
    tz: tzinfo | str | None,
) -> _RangeResult:
    """One pass over [start, end) of a file: counts and kept lines per pattern, line indexes from `start`."""
    matchers = [Matcher(item) for item in patterns]
    parser = TimestampParser(fmt)
    zone = Zone(tz)
    result = _RangeResult(
        counts=[0] * len(patterns), undated=[0] * len(patterns),
        first=[[] for _ in patterns], last=[deque(maxlen=keep) for _ in patterns],
    )
    problems = result.problems
    timeline = (seeded_timeline(src, start, parser, zone, problems) if start > src.data_start
                else Timeline(src, parser, zone))
    newline = src.newline
    line_index = 0  # 0-based index, from `start`, of the line at the start of the current buffer
    for buf, usable in buffers(src, start, end, problems):
        timeline.new_buffer()
        cursor = 0
        index = line_index
        for line_start, line_end, indexes in matches_in_buffer(buf, matchers, src, usable):
            index += buf.count(newline, cursor, line_start)
            cursor = line_start
            stamp = timeline.time_of(buf, line_start)
            if threshold is not None and (stamp is None or stamp < threshold):
                # Undated: no time at all, or a fall-back-hour time whose other reading is inside.
                alternative = timeline.alternative
                if stamp is None or (alternative is not None and alternative >= threshold):
                    for which in indexes:
                        result.undated[which] += 1
                continue
            hit = (index, stamp, bytes(buf[line_start:line_end]))
            for which in indexes:
                result.counts[which] += 1
                if len(result.first[which]) < keep:
                    result.first[which].append(hit)
                result.last[which].append(hit)
        timeline.end_buffer(buf, usable)
        line_index += buf.count(newline, 0, usable)
        result.bytes_read += usable
        result.last_byte = buf[usable - 1 : usable]
    result.lines = line_index
    return result
