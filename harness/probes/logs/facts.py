"""What the log probe returns: frozen dataclasses of plain facts, never assertions.

Steps decide what passes; these only say what the files hold. `LogLine.lineno` and `LogLine.where` follow the
line-number rules of the package docstring (exact from the start, or negative: counted from the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harness.probes.logs import tunables
from harness.probes.logs.patterns import PatternLike


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a log file, decoded, without its line ending."""

    path: str
    lineno: int  # > 0: exact, from the start; < 0: counted from the end (-1 = last line); see module doc
    timestamp: datetime | None  # aware; inherited from the previous timestamped line when the line has none
    text: str
    encoding: str = "utf-8"  # codec the line was decoded with: utf-8, cp1252, utf-16-le, utf-16-be
    replaced: bool = False  # undecodable bytes were replaced by U+FFFD

    @property
    def where(self) -> str:
        """'file:line' for failure messages."""
        if self.lineno > 0:
            return f"{self.path}:{self.lineno}"
        return f"{self.path}:{_ordinal(-self.lineno)} line from the end"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A file that could not be read as a text log, and why."""

    path: str
    kind: str  # "missing", "unreadable", "not_a_file", "binary", "corrupt"
    detail: str


@dataclass(frozen=True, slots=True)
class LogFileFacts:
    """One readable log file."""

    path: str
    size: int  # bytes on disk (compressed size for .gz)
    modified: datetime  # mtime, UTC
    compressed: bool
    encoding: str  # utf-8 (cp1252 fallback per line), utf-8-sig, utf-16-le, utf-16-be
    encoding_evidence: str  # bom, nul-pattern, default
    newline: str  # "LF", "CRLF", "CR" or "none" (as seen in the head of the file)


@dataclass(frozen=True, slots=True)
class LogFacts:
    """The files behind `--bot-log`, oldest first, and the ones that could not be used."""

    spec: str
    files: tuple[LogFileFacts, ...]
    problems: tuple[FileProblem, ...]
    problem: str | None  # set when there is nothing usable to read at all

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(item.path for item in self.files)


@dataclass(frozen=True, slots=True)
class StartupBlock:
    """The newest start of the bot: from the last startup line to the end of the log."""

    path: str  # file holding the startup line
    first_lineno: int  # its line number (see LogLine.lineno)
    started_at: datetime | None
    lines: tuple[LogLine, ...]  # the block's first `max_lines` lines, across newer rotated files too
    start_offset: int = 0  # byte offset of the startup line in the file's scan stream (see `scan`)
    lines_capped: bool = False  # True: the block has more lines than were kept
    max_lines: int = tunables.MAX_BLOCK_LINES
    files: tuple[str, ...] = ()  # files the block spans, oldest first
    problems: tuple[FileProblem, ...] = ()  # files skipped while looking for it


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


@dataclass(frozen=True, slots=True)
class PatternFacts:
    """How often one pattern occurs inside the scanned window, with the first and last few lines."""

    pattern: str
    count: int  # matching lines inside the window
    first: tuple[LogLine, ...]
    last: tuple[LogLine, ...]
    undated: int = 0  # matching lines whose time could not be told (only with `since` as a datetime)


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
