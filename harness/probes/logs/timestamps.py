"""Time in the bot's log: reading a line's timestamp, turning naive wall times into instants across DST changes,
the times of lines while streaming a file, and where a file's lines at or after a time begin.

Timestamps sit at the start of a line (python logging's `2026-02-10 16:45:01,123` by default; ISO `T`, fractions,
`Z`/offsets accepted; any strftime format or regex via `TimestampFormat`), or, for a JSON-lines record (a line
starting with `{`), in its "timestamp"/"time"/"asctime" field (ISO or epoch). A line without a timestamp (traceback,
continuation) takes the time of the previous timestamped line.

Naive timestamps are read in the log's zone (a zoneinfo zone or its name; None = this machine's zone, through the C
library). Results carry the fixed UTC offset in force at that instant, not the zone object: Python compares two
datetimes sharing a tzinfo by wall time, ignoring fold. `Clock` reads a log's times in file order and keeps the
fall-back-hour state: a wall time in that hour is read as its FIRST occurrence (fold=0) until the log's clock steps
back by more than `FOLD_BACKSTEP` inside the hour, from then on as the SECOND occurrence (fold=1), until a time
outside the hour appears. When the log (or the context read before a starting point) begins inside that hour,
nothing tells the passes apart: the line is read as the first pass, and `Clock.alternative` holds its other reading.
Times in the spring-forward gap are read with the offset before the change (PEP 495 fold=0).

`Timeline` gives the times of a file's lines while streaming it: only matching lines are looked at, so around the
fall-back hour the clock is first shown the lines it skipped, and reading from the middle of a file starts from the
`CONTEXT_BYTES` before that point. That context is read at once but parsed only when a time needs it: for a line
without a timestamp before any timestamped one, or a first naive time inside the fall-back hour. Any other time
leaves the clock in the same state whatever came before.

Windows (`start_for_time`): a plain file is bisected on its timestamps to `SINCE_MARGIN` before `since` (more than
any DST step, so the fold logic sees context); then every matching line's own time decides. Gzip and UTF-16 files
cannot be bisected: their mtime says whether they can be skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from typing import BinaryIO
from zoneinfo import ZoneInfo

from harness.core import clock
from harness.probes.logs import files
from harness.probes.logs.files import FileProblem, Source, backward_buffers, split_lines, stream_chunks

CONTEXT_BYTES = 64 * 1024  # read before a starting point: inherited timestamp and DST context
SINCE_MARGIN = timedelta(hours=3)  # bisect lands this far before `since`: more than any DST step
FOLD_BACKSTEP = timedelta(seconds=30)  # a step back this large inside the fall-back hour = its 2nd pass
MAX_JSON_TIME_BYTES = 64 * 1024  # bytes of a JSON-lines record searched for its time field
TIMESTAMP_HEAD = 200  # characters at the start of a line searched for a timestamp (formats other than the default)
WALK_BACK_LINES = 2000  # lines walked back for a continuation line's timestamp before using the carry


# --- reading a timestamp -----------------------------------------------------------------------------------------

_ISO_TIMESTAMP = (
    r"(?P<ts>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
    r":(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6})\d*)?(?P<offset>Z|[+-]\d{2}:?\d{2})?)"
)
DEFAULT_TIMESTAMP_REGEX = _ISO_TIMESTAMP
_ISO_RE = re.compile(_ISO_TIMESTAMP)
_ISO_BYTES = re.compile(
    rb"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6})\d*)?(Z|[+-]\d{2}:?\d{2})?"
)

# A JSON-lines record's time: {"timestamp": "2026-02-10T21:45:01.123Z"} (structlog), {"time": {"repr":
# "2026-02-10 16:45:01.123456-05:00", ...}} (loguru), {"asctime": "2026-02-10 16:45:01,123"}, or epoch seconds.
_JSON_TIME = re.compile(
    rb'"(?:timestamp|time|asctime|@timestamp|ts|datetime)"\s*:\s*(?:\{\s*"repr"\s*:\s*)?'
    rb'(?:"(?P<iso>\d{4}-\d{2}-\d{2}[T ][^"]{8,40})"|(?P<epoch>\d{9,11}(?:\.\d+)?)(?![\d.]))'
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


class TimestampParser:
    """Reads the timestamp at the start of a line: a naive or aware datetime, or None."""

    def __init__(self, fmt: TimestampFormat) -> None:
        self._fmt = fmt
        self._regex = re.compile(fmt.regex)
        self._default = fmt == DEFAULT_TIMESTAMP_FORMAT
        self._last_key: tuple[bytes, ...] | None = None  # the previous line's timestamp without fraction
        self._last_value: datetime | None = None

    def parse_bytes(self, raw: bytes, start: int = 0) -> datetime | None:
        if not self._default:
            return self.parse(raw[start : start + TIMESTAMP_HEAD].decode("utf-8", "replace"))
        # The default format is read from the bytes directly, and a run of lines in the same second
        # reuses the parsed second: reading a startup block parses thousands of these.
        found = _ISO_BYTES.match(raw, start)
        if found is None:
            return _json_time(raw, start) if raw[start : start + 1] == b"{" else None
        year, month, day, hour, minute, second, fraction, offset = found.groups()
        micro = int(fraction.ljust(6, b"0")) if fraction else 0
        key = (year, month, day, hour, minute, second, offset or b"")
        if key == self._last_key and self._last_value is not None:
            return self._last_value.replace(microsecond=micro)
        value = _from_iso_bytes(found)
        if value is None:
            return None
        self._last_key, self._last_value = key, value.replace(microsecond=0)
        return value

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


def _json_time(raw: bytes, start: int) -> datetime | None:
    """The time of a JSON-lines record (structlog, loguru `serialize=True`, python-json-logger): its
    "timestamp"/"time"/"asctime"/"@timestamp" field, as ISO text (naive = the log's zone) or epoch seconds."""
    end = len(raw)
    for newline in (b"\n", b"\r"):
        found = raw.find(newline, start, end)
        if found != -1:
            end = found
    found = _JSON_TIME.search(raw, start, min(end, start + MAX_JSON_TIME_BYTES))
    if found is None:
        return None
    if found.group("epoch") is not None:
        try:
            return datetime.fromtimestamp(float(found.group("epoch")), timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    iso = _ISO_BYTES.match(found.group("iso"))
    return _from_iso_bytes(iso) if iso is not None else None


def _from_iso_bytes(found: re.Match[bytes]) -> datetime | None:
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                         int(fraction.ljust(6, b"0")) if fraction else 0)
    except ValueError:  # 2026-02-30 and the like: not a timestamp
        return None
    return value.replace(tzinfo=_offset_zone(offset.decode("ascii"))) if offset else value


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


# --- zones and the clock ------------------------------------------------------------------------------------------


class Zone:
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


class Clock:
    """Turns the log's timestamps, read in file order, into aware datetimes (DST fold: see module doc)."""

    def __init__(self, zone: Zone) -> None:
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


def zone_description(tz: tzinfo | str | None) -> str:
    """How naive log times are read, for a failure message: the zone's name, or this machine's local time with
    its current offset (the C library's zone, which has no portable name)."""
    if tz is None:
        now = clock.local_now()
        return f"this machine's local time (now {now.tzname()}, UTC{now.strftime('%z')[:3]}:{now.strftime('%z')[3:]})"
    return str(getattr(tz, "key", None) or tz)


def log_zone_text(zone: str | None, source: str | None = None) -> str:
    """How a run reads naive log times, for failure messages: "America/New_York (--bot-log-tz)", or this
    machine's local time with a hint to give --bot-log-tz."""
    if zone:
        return f"{zone_description(zone)} ({source or '--bot-log-tz'})"
    return f"{zone_description(None)}; give --bot-log-tz if the bot logs in another zone"


# --- times of lines while streaming ------------------------------------------------------------------------------


class Timeline:
    """Timestamps of one file's lines in file order: own, inherited, and the DST fold state.

    `context`: the whole lines just before the starting point, shown to the clock only when a time needs them
    (see the module doc); the time of its last timestamped line is what an untimed first line inherits.
    """

    def __init__(self, src: Source, parser: TimestampParser, zone: Zone, context: bytes = b"") -> None:
        self.src = src
        self.parser = parser
        self.clock = Clock(zone)
        self.alternative: datetime | None = None  # other reading of the last `time_of` (DST, no context)
        self._carry: datetime | None = None  # time of the last timestamped line before the current buffer
        self._carry_alternative: datetime | None = None
        self._carry_context = context  # until a line of the file sets the carry, it is this context's last time
        self._unshown = context  # until the clock has read a naive time: the context it has not been shown
        self._observed = 0  # position in the current buffer up to which the clock has seen every line

    @property
    def carry(self) -> datetime | None:
        """The time of the last timestamped line before the current buffer (at first: the context's)."""
        if self._carry_context:
            context, self._carry_context = self._carry_context, b""
            # A clock of its own, shown the whole context, reads its last time as a clock shown it first would.
            reader = Timeline(self.src, self.parser, self.clock.zone)
            reader.observe_lines(context, 0, len(context))
            self._carry, self._carry_alternative = reader._carry, reader._carry_alternative
        return self._carry

    def _set_carry(self, value: datetime, alternative: datetime | None) -> None:
        self._carry, self._carry_alternative = value, alternative
        self._carry_context = b""

    def resolve(self, stamp: datetime) -> datetime:
        """The clock's reading of the next timestamp in file order.

        Before the clock reads its first naive time, it is shown the context when that time is inside the
        fall-back hour; any other time reads the same whatever came before, and the context is then not needed.
        """
        if self._unshown and stamp.tzinfo is None:
            context, self._unshown = self._unshown, b""
            if self.clock.zone.ambiguous(stamp):
                for _offset, raw in split_lines(context, self.src.newline):
                    shown = self.parser.parse_bytes(raw)
                    if shown is not None:
                        self.clock.resolve(shown)
        return self.clock.resolve(stamp)

    def new_buffer(self) -> None:
        self._observed = 0

    def observe_lines(self, buf: bytes, start: int, end: int) -> None:
        """Let the clock see every timestamped line in buf[start:end] (used around the fall-back hour)."""
        for _offset, raw in split_lines(buf[start:end], self.src.newline):
            stamp = self.parser.parse_bytes(raw)
            if stamp is not None:
                self._set_carry(self.resolve(stamp), self.clock.alternative)

    def _resolve_at(self, buf: bytes, line_start: int, stamp: datetime) -> datetime:
        if stamp.tzinfo is None and self.clock.zone.ambiguous(stamp) and line_start > self._observed:
            self.observe_lines(buf, self._observed, line_start)
        resolved = self.resolve(stamp)
        self.alternative = self.clock.alternative
        self._observed = max(self._observed, line_start + 1)
        return resolved

    def _carried(self) -> datetime | None:
        carry = self.carry
        self.alternative = self._carry_alternative
        return carry

    def time_of(self, buf: bytes, line_start: int) -> datetime | None:
        """The time of the line at buf[line_start]: its own, else the previous timestamped line's."""
        own = self.parser.parse_bytes(buf, line_start)
        if own is not None:
            return self._resolve_at(buf, line_start, own)
        newline = self.src.newline
        position = line_start
        for _ in range(WALK_BACK_LINES):
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
        for _ in range(WALK_BACK_LINES):
            if position <= 0:
                return
            start = buf.rfind(newline, 0, position - 1) + 1
            stamp = self.parser.parse_bytes(buf, start)
            if stamp is not None:
                # Resolving a line the clock already saw again is harmless: same wall time, no step back.
                self._set_carry(self._resolve_at(buf, start, stamp), self.alternative)
                return
            position = start


def context_before(src: Source, offset: int, problems: list[FileProblem]) -> bytes:
    """Whole lines in the CONTEXT_BYTES before `offset` (for inherited timestamps and DST context)."""
    start = max(src.data_start, offset - CONTEXT_BYTES)
    if start >= offset:
        return b""
    data = b""
    chunks = stream_chunks(src, start, problems, offset)
    with contextlib.closing(chunks):
        for chunk in chunks:
            data += chunk[: offset - start - len(data)]
            if len(data) >= offset - start:
                break
    if start > src.data_start:
        cut = data.find(src.newline)
        data = data[cut + 1 :] if cut != -1 else b""
    return data


def seeded_timeline(
    src: Source, offset: int, parser: TimestampParser, zone: Zone, problems: list[FileProblem]
) -> Timeline:
    """A timeline for reading from `offset` on, with the context before it (read now, parsed when needed)."""
    return Timeline(src, parser, zone, context_before(src, offset, problems))


# --- where a window starts ---------------------------------------------------------------------------------------


def start_for_time(
    src: Source, target: datetime, parser: TimestampParser, zone: Zone, problems: list[FileProblem]
) -> int | None:
    """Where to start reading a file for lines at/after `target`; None when the whole file is older."""
    if not src.seekable:
        # Cannot bisect gzip or UTF-16: its mtime (time of its last write) says whether it can be skipped.
        modified = datetime.fromtimestamp(src.mtime, timezone.utc)
        return None if modified < target else src.data_start
    clock = Clock(zone)
    try:
        with files.open_binary(src.path) as handle:
            size = handle.seek(0, os.SEEK_END)
            last = _last_time(handle, src, size, parser, clock)
            if last is not None and last < target:
                return None
            low, high = src.data_start, size
            while high - low > files.BACK_BLOCK_BYTES:
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
    handle: BinaryIO, src: Source, size: int, parser: TimestampParser, clock: Clock
) -> datetime | None:
    for _offset, buf, begin in backward_buffers(handle, src, size):
        lines = list(split_lines(bytes(buf[begin:]), src.newline))
        for _start, raw in reversed(lines):
            stamp = parser.parse_bytes(raw)
            if stamp is not None:
                return clock.instant(stamp)
        return None  # no timestamp in the last block: do not skip the file
    return None


def _first_time_after(
    handle: BinaryIO, src: Source, offset: int, parser: TimestampParser, clock: Clock
) -> tuple[datetime | None, int]:
    handle.seek(offset)
    data = handle.read(CONTEXT_BYTES)
    cut = data.find(src.newline)
    if cut == -1:
        return None, offset
    for start, raw in split_lines(data[cut + 1 :], src.newline):
        stamp = parser.parse_bytes(raw)
        if stamp is not None:
            return clock.instant(stamp), offset + cut + 1 + start
    return None, offset


def _line_start_at_or_before(handle: BinaryIO, src: Source, offset: int) -> int:
    if offset <= src.data_start:
        return src.data_start
    begin = max(src.data_start, offset - files.MAX_LINE_BYTES)
    handle.seek(begin)
    data = handle.read(offset - begin)
    cut = data.rfind(src.newline)
    return begin + cut + 1 if cut != -1 else begin
