"""The log probe: plain facts about the trading bot's log files.

What it reads: the file or glob the operator names (`--bot-log`), with its rotated siblings (`bot.log.1`,
`bot.log.2.gz`, `bot.log.2026-02-10`, `bot-2026-02-10.log.gz`), in any encoding an operator's machine
writes (UTF-8 with or without BOM, cp1252, UTF-16 with or without BOM; LF, CRLF or lone CR).
What it returns: frozen dataclasses (`LogFacts`, `StartupBlock`, `OrderedMatch`, `ScanFacts`, `LogLine`).
It never asserts, prints or raises on a bad file: a missing, unreadable, binary or corrupt file becomes a
`FileProblem`. Text is returned raw; callers redact with `harness.redact.redact_text` before it leaves.

How it reads, and why:

* Searching works on BYTES. For ASCII-compatible files (UTF-8, cp1252) each pattern's encoded forms are
  found with `bytes.find` over multi-megabyte buffers of whole lines (one reused buffer); only matching
  lines are decoded. UTF-16 files are transcoded to UTF-8 chunk by chunk first, then searched the same
  way. Memory stays constant: one buffer, plus a few kept lines per pattern. A full `scan` of a plain
  file over PARALLEL_MIN_BYTES is split at line starts across worker processes (spawned, so the same on
  Windows); each counts its own lines, so line numbers stay exact. If processes cannot start, the scan
  runs in the calling process.
* What depends only on the end of the log (the newest startup block, the last shutdown, lines after
  `since`) reads plain files from the END backwards, or bisects on timestamps, so its cost follows the
  newest block, not the size of the log. Gzipped and UTF-16 files cannot be read backwards cheaply; they
  are read forwards (rotated `.gz` files are old and small; PowerShell logs are small).
* Line numbers. `LogLine.lineno > 0` is exact (1-based from the start of the file). Counting the lines
  before a line found near the end of a huge file would cost a full pass, so when more than
  `EXACT_LINENO_LIMIT` bytes precede it, the number is counted from the END instead and is negative:
  -1 is the last line of the file as it was read. `LogLine.where` renders both ("bot.log:12",
  "bot.log:3rd line from the end").
* Huge lines: a line longer than `MAX_LINE_BYTES` is handled in pieces of that size (same line number);
  a pattern straddling two pieces is not seen.
* Time. Timestamps at the start of a line (python logging's `2026-02-10 16:45:01,123` by default; ISO
  `T`, fractions, `Z`/offsets accepted; any strftime format or regex via `TimestampFormat`). A line
  without a timestamp (traceback, continuation) takes the timestamp of the previous timestamped line.
  Naive timestamps are read in the log's zone (`tz`: a zoneinfo zone or its name; None = this machine's
  zone, through the C library). Returned timestamps carry the fixed UTC offset in force at that instant
  (not the zone object: Python compares two datetimes sharing a tzinfo by wall time, ignoring fold).
  The fall-back hour occurs twice: a wall time in it is read as its FIRST occurrence (fold=0) until the
  log's clock steps back by more than `FOLD_BACKSTEP` inside that hour, from then on as the SECOND
  occurrence (fold=1), until a time outside the hour appears. When the log (or the context read before a
  starting point) begins inside that hour, nothing tells the passes apart: the line is read as the first
  pass, and if its other reading would fall inside a `since` window it is counted as `undated`, never as
  inside or outside. Times in the spring-forward gap are read with the offset before the change (PEP 495
  fold=0). A naive `since` is read in the same zone, fold=0.
* Windows. `since` as a datetime: files are bisected to `SINCE_MARGIN` before `since` (more than any DST
  step, so the fold logic sees context), then every matching line's own time decides. A line whose time
  cannot be told is never counted as inside the window; `PatternFacts.undated` counts it so a step can
  refuse to pass on it. `since` as a `StartupBlock`: exactly the lines from that block's first line on.
"""

from __future__ import annotations

import codecs
import concurrent.futures
import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import re
import stat
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from glob import glob, has_magic
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from harness.logencoding import HEAD_BYTES, EncodingGuess, decode_line, guess_encoding, guess_newline

# ---------------------------------------------------------------------------------------------------------
# Tunables (module constants so tests and the benchmark can shrink them)

CHUNK_BYTES = 4 * 1024 * 1024  # forward read size: large enough for bytes.find to run at memory speed
BACK_BLOCK_BYTES = 1024 * 1024  # backward read size
MAX_LINE_BYTES = 1024 * 1024  # longer lines are handled in pieces of this size
EXACT_LINENO_LIMIT = 64 * 1024 * 1024  # count lines exactly when at most this many bytes precede a line
CONTEXT_BYTES = 64 * 1024  # read before a block's first line: inherited timestamp and DST context
MAX_BLOCK_LINES = 5000  # lines of a startup block kept in memory
KEEP_MATCHES = 5  # first/last matching lines kept per pattern by `scan`
PARALLEL_MIN_BYTES = 256 * 1024 * 1024  # `scan` splits plain files at least this large across processes
MAX_WORKERS = 4
SINCE_MARGIN = timedelta(hours=3)  # bisect lands this far before `since`: more than any DST step
FOLD_BACKSTEP = timedelta(seconds=30)  # a step back this large inside the fall-back hour = its 2nd pass
_TIMESTAMP_HEAD = 200  # characters at the start of a line searched for a timestamp
_WALK_BACK_LINES = 2000  # lines walked back for a continuation line's timestamp before using the carry


# ---------------------------------------------------------------------------------------------------------
# Patterns and their defaults


@dataclass(frozen=True, slots=True)
class Pattern:
    """What a log line must contain: a plain substring (default) or a regular expression.

    `ignore_case` folds ASCII letters when searching bytes; the decoded line is then compared with
    `str.lower()`. A regex is searched in the raw bytes (its source encoded as UTF-8 and cp1252) and
    confirmed on the decoded line, so a character class that must match non-ASCII text may miss.
    """

    text: str
    regex: bool = False
    ignore_case: bool = False

    def matches(self, line: str) -> bool:
        """True when the decoded line text satisfies this pattern."""
        if self.regex:
            flags = re.IGNORECASE if self.ignore_case else 0
            return re.search(self.text, line, flags) is not None
        if self.ignore_case:
            return self.text.lower() in line.lower()
        return self.text in line

    def __str__(self) -> str:
        return self.text


PatternLike = str | Pattern


def _pattern(value: PatternLike) -> Pattern:
    return value if isinstance(value, Pattern) else Pattern(value)


def _ci(*texts: str) -> tuple[Pattern, ...]:
    return tuple(Pattern(text, ignore_case=True) for text in texts)


# The seed's wording (Task 4.3, Step 3 and Edge Cases). One table: an operator whose bot words its lines
# differently overrides the entries it needs.
DEFAULT_PATTERNS: dict[str, tuple[Pattern, ...]] = {
    # First line of every start; a startup block runs from it to the next one.
    "startup": (Pattern("Configuration loaded:"),),
    # Expected in this order after the restart in paper mode.
    "expected_startup": (
        Pattern("Configuration loaded: DRY_RUN=false, PAPER_TRADING=true"),
        Pattern("Connecting to IBKR Gateway at"),
        Pattern("Gateway connection established"),
        Pattern("Paper trading mode ACTIVE"),
        Pattern("Bot initialized successfully"),
    ),
    "live_mode": (Pattern("Live trading mode"),),
    "dry_run": (Pattern("DRY_RUN mode active"), Pattern("DRY-RUN mode"), Pattern("dry-run mode")),
    "errors": (Pattern("Traceback (most recent call last)"), Pattern(" ERROR "), Pattern("CRITICAL")),
    "shutdown": _ci("shutdown complete", "Shutting down", "clean shutdown"),
}
DEFAULT_STARTUP_PATTERN: Pattern = DEFAULT_PATTERNS["startup"][0]
DEFAULT_EXPECTED_STARTUP: tuple[Pattern, ...] = DEFAULT_PATTERNS["expected_startup"]
DEFAULT_FORBIDDEN: tuple[Pattern, ...] = (
    DEFAULT_PATTERNS["live_mode"] + DEFAULT_PATTERNS["dry_run"] + DEFAULT_PATTERNS["errors"]
)
DEFAULT_SHUTDOWN_PATTERNS: tuple[Pattern, ...] = DEFAULT_PATTERNS["shutdown"]


# ---------------------------------------------------------------------------------------------------------
# Facts


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
    max_lines: int = MAX_BLOCK_LINES
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


# ---------------------------------------------------------------------------------------------------------
# Timestamps and time zones

_ISO_TIMESTAMP = (
    r"(?P<ts>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r":(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6})\d*)?(?P<offset>Z|[+-]\d{2}:?\d{2})?)"
)
DEFAULT_TIMESTAMP_REGEX = _ISO_TIMESTAMP
_ISO_RE = re.compile(_ISO_TIMESTAMP)
_ISO_BYTES = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6})\d*)?(Z|[+-]\d{2}:?\d{2})?"
)

# strftime directives -> regex, to find a strftime-formatted timestamp at the start of a line.
_STRFTIME_REGEX = {
    "Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{1,2}", "d": r"\d{1,2}", "H": r"\d{1,2}", "I": r"\d{1,2}",
    "M": r"\d{1,2}", "S": r"\d{1,2}", "f": r"\d{1,6}", "j": r"\d{1,3}", "p": r"[AaPp][Mm]",
    "b": r"[^\W\d_]{3,4}\.?", "B": r"[^\W\d_]+", "a": r"[^\W\d_]{2,3}\.?", "A": r"[^\W\d_]+",
    "z": r"(?:Z|[+-]\d{2}:?\d{2})", "Z": r"[A-Za-z][A-Za-z_/+\-]*", "%": "%", "e": r"[ \d]\d",
}


@dataclass(frozen=True, slots=True)
class TimestampFormat:
    """Where a log line's timestamp is and how to read it.

    `regex` is matched at the start of the line; its group `ts` (or the whole match) is the timestamp.
    With `strftime` set, that text is parsed by `datetime.strptime`; otherwise as ISO-8601-like text.
    """

    regex: str = DEFAULT_TIMESTAMP_REGEX
    strftime: str | None = None

    @classmethod
    def from_strftime(cls, fmt: str, prefix: str = "") -> TimestampFormat:
        """A format for lines starting with `prefix` (a regex, e.g. r"\\[") and a strftime timestamp."""
        parts: list[str] = []
        index = 0
        while index < len(fmt):
            char = fmt[index]
            if char == "%" and index + 1 < len(fmt):
                directive = fmt[index + 1]
                if directive not in _STRFTIME_REGEX:
                    raise ValueError(f"strftime directive %{directive} is not supported in log timestamps")
                parts.append(_STRFTIME_REGEX[directive])
                index += 2
            else:
                parts.append(re.escape(char))
                index += 1
        return cls(regex=f"{prefix}(?P<ts>{''.join(parts)})", strftime=fmt)


DEFAULT_TIMESTAMP_FORMAT = TimestampFormat()


class _TimestampParser:
    """Reads the timestamp at the start of a line: a naive or aware datetime, or None."""

    def __init__(self, fmt: TimestampFormat) -> None:
        self._fmt = fmt
        self._regex = re.compile(fmt.regex)
        self._default = fmt == DEFAULT_TIMESTAMP_FORMAT
        self._last_key: tuple[bytes, ...] | None = None  # the previous line's timestamp without fraction
        self._last_value: datetime | None = None

    def parse_bytes(self, raw: bytes, start: int = 0) -> datetime | None:
        if not self._default:
            return self.parse(raw[start : start + _TIMESTAMP_HEAD].decode("utf-8", "replace"))
        # The default format is read from the bytes directly, and a run of lines in the same second
        # reuses the parsed second: reading a startup block parses thousands of these.
        found = _ISO_BYTES.match(raw, start)
        if found is None:
            return None
        year, month, day, hour, minute, second, fraction, offset = found.groups()
        micro = int(fraction.ljust(6, b"0")) if fraction else 0
        key = (year, month, day, hour, minute, second, offset or b"")
        if key == self._last_key and self._last_value is not None:
            return self._last_value.replace(microsecond=micro)
        try:
            value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
        except ValueError:  # 2026-02-30 and the like: not a timestamp
            return None
        if offset:
            value = value.replace(tzinfo=_offset_zone(offset.decode("ascii")))
        self._last_key, self._last_value = key, value
        return value.replace(microsecond=micro)

    def parse(self, text: str) -> datetime | None:
        found = self._regex.match(text)
        if found is None:
            return None
        if self._default:
            return _from_iso_match(found)
        stamp = found.group("ts") if "ts" in self._regex.groupindex else found.group(0)
        try:
            if self._fmt.strftime is not None:
                return datetime.strptime(stamp, self._fmt.strftime)
            iso = _ISO_RE.fullmatch(stamp.strip())
            return _from_iso_match(iso) if iso else None
        except ValueError:
            return None


def _from_iso_match(found: re.Match[str]) -> datetime | None:
    try:
        fraction = found.group("fraction")
        stamp = datetime(
            int(found.group("year")), int(found.group("month")), int(found.group("day")),
            int(found.group("hour")), int(found.group("minute")), int(found.group("second")),
            int(fraction.ljust(6, "0")) if fraction else 0,
        )
    except ValueError:  # 2026-02-30 and the like: not a timestamp
        return None
    offset = found.group("offset")
    return stamp if offset is None else stamp.replace(tzinfo=_offset_zone(offset))


def _offset_zone(offset: str) -> timezone:
    if offset == "Z":
        return timezone.utc
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return _fixed_zone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


class _Zone:
    """The zone naive log timestamps are written in: a tzinfo, or this machine's local zone."""

    _CACHE_LIMIT = 4096

    def __init__(self, tz: tzinfo | str | None) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        # UTC offsets for (fold=0, fold=1) per wall-clock minute: zone rules change on minute boundaries,
        # and a log writes many lines a minute, so each minute is looked up once.
        self._offsets: dict[tuple[int, int, int, int, int], tuple[timedelta, timedelta]] = {}

    def _offsets_at(self, naive: datetime) -> tuple[timedelta, timedelta]:
        key = (naive.year, naive.month, naive.day, naive.hour, naive.minute)
        found = self._offsets.get(key)
        if found is None:
            minute = naive.replace(second=0, microsecond=0)
            if self.tz is None:
                # The C library's mktime knows the local DST rules on every platform; astimezone honours
                # fold.
                first = minute.replace(fold=0).astimezone().utcoffset()
                second = minute.replace(fold=1).astimezone().utcoffset()
            else:
                first = minute.replace(tzinfo=self.tz, fold=0).utcoffset()
                second = minute.replace(tzinfo=self.tz, fold=1).utcoffset()
            found = (first or timedelta(0), second or timedelta(0))
            if len(self._offsets) >= self._CACHE_LIMIT:
                self._offsets.clear()
            self._offsets[key] = found
        return found

    def aware(self, naive: datetime, fold: int) -> datetime:
        """The instant, with the fixed UTC offset in force then.

        A fixed offset, not the zone itself: Python compares two datetimes sharing one tzinfo by wall time
        and ignores fold, which would order the two passes of the fall-back hour wrongly.
        """
        return naive.replace(tzinfo=_fixed_zone(self._offsets_at(naive)[fold]))

    def ambiguous(self, naive: datetime) -> bool:
        """True inside the fall-back hour: the wall time occurs twice."""
        try:
            first, second = self._offsets_at(naive)
        except (OverflowError, OSError, ValueError):
            return False
        return first > second


_FIXED_ZONES: dict[timedelta, timezone] = {}
_ONE_SECOND = timedelta(seconds=1)


def _fixed_zone(offset: timedelta) -> timezone:
    zone = _FIXED_ZONES.get(offset)
    if zone is None:
        zone = _FIXED_ZONES.setdefault(offset, timezone.utc if not offset else timezone(offset))
    return zone


class _Clock:
    """Turns the log's timestamps, read in file order, into aware datetimes (DST fold: see module doc)."""

    def __init__(self, zone: _Zone) -> None:
        self.zone = zone
        self._previous: datetime | None = None  # last naive wall time seen
        self._fold = 0
        self._last: datetime | None = None  # the previous result
        # No line before told which pass of the fall-back hour this is (the log starts inside it).
        self._uncertain = False
        self.alternative: datetime | None = None  # the other reading of the last result, when uncertain

    def resolve(self, stamp: datetime) -> datetime:
        if stamp.tzinfo is not None:
            return stamp
        previous = self._previous
        if (
            previous is not None
            and self._last is not None
            and previous.second == stamp.second
            and _ONE_SECOND > stamp - previous > -_ONE_SECOND
        ):
            # Same second as the previous line: same offset, same fold (no step back is possible).
            self._previous = stamp
            if self.alternative is not None:
                self.alternative = self.alternative.replace(microsecond=stamp.microsecond)
            return self._last.replace(microsecond=stamp.microsecond)
        self._last = self._resolve_new_second(stamp)
        return self._last

    def _resolve_new_second(self, stamp: datetime) -> datetime:
        if not self.zone.ambiguous(stamp):
            self._fold = 0
            self._uncertain = False
        elif (
            self._fold == 0
            and self._previous is not None
            and self._previous - stamp > FOLD_BACKSTEP
            and self.zone.ambiguous(self._previous)
        ):
            self._fold = 1
            self._uncertain = False
        elif self._previous is None:
            self._uncertain = True
        self._previous = stamp
        try:
            self.alternative = self.zone.aware(stamp, 1) if self._uncertain and self._fold == 0 else None
            return self.zone.aware(stamp, self._fold)
        except (OverflowError, OSError, ValueError):
            self.alternative = None
            return stamp.replace(tzinfo=timezone.utc)

    def instant(self, stamp: datetime) -> datetime:
        """A UTC datetime for a value given by the caller (e.g. `since`), without touching the state."""
        if stamp.tzinfo is None:
            stamp = self.zone.aware(stamp, 0)
        return stamp.astimezone(timezone.utc)


# ---------------------------------------------------------------------------------------------------------
# Finding and ordering files

_DATE_IN_NAME = re.compile(
    r"(?<!\d)(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})(?:[T_-]?(?P<H>\d{2})[-:]?(?P<M>\d{2})(?:[-:]?(?P<S>\d{2}))?)?(?!\d)"
)
_INDEX_SUFFIX = re.compile(r"\.(?P<index>\d{1,6})(?:\.gz)?$")


def _rotation_key(path: Path) -> tuple[int, datetime, int, float, str]:
    """Sort key, oldest first: rotated before current, by date in the name, higher index older, mtime."""
    name = path.name
    stamp = datetime.min
    found_date = False
    for found in _DATE_IN_NAME.finditer(name):
        try:
            stamp = datetime(
                int(found["y"]), int(found["m"]), int(found["d"]),
                int(found["H"] or 0), int(found["M"] or 0), int(found["S"] or 0),
            )
        except ValueError:
            continue
        found_date = True
    index_match = _INDEX_SUFFIX.search(name)
    index = int(index_match["index"]) if index_match else 0
    is_current = not found_date and index_match is None and not name.endswith(".gz")
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (1 if is_current else 0, stamp, -index, mtime, name)


def _rotations_of(path: Path) -> list[Path]:
    """Siblings of `path` that logging rotation would create from it."""
    directory = path.parent if str(path.parent) else Path(".")
    stem, suffix = os.path.splitext(path.name)
    date = r"\d{4}-?\d{2}-?\d{2}(?:[T_-]?\d{2}[-:]?\d{2}(?:[-:]?\d{2})?)?"
    rotated = re.compile(
        # bot.log.1, bot.log.2.gz, bot.log.gz, bot.log.2026-02-10, bot.log.2026-02-10_06-00.gz
        rf"^{re.escape(path.name)}(?:\.\d{{1,6}}|[._-]{date})?(?:\.gz)?$"
        # bot-2026-02-10.log, bot_20260210.log.gz, bot.2026-02-10.1.log
        rf"|^{re.escape(stem)}[._-]{date}(?:\.\d{{1,6}})?{re.escape(suffix)}(?:\.gz)?$"
    )
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / name for name in names if name != path.name and rotated.match(name)]


def find_log_files(spec: str | Path, base_dir: Path | None = None) -> list[Path]:
    """The log files named by `spec`, oldest first; [] when nothing matches (never raises).

    A plain path brings its rotated siblings along (`bot.log.1`, `bot.log.2.gz`, `bot.log.2026-02-10`,
    `bot-2026-02-10.log.gz`). A glob is taken as written. A directory means its `*.log*` files.
    """
    text = os.fspath(spec)
    if not text.strip():
        return []
    candidate = Path(text).expanduser()
    if not candidate.is_absolute() and base_dir is not None:
        candidate = Path(base_dir) / candidate
    found: set[Path]
    if has_magic(text):
        found = {Path(name) for name in glob(str(candidate), recursive=True)}
    elif candidate.is_dir():
        found = {Path(name) for name in glob(str(candidate / "*.log*"))}
    else:
        found = set(_rotations_of(candidate))
        if candidate.exists() or candidate.is_symlink():
            found.add(candidate)
    files = [path for path in found if not path.is_dir()]
    return sorted(files, key=_rotation_key)


# ---------------------------------------------------------------------------------------------------------
# Opening a file: its scan stream


def _open_binary(path: Path) -> BinaryIO:
    """Every file is opened here (tests replace it to simulate unreadable files)."""
    return open(path, "rb")


@dataclass(frozen=True, slots=True)
class _Source:
    """A readable log file and how to turn it into its scan stream.

    The scan stream is what patterns are searched in: the file's bytes for plain ASCII-compatible files
    (offsets are file offsets), the decompressed bytes for gzip, the UTF-8 transcoding for UTF-16.
    """

    path: Path
    display: str
    compressed: bool
    encoding: EncodingGuess
    newline: bytes  # b"\n" (LF and CRLF) or b"\r"
    newline_name: str
    size: int
    mtime: float

    @property
    def seekable(self) -> bool:
        return not self.compressed and not self.encoding.wide

    @property
    def data_start(self) -> int:
        return 0 if self.encoding.wide else self.encoding.bom_length


def _newline_name(text_head: bytes) -> str:
    if b"\r\n" in text_head:
        return "CRLF"
    if b"\n" in text_head:
        return "LF"
    return "CR" if b"\r" in text_head else "none"


def _open_source(path: Path) -> _Source | FileProblem:
    display = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return FileProblem(display, "missing", "file does not exist")
    except OSError as error:
        return FileProblem(display, "unreadable", f"cannot stat: {error}")
    if not stat.S_ISREG(info.st_mode):
        return FileProblem(display, "not_a_file", "not a regular file")
    compressed = False
    try:
        with _open_binary(path) as handle:
            compressed = handle.read(2) == b"\x1f\x8b"
            handle.seek(0)
            if compressed:
                head = b""
                unzipped = _gunzip(handle)
                with contextlib.closing(unzipped):
                    for piece in unzipped:
                        head += piece
                        if len(head) >= HEAD_BYTES:
                            break
                head = head[:HEAD_BYTES]
            else:
                head = handle.read(HEAD_BYTES)
    except PermissionError as error:
        return FileProblem(display, "unreadable", f"permission denied: {error}")
    except (OSError, EOFError, zlib.error) as error:
        kind = "corrupt" if compressed else "unreadable"
        return FileProblem(display, kind, f"{type(error).__name__}: {error}")
    guess = guess_encoding(head)
    if guess.binary:
        return FileProblem(display, "binary", "NUL or control bytes: not a text log")
    if guess.wide:
        text_head = head[guess.bom_length :].decode(guess.codec, "replace").encode("utf-8")
    else:
        text_head = head[guess.bom_length :]
    return _Source(
        path=path, display=display, compressed=compressed, encoding=guess,
        newline=guess_newline(text_head), newline_name=_newline_name(text_head),
        size=info.st_size, mtime=info.st_mtime,
    )


def _open_all(files: Iterable[str | Path]) -> tuple[list[_Source], list[FileProblem]]:
    sources: list[_Source] = []
    problems: list[FileProblem] = []
    for item in files:
        opened = _open_source(Path(item))
        if isinstance(opened, FileProblem):
            problems.append(opened)
        else:
            sources.append(opened)
    return sources, problems


def inspect_logs(spec: str | Path, base_dir: Path | None = None) -> LogFacts:
    """Facts about the files behind `--bot-log`: which exist, their encoding, and which cannot be read."""
    paths = find_log_files(spec, base_dir)
    if not paths:
        return LogFacts(str(spec), (), (), f"no log file matches {os.fspath(spec)!r}")
    sources, problems = _open_all(paths)
    files = tuple(
        LogFileFacts(
            path=src.display, size=src.size,
            modified=datetime.fromtimestamp(src.mtime, timezone.utc), compressed=src.compressed,
            encoding=src.encoding.codec, encoding_evidence=src.encoding.how, newline=src.newline_name,
        )
        for src in sources
    )
    problem = None if files else f"none of the {len(paths)} log files matching {os.fspath(spec)!r} is readable"
    return LogFacts(str(spec), files, tuple(problems), problem)


def _stream_chunks(
    src: _Source, start: int, problems: list[FileProblem], end: int | None = None
) -> Iterator[bytes]:
    """The scan stream from offset `start` (to `end`, plain files only), in chunks. Read errors end it and
    are recorded."""
    try:
        with _open_binary(src.path) as handle:
            if src.seekable:
                position = max(start, src.data_start)
                handle.seek(position)
                while chunk := handle.read(CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - position)):
                    position += len(chunk)
                    yield chunk
                return
            raw = _gunzip(handle) if src.compressed else _read_chunks(handle)
            yield from _skip(_decoded_stream(src, raw), start)
    except (OSError, EOFError, zlib.error) as error:
        problems.append(FileProblem(src.display, "corrupt", f"read stopped: {type(error).__name__}: {error}"))


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_BYTES):
        yield chunk


def _gunzip(handle: BinaryIO) -> Iterator[bytes]:
    """Decompress gzip (all members) in bounded pieces; a truncated file yields what it has, then EOFError.

    zlib directly rather than GzipFile: GzipFile.read loses the data of a read that hits a truncated end,
    and a rotated file being compressed right now is truncated.
    """
    inflater: zlib._Decompress | None = None
    while compressed := handle.read(CHUNK_BYTES // 4):
        while compressed:
            if inflater is None:
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            piece = inflater.decompress(compressed, CHUNK_BYTES)
            if piece:
                yield piece
            if inflater.eof:  # end of one member; another may follow in unused_data
                compressed = inflater.unused_data
                inflater = None
            else:
                compressed = inflater.unconsumed_tail
    if inflater is not None:
        raise EOFError("compressed file ended before the end-of-stream marker")


def _decoded_stream(src: _Source, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if not src.encoding.wide:
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(src.encoding.codec)(errors="replace")
    pending_bom = src.encoding.bom_length
    for chunk in chunks:
        if pending_bom:
            skipped = min(pending_bom, len(chunk))
            chunk = chunk[skipped:]
            pending_bom -= skipped
        text = decoder.decode(chunk)
        if text:
            yield text.encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")


def _skip(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:] if count else chunk
        count = 0


def _line_buffers(chunks: Iterator[bytes], newline: bytes) -> Iterator[bytes]:
    """Re-cut chunks into buffers of whole lines (the last one may lack its newline).

    A line longer than MAX_LINE_BYTES is cut into pieces so memory stays bounded.
    """
    carry = b""
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        cut = data.rfind(newline)
        if cut == -1:
            carry = data
        else:
            yield data[: cut + 1]
            carry = data[cut + 1 :]
        while len(carry) > MAX_LINE_BYTES:
            yield carry[:MAX_LINE_BYTES]
            carry = carry[MAX_LINE_BYTES:]
    if carry:
        yield carry


def _buffers(
    src: _Source, start: int, end: int | None, problems: list[FileProblem]
) -> Iterator[tuple[bytes | bytearray, int]]:
    """(buffer, usable length): whole lines in buffer[:usable]. The buffer may be reused by the next step:
    copy what must be kept.

    Plain files are read into one reused buffer (no fresh allocation per read, which costs page faults),
    and the bytes after the last newline of a read are read again by the next one.
    """
    if not src.seekable:
        for buf in _line_buffers(_stream_chunks(src, start, problems, end), src.newline):
            yield buf, len(buf)
        return
    try:
        with _open_binary(src.path) as handle:
            position = max(start, src.data_start)
            handle.seek(position)
            buffer = bytearray(max(CHUNK_BYTES, MAX_LINE_BYTES))
            view = memoryview(buffer)
            read_size = CHUNK_BYTES
            while True:
                want = read_size if end is None else min(read_size, end - position)
                if want <= 0:
                    return
                got = handle.readinto(view[:want])
                if not got:
                    return
                usable = got
                if got == want and (end is None or position + got < end):
                    cut = buffer.rfind(src.newline, 0, got)
                    if cut == -1 and read_size < MAX_LINE_BYTES:
                        read_size = MAX_LINE_BYTES  # a line longer than a read: read it whole if we may
                        handle.seek(position)
                        continue
                    usable = cut + 1 if cut != -1 else min(got, MAX_LINE_BYTES)
                read_size = CHUNK_BYTES
                yield buffer, usable
                position += usable
                if usable < got:
                    handle.seek(position)
    except OSError as error:
        problems.append(FileProblem(src.display, "unreadable", f"read stopped: {type(error).__name__}: {error}"))


def _backward_buffers(handle: BinaryIO, src: _Source, end: int) -> Iterator[tuple[int, bytes]]:
    """Buffers of whole lines from `end` back to the start of the data: (offset, bytes), newest first."""
    stop = src.data_start
    position = end
    while position > stop:
        want = BACK_BLOCK_BYTES
        while True:
            start = max(stop, position - want)
            handle.seek(start)
            data = handle.read(position - start)
            if start == stop:
                yield start, data
                position = stop
                break
            cut = data.find(src.newline)
            if 0 <= cut < len(data) - 1:
                yield start + cut + 1, data[cut + 1 :]
                position = start + cut + 1
                break
            if want >= MAX_LINE_BYTES:  # a huge line: hand it over in pieces
                yield start, data
                position = start
                break
            want *= 2


# ---------------------------------------------------------------------------------------------------------
# Matching bytes


class _Matcher:
    """One pattern compiled for searching raw bytes."""

    def __init__(self, pattern: Pattern) -> None:
        self.pattern = pattern
        self.label = pattern.text
        self.lowered = pattern.ignore_case and not pattern.regex
        self.regexes: list[re.Pattern[bytes]] = []
        self.needles: list[bytes] = []
        sources = _encoded_forms(pattern.text.lower() if self.lowered else pattern.text)
        if pattern.regex:
            flags = re.MULTILINE | (re.IGNORECASE if pattern.ignore_case else 0)
            for source in sources:
                # `$` before CRLF: the bytes still hold the CR, the decoded line does not.
                source = re.sub(rb"(?<!\\)\$$", rb"\\r?$", source)
                with contextlib.suppress(re.error):
                    self.regexes.append(re.compile(source, flags))
            self.verify = True
        else:
            self.needles = [form for form in sources if form]
            self.verify = not pattern.text.isascii()
        self.empty = not self.needles and not self.regexes

    def find_from(self, haystack: bytes, start: int, end: int) -> int:
        best = -1
        for needle in self.needles:
            found = haystack.find(needle, start, end)
            if found != -1 and (best == -1 or found < best):
                best = found
        for regex in self.regexes:
            hit = regex.search(haystack, start, end)
            if hit is not None and (best == -1 or hit.start() < best):
                best = hit.start()
        return best


def _encoded_forms(text: str) -> list[bytes]:
    forms = [text.encode("utf-8")]
    with contextlib.suppress(UnicodeEncodeError):
        cp1252 = text.encode("cp1252")
        if cp1252 not in forms:
            forms.append(cp1252)
    return forms


def _strip_eol(raw: bytes, newline: bytes) -> bytes:
    if raw.endswith(newline):
        raw = raw[:-1]
    if newline == b"\n" and raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw


def _decode(src: _Source, raw: bytes) -> tuple[str, str, bool]:
    raw = _strip_eol(raw, src.newline)
    if src.encoding.wide:
        text = raw.decode("utf-8", "replace")
        return text, src.encoding.codec, "\ufffd" in text
    return decode_line(raw)


def _matches_in_buffer(
    buf: bytes, matchers: Sequence[_Matcher], src: _Source, end: int | None = None
) -> list[tuple[int, int, list[int]]]:
    """Lines of buf[:end] matching any matcher: (line start, line end, matcher indexes), in file order."""
    limit = len(buf) if end is None else end
    newline = src.newline
    found: dict[int, tuple[int, list[int]]] = {}
    lowered: bytes | None = None
    for index, matcher in enumerate(matchers):
        if matcher.empty:
            continue
        if matcher.lowered:
            if lowered is None:
                lowered = buf.lower()
            haystack = lowered
        else:
            haystack = buf
        position = matcher.find_from(haystack, 0, limit)
        while position != -1:
            line_start = buf.rfind(newline, 0, position) + 1
            line_end = buf.find(newline, position, limit)
            if line_end == -1:
                line_end = limit
            if not matcher.verify or matcher.pattern.matches(_decode(src, buf[line_start:line_end])[0]):
                entry = found.get(line_start)
                if entry is None:
                    found[line_start] = (line_end, [index])
                elif index not in entry[1]:
                    entry[1].append(index)
            position = matcher.find_from(haystack, line_end + 1, limit)
    return [(start, end, indexes) for start, (end, indexes) in sorted(found.items())]


def _split_lines(buf: bytes, newline: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset in buf, raw line with its newline) for every line of a buffer."""
    start = 0
    size = len(buf)
    while start < size:
        end = buf.find(newline, start)
        end = size if end == -1 else end + 1
        yield start, buf[start:end]
        start = end


# ---------------------------------------------------------------------------------------------------------
# Timestamps while streaming


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
        for _ in range(_WALK_BACK_LINES):
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
        for _ in range(_WALK_BACK_LINES):
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


# ---------------------------------------------------------------------------------------------------------
# Line numbers


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
    if not src.seekable or start - src.data_start <= EXACT_LINENO_LIMIT:
        return _LineCounter(_count_newlines(src, src.data_start, start, problems))
    return _LineCounter(None)


# ---------------------------------------------------------------------------------------------------------
# Reading from the end


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
            with _open_binary(src.path) as handle:
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


def _context_before(src: _Source, offset: int, problems: list[FileProblem]) -> bytes:
    """Whole lines in the CONTEXT_BYTES before `offset` (for inherited timestamps and DST context)."""
    start = max(src.data_start, offset - CONTEXT_BYTES)
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


def _line_number(src: _Source, found: _Found, problems: list[FileProblem]) -> int:
    if found.newlines_before is not None:
        return found.newlines_before + 1
    if not src.seekable or found.start - src.data_start <= EXACT_LINENO_LIMIT:
        return _count_newlines(src, src.data_start, found.start, problems) + 1
    return -(found.newlines_after + (0 if found.ends_with_newline else 1))


def _seeded_timeline(
    src: _Source, offset: int, parser: _TimestampParser, zone: _Zone, problems: list[FileProblem]
) -> _Timeline:
    timeline = _Timeline(src, parser, zone)
    context = _context_before(src, offset, problems)
    if context:
        timeline.observe_lines(context, 0, len(context))
    return timeline


def _line_at(
    src: _Source, found: _Found, parser: _TimestampParser, zone: _Zone, problems: list[FileProblem]
) -> LogLine:
    timeline = _seeded_timeline(src, found.start, parser, zone, problems)
    stamp = timeline.time_of(found.raw, 0)
    text, codec, replaced = _decode(src, found.raw)
    return LogLine(src.display, _line_number(src, found, problems), stamp, text, codec, replaced)


# ---------------------------------------------------------------------------------------------------------
# Public checks


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


# ---------------------------------------------------------------------------------------------------------
# The streaming scan


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

    `since`: None = every line; a datetime = lines at or after it (files bisected, see module doc); a
    StartupBlock = the lines from that block's startup line on (older files skipped).
    `workers`: processes for plain files over PARALLEL_MIN_BYTES (None: one per CPU, at most
    MAX_WORKERS; 1: this process only). Line numbers stay exact: each worker counts its own range.
    """
    wanted = tuple(_pattern(item) for item in patterns)
    sources, problems = _open_all(files)
    parser = _TimestampParser(timestamp_format)
    zone = _Zone(tz)
    threshold: datetime | None = None
    plan: list[tuple[_Source, int]] = []
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
        threshold = _Clock(zone).instant(since)
        for src in sources:
            start = _start_for_time(src, threshold - SINCE_MARGIN, parser, zone, problems)
            if start is not None:
                plan.append((src, start))
    else:
        plan = [(src, src.data_start) for src in sources]

    count = [0] * len(wanted)
    undated = [0] * len(wanted)
    first: list[list[tuple[_Source, _LineCounter, _Hit]]] = [[] for _ in wanted]
    last: list[deque[tuple[_Source, _LineCounter, _Hit]]] = [deque(maxlen=keep) for _ in wanted]
    total_bytes = 0
    with _Workers(workers) as pool:
        for src, start in plan:
            counter = _counter_for(src, start, problems)
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
        facts.append(PatternFacts(str(pattern), count[which], kept_first, kept_last, undated[which]))
    block_time = since.started_at if isinstance(since, StartupBlock) else threshold
    return ScanFacts(tuple(src.display for src, _ in plan), block_time, from_block, tuple(facts),
                     tuple(problems), total_bytes, replaced)


def _materialise(item: tuple[_Source, _LineCounter, _Hit]) -> LogLine:
    src, counter, (index, stamp, raw) = item
    text, codec, replaced = _decode(src, raw)
    return LogLine(src.display, counter.number(index), stamp, text, codec, replaced)


def _split_ranges(src: _Source, start: int, parts: int) -> list[tuple[int, int | None]]:
    """Cut [start, end of file) into up to `parts` ranges beginning at line starts."""
    size = src.size
    if parts <= 1 or not src.seekable or size - start < PARALLEL_MIN_BYTES:
        return [(start, None)]
    bounds = [start]
    try:
        with _open_binary(src.path) as handle:
            for part in range(1, parts):
                guess = start + (size - start) * part // parts
                handle.seek(guess - 1)
                data = handle.read(MAX_LINE_BYTES)
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
    """A process pool for large files, or none. Falls back to this process when processes cannot start."""

    def __init__(self, workers: int | None) -> None:
        wanted = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
        self.size = max(1, wanted)
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def map(
        self,
        src: _Source,
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
                return [future.result() for future in futures]
            except (OSError, RuntimeError, concurrent.futures.process.BrokenProcessPool,
                    pickle.PicklingError, AttributeError):
                self.size = 1  # no processes here (sandbox, frozen app): do it in this process
        start = ranges[0][0]
        return [_scan_range(src, start, None, patterns, keep, threshold, fmt, tz)]


def _scan_range(
    src: _Source,
    start: int,
    end: int | None,
    patterns: tuple[Pattern, ...],
    keep: int,
    threshold: datetime | None,
    fmt: TimestampFormat,
    tz: tzinfo | str | None,
) -> _RangeResult:
    """One pass over [start, end) of a file: counts and kept lines per pattern, line indexes from `start`."""
    matchers = [_Matcher(item) for item in patterns]
    parser = _TimestampParser(fmt)
    zone = _Zone(tz)
    result = _RangeResult(
        counts=[0] * len(patterns), undated=[0] * len(patterns),
        first=[[] for _ in patterns], last=[deque(maxlen=keep) for _ in patterns],
    )
    problems = result.problems
    timeline = (_seeded_timeline(src, start, parser, zone, problems) if start > src.data_start
                else _Timeline(src, parser, zone))
    newline = src.newline
    line_index = 0  # 0-based index, from `start`, of the line at the start of the current buffer
    for buf, usable in _buffers(src, start, end, problems):
        timeline.new_buffer()
        cursor = 0
        index = line_index
        for line_start, line_end, indexes in _matches_in_buffer(buf, matchers, src, usable):
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
        with _open_binary(src.path) as handle:
            size = handle.seek(0, os.SEEK_END)
            last = _last_time(handle, src, size, parser, clock)
            if last is not None and last < target:
                return None
            low, high = src.data_start, size
            while high - low > BACK_BLOCK_BYTES:
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
    data = handle.read(CONTEXT_BYTES)
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
    begin = max(src.data_start, offset - MAX_LINE_BYTES)
    handle.seek(begin)
    data = handle.read(offset - begin)
    cut = data.rfind(src.newline)
    return begin + cut + 1 if cut != -1 else begin


__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_EXPECTED_STARTUP",
    "DEFAULT_FORBIDDEN",
    "DEFAULT_PATTERNS",
    "DEFAULT_SHUTDOWN_PATTERNS",
    "DEFAULT_STARTUP_PATTERN",
    "DEFAULT_TIMESTAMP_FORMAT",
    "EXACT_LINENO_LIMIT",
    "ExpectedLine",
    "FileProblem",
    "LogFacts",
    "LogFileFacts",
    "LogLine",
    "OrderedMatch",
    "Pattern",
    "PatternFacts",
    "ScanFacts",
    "StartupBlock",
    "TimestampFormat",
    "find_in_order",
    "find_log_files",
    "inspect_logs",
    "last_line",
    "last_shutdown",
    "newest_startup_block",
    "scan",
]
