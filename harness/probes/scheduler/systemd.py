"""A systemd timer: its OnCalendar= (and boot, interval) triggers, and the ExecStart=, WorkingDirectory=,
Environment= and EnvironmentFile= of the .service it starts (read from beside the timer)."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path

from harness.probes.envfile import NotReadable, read_regular_file
from harness.probes.scheduler.commands import follow_program
from harness.probes.scheduler.facts import SYSTEMD, WEEKDAYS, ScheduledTask, TaskTrigger
from harness.probes.scheduler.files import MAX_TASK_BYTES, decode_text
from harness.probes.scheduler.timefields import MAX_TIMES_PER_TRIGGER, field_values
from harness.probes.scheduler.trace import ActionTrace
from harness.probes.scheduler.words import ASSIGNMENT, split_words
from harness.probes.scheduler.wrappers import read_environment_file

_SPAN_UNITS = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "s": 1, "sec": 1, "second": 1, "seconds": 1,
               "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
               "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}
_SHORTHANDS = {"daily": "*-*-* 00:00:00", "weekly": "Mon *-*-* 00:00:00", "monthly": "*-*-01 00:00:00",
               "yearly": "*-01-01 00:00:00", "annually": "*-01-01 00:00:00", "quarterly": "*-01,04,07,10-01 00:00:00",
               "semiannually": "*-01,07-01 00:00:00", "hourly": "*-*-* *:00:00", "minutely": "*-*-* *:*:00"}
_DAY_NAMES = {day[:3].lower(): day for day in WEEKDAYS}


def _timespan(text: str) -> timedelta | None:
    """systemd's time spans: `300`, `5min`, `1h 30min`; `infinity` and unreadable -> None."""
    text = text.strip().lower()
    if text == "infinity" or not re.fullmatch(r"(\s*\d+(?:\.\d+)?\s*[a-z]*)+", text):
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text)
    if any(unit and unit not in _SPAN_UNITS for _, unit in parts):
        return None
    return timedelta(seconds=sum(float(number) * _SPAN_UNITS.get(unit, 1) for number, unit in parts))


def _unit_sections(text: str) -> dict[str, list[tuple[str, str]]]:
    """[Section] -> [(key, value)] in order; continuation lines (a trailing backslash) joined."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in re.sub(r"\\\r?\n", " ", text).splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        key, equals, value = line.partition("=")
        if equals:
            sections.setdefault(current, []).append((key.strip(), value.strip()))
    return sections


def _drop_ins(unit: Path, section: str) -> list[tuple[str, str]]:
    """The `section` entries of the unit's drop-ins (`<unit>.d/*.conf`, what `systemctl edit` writes), in the
    order systemd applies them (by file name), each after the unit's own: a later value wins, an empty one resets
    a list. A drop-in that cannot be read is skipped: the unit's own settings stand."""
    folder = unit.with_name(unit.name + ".d")
    entries: list[tuple[str, str]] = []
    try:
        confs = sorted(folder.glob("*.conf"), key=lambda conf: conf.name)
    except OSError:
        return entries
    for conf in confs:
        try:
            text = decode_text(read_regular_file(conf, MAX_TASK_BYTES, "a systemd drop-in"))
        except NotReadable:
            continue
        entries += _unit_sections(text).get(section, [])
    return entries


def _values(entries: list[tuple[str, str]], key: str) -> list[str]:
    """A list setting: an empty assignment resets it, as systemd does."""
    found: list[str] = []
    for name, value in entries:
        if name == key:
            found = [] if not value else [*found, value]
    return found


def _days(text: str) -> tuple[str, ...] | None:
    """`Mon..Fri`, `Sat,Sun`, `Mon,Wed..Fri` -> weekday names; None when not weekdays."""
    days: list[str] = []
    for part in text.split(","):
        first, dots, last = part.partition("..")
        names = [_DAY_NAMES.get(first.strip().lower()[:3]), _DAY_NAMES.get(last.strip().lower()[:3]) if dots else None]
        if names[0] is None or (dots and names[1] is None):
            return None
        if dots:
            a, b = WEEKDAYS.index(names[0]), WEEKDAYS.index(names[1])  # type: ignore[arg-type]
            days.extend(WEEKDAYS[a:b + 1] if a <= b else WEEKDAYS[a:] + WEEKDAYS[:b + 1])
        else:
            days.append(names[0])
    return tuple(day for day in WEEKDAYS if day in days)


def _calendar_triggers(expression: str, enabled: bool) -> list[TaskTrigger]:
    """One OnCalendar= expression: [weekdays] [date] time [zone]; one trigger per time of day it names."""
    words = _SHORTHANDS.get(expression.strip().lower(), expression).split()
    days: tuple[str, ...] = ()
    if words and _days(words[0]) is not None and not re.match(r"^[\d*]", words[0]):
        days = _days(words[0]) or ()
        words = words[1:]
    zone = None
    if words and re.match(r"^[A-Za-z]", words[-1]) and not _days(words[-1]):
        zone = words[-1]
        words = words[:-1]
    irregular = ""
    date = "*-*-*"
    if len(words) == 2:
        date, clock = words
    elif len(words) == 1:
        clock = words[0]
    else:
        return [TaskTrigger("calendar", enabled, expression, expression, irregular="not a date and a time")]
    if re.sub(r"^\*-", "", date) not in {"*-*", "*-*-*"} and date not in {"*-*-*", "*-*"}:
        irregular = f"only on dates {date}"
    parts = clock.split(":")
    if len(parts) == 2:
        parts.append("00")
    if len(parts) != 3:
        return [TaskTrigger("calendar", enabled, expression, expression, irregular="no time of day")]
    hours, minutes = field_values(parts[0], 0, 23), field_values(parts[1], 0, 59)
    seconds = field_values(parts[2].split(".")[0], 0, 59)
    schedule = (", ".join(days) if days else "daily") + f" {clock}"
    if hours is None or minutes is None or seconds is None:
        return [TaskTrigger("calendar", enabled, expression, schedule, zone=zone, days=days,
                            irregular=f"a time systemd would read, but not this harness: {clock}")]
    times = [time(h, m, s) for h in hours for m in minutes for s in seconds]
    if len(times) > MAX_TIMES_PER_TRIGGER:
        return [TaskTrigger("calendar", enabled, expression, schedule, zone=zone, days=days,
                            irregular=f"{len(times)} times a day")]
    return [TaskTrigger("calendar", enabled, expression, schedule, at, zone, days, irregular) for at in times]


DEFAULT_ACCURACY = timedelta(minutes=1)  # systemd's AccuracySec= default


def parse_systemd_timer(text: str, path: Path) -> ScheduledTask:
    """The .timer's OnCalendar= triggers and its .service's ExecStart=, WorkingDirectory=, Environment=,
    EnvironmentFile= (the service read from beside the timer)."""
    source = str(path)
    timer = _unit_sections(text)
    if "Timer" not in timer:
        return ScheduledTask(source, False, f"{source} has no [Timer] section: not a systemd timer", kind=SYSTEMD)
    entries = [*timer["Timer"], *_drop_ins(path, "Timer")]
    unit = (_values(entries, "Unit") or [path.stem + ".service"])[-1]
    enabled = _timer_enabled(path)
    delay_text = (_values(entries, "RandomizedDelaySec") or ["0"])[-1]
    delay = _timespan(delay_text)
    # AccuracySec= lets systemd fire up to that much late to coalesce wake-ups (default 1 min): beyond the default
    # it is a delay like RandomizedDelaySec=, and judged as one.
    accuracy_text = (_values(entries, "AccuracySec") or ["1min"])[-1]
    accuracy = _timespan(accuracy_text)
    if accuracy is None:
        delay, delay_text = None, f"AccuracySec={accuracy_text}"
    elif delay is not None and accuracy > DEFAULT_ACCURACY:
        delay = max(delay, accuracy)
    triggers = [replace(t, random_delay=delay or timedelta(0), random_delay_unread=delay_text if delay is None else "")
                for expression in _values(entries, "OnCalendar") for t in _calendar_triggers(expression, True)]
    for key in ("OnBootSec", "OnStartupSec", "OnActiveSec", "OnUnitActiveSec", "OnUnitInactiveSec"):
        triggers.extend(TaskTrigger("at startup" if "Boot" in key or "Startup" in key else "after an interval",
                                    True, f"{key}={value}", "", irregular=key) for value in _values(entries, key))
    notes = () if enabled else (f"whether {path.name} is enabled is not in the file: `systemctl is-enabled "
                                f"{path.name}` (or `systemctl --user ...`) says",)
    service_path = path.with_name(unit)
    try:
        service_text = decode_text(read_regular_file(service_path, MAX_TASK_BYTES, "a systemd service"))
    except NotReadable as exc:
        return ScheduledTask(source, False, f"the timer starts {unit}, which cannot be read: {exc} (copy it beside "
                                            "the timer)", name=path.name, kind=SYSTEMD, enabled=enabled)
    service = [*_unit_sections(service_text).get("Service", []), *_drop_ins(service_path, "Service")]
    directory = (_values(service, "WorkingDirectory") or [""])[-1].lstrip("-")
    actions = []
    for exec_start in _values(service, "ExecStart"):
        command_line = exec_start.lstrip("-@+!:")
        trace = ActionTrace(directory)
        for value in _values(service, "Environment"):
            for word in split_words(value, windows=False):
                match = ASSIGNMENT.match(word)
                if match:
                    trace.set(*match.groups())
        for value in _values(service, "EnvironmentFile"):
            read_environment_file(value, trace)
        words = split_words(command_line, windows=False)
        command, arguments = (words[0] if words else ""), " ".join(shlex.quote(w) for w in words[1:])
        follow_program(words, trace, 0, windows=False)
        actions.append(trace.action(command, arguments, directory))
    limit_text = (_values(service, "RuntimeMaxSec") or ["infinity"])[-1]
    limit = _timespan(limit_text)
    unread = limit_text if limit is None and limit_text.strip().lower() != "infinity" else ""
    return ScheduledTask(source, True, None, name=path.name, enabled=True if enabled else None,
                         triggers=tuple(triggers), actions=tuple(actions), kind=SYSTEMD, notes=notes,
                         time_limit=limit or None, time_limit_unread=unread)


def _timer_enabled(path: Path) -> bool:
    """`systemctl enable` links the timer into timers.target.wants/ beside it."""
    try:
        return (path.parent / "timers.target.wants" / path.name).exists()
    except OSError:
        return False
