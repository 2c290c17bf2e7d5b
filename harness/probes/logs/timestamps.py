"""Reading a log line's timestamp, and turning naive wall times into instants across DST changes.

Timestamps sit at the start of a line (python logging's `2026-02-10 16:45:01,123` by default; ISO `T`,
fractions, `Z`/offsets accepted; any strftime format or regex via `TimestampFormat`). Naive timestamps are
read in the log's zone (a zoneinfo zone or its name; None = this machine's zone, through the C library).
Results carry the fixed UTC offset in force at that instant, not the zone object: Python compares two
datetimes sharing a tzinfo by wall time, ignoring fold. `_Clock` reads a log's times in file order and keeps
the fall-back-hour state (first or second pass); the package docstring gives the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from harness.probes.logs import tunables

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
            return self.parse(raw[start : start + tunables._TIMESTAMP_HEAD].decode("utf-8", "replace"))
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
    found = _JSON_TIME.search(raw, start, min(end, start + tunables.MAX_JSON_TIME_BYTES))
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
            and self._previous - stamp > tunables.FOLD_BACKSTEP
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
        now = datetime.now().astimezone()
        return f"this machine's local time (now {now.tzname()}, UTC{now.strftime('%z')[:3]}:{now.strftime('%z')[3:]})"
    return str(getattr(tz, "key", None) or tz)


def log_zone_text(zone: str | None, source: str | None = None) -> str:
    """How a run reads naive log times, for failure messages: "America/New_York (--bot-log-tz)", or this
    machine's local time with a hint to give --bot-log-tz."""
    if zone:
        return f"{zone_description(zone)} ({source or '--bot-log-tz'})"
    return f"{zone_description(None)}; give --bot-log-tz if the bot logs in another zone"

