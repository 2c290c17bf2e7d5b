"""What starts the bot (`--scheduler-task`), read as plain facts: a Windows Task Scheduler task, a systemd timer
and its service, or a crontab line.

Task Scheduler: from a file exported with `schtasks /Query /TN NAME /XML > task.xml` (any machine), or, on
Windows, by asking `schtasks` for the named task (bounded by the timeout). systemd: the `.timer` file (its
`.service` is read from beside it). cron: a crontab (`crontab -l > cron.txt`, or a file of /etc/cron.d).
For each trigger: when it fires (time of day, zone, weekdays); for each action: what it runs, in which directory,
with which interpreter, and the environment it sets on its command line or in the wrapper script it runs (read,
bounded). Never raises for a fault of the world: a missing task, an unreadable or malformed file, a schtasks
that fails or hangs is a `problem`; a wrapper that cannot be read is the action's `wrapper_problem`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path

from harness.evidence.redact import MASK, is_secret_key, is_secret_value, redact_text
from harness.probes.envfile import NotReadable, read_regular_file

MAX_TASK_BYTES = 1_000_000  # a task's XML, a unit file or a crontab is a few KB
MAX_WRAPPER_BYTES = 256_000  # a start script is a few lines
MAX_TIMES_PER_TRIGGER = 24  # more firings a day than this is "every few minutes", not a start time
NAMESPACE = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
TRIGGER_KINDS = {"CalendarTrigger": "calendar", "TimeTrigger": "once", "BootTrigger": "at startup",
                 "LogonTrigger": "at log on", "IdleTrigger": "on idle", "EventTrigger": "on an event",
                 "RegistrationTrigger": "when registered", "SessionStateChangeTrigger": "on a session change"}
EXPORT_HINT = ("export it with `schtasks /Query /TN NAME /XML > task.xml` and give --scheduler-task task.xml (or a "
               "systemd .timer file, or `crontab -l > cron.txt`)")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
TASK_SCHEDULER, SYSTEMD, CRON = "Task Scheduler", "systemd timer", "cron"


@dataclass(frozen=True, slots=True)
class TaskTrigger:
    kind: str  # calendar, once, at startup, at log on, ...
    enabled: bool
    start: str  # as written: StartBoundary, an OnCalendar= expression, the crontab's five fields
    schedule: str  # "daily", "weekly Monday, Friday", ... ("" when the trigger has none)
    time_of_day: time | None = None  # None: the trigger does not fire at one time of day
    zone: str | None = None  # IANA name, a fixed offset ("-05:00"), or None: the machine's local zone
    days: tuple[str, ...] = ()  # weekday names it fires on; empty: every day
    irregular: str = ""  # why it does not fire every day or every week ("every 2 days", "monthly", ...)
    random_delay: timedelta = timedelta(0)  # fires up to this much later (RandomDelay, RandomizedDelaySec=)


@dataclass(frozen=True, slots=True)
class TaskAction:
    command: str
    arguments: str
    working_directory: str  # as the scheduler sets it ("" when it does not)
    environment: tuple[tuple[str, str], ...] = ()  # (name, value) set for the bot, in order; secrets masked
    wrapper: str = ""  # the .bat/.cmd/.ps1/.sh file the action runs, as found
    wrapper_problem: str | None = None  # why the wrapper could not be read
    directory: str = ""  # where the bot runs: the last `cd` of its command line or wrapper, else working_directory
    directory_env: str | None = None  # the .env in `directory` ("" when it has none; None when not looked)
    interpreter: str = ""  # the python it runs, as written (`python`, `C:\bot\.venv\Scripts\python.exe`,
    #                        `poetry run`); "" when no python is seen
    activated: str = ""  # a virtual environment activated before (`call .venv\Scripts\activate.bat`)


@dataclass(frozen=True, slots=True)
class BotPython:
    """The bot directory's own Python environment, to compare the task's interpreter with."""

    bot_dir: str
    venv: str = ""  # its in-project virtual environment (.venv, venv, env), "" when none
    poetry: bool = False  # pyproject.toml has [tool.poetry]: `poetry run` picks its environment


@dataclass(frozen=True, slots=True)
class ScheduledTask:
    """What the task says. `looked` is False when it could not be read (see `problem`)."""

    source: str  # the file, or `schtasks /Query /TN NAME`
    looked: bool
    problem: str | None = None
    name: str = ""  # the task's URI (\\TradingBot), the timer's unit name, the crontab's file name
    enabled: bool | None = False  # None: its definition does not say (a systemd timer not seen enabled)
    triggers: tuple[TaskTrigger, ...] = ()
    actions: tuple[TaskAction, ...] = ()
    kind: str = TASK_SCHEDULER  # "Task Scheduler", "systemd timer", "cron"
    bot_python: BotPython | None = None  # the bot directory's environment, when read with bot_dir
    notes: tuple[str, ...] = field(default=())
    time_limit: timedelta | None = None  # the scheduler stops what it started after this (ExecutionTimeLimit,
    #                                      RuntimeMaxSec=); None: never
    runs_logged_off: bool | None = None  # Task Scheduler: False when it runs only while the user is logged on


def read_scheduled_task(spec: str | None, *, timeout: float = 10.0, bot_dir: Path | str | None = None
                        ) -> ScheduledTask:
    """The task `spec` names: an exported XML file, a systemd .timer, a crontab, or (Windows) a task name.
    With `bot_dir`, the bot directory's own Python environment is read too (for the interpreter check)."""
    task = _read(spec, timeout)
    if task.looked and bot_dir is not None:
        return _with(task, bot_python=read_bot_python(Path(bot_dir)))
    return task


def _with(task: ScheduledTask, **changes: object) -> ScheduledTask:
    return replace(task, **changes)


def _read(spec: str | None, timeout: float) -> ScheduledTask:
    if not spec:
        return ScheduledTask("", False, "no scheduled task given: --scheduler-task NAME (on Windows) or FILE "
                                        f"({EXPORT_HINT})")
    if Path(spec).expanduser().exists():
        path = Path(spec).expanduser()
        try:
            data = read_regular_file(path, MAX_TASK_BYTES, "a task definition")
        except NotReadable as exc:
            return ScheduledTask(str(path), False, str(exc))
        return parse_task_file(data, path)
    source = f"schtasks /Query /TN {spec}"
    if os.name != "nt":
        return ScheduledTask(source, False, f"{spec!r} is not a file, and Task Scheduler can be asked only on Windows: "
                                            f"{EXPORT_HINT}")
    try:
        done = subprocess.run(["schtasks", "/Query", "/TN", spec, "/XML", "ONE"], capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return ScheduledTask(source, False, f"schtasks did not answer within {timeout:g} s")
    except OSError as exc:
        return ScheduledTask(source, False, f"schtasks cannot be run: {exc}")
    if done.returncode != 0:
        why = _decode(done.stderr or done.stdout).strip().splitlines()
        return ScheduledTask(source, False, f"schtasks failed (exit {done.returncode}): "
                                            f"{redact_text(why[0] if why else 'no output')[:300]}")
    return parse_task_xml(done.stdout, source)


def parse_task_file(data: bytes, path: Path) -> ScheduledTask:
    """Which kind of definition the file holds, told from its text rather than its name (an export may be
    saved as anything)."""
    text = _decode(data)
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return parse_task_xml(data, str(path))
    if _BINARY.search(text):
        return ScheduledTask(str(path), False, f"{path} is binary, not a task's XML, a systemd timer or a crontab")
    if re.search(r"^\s*\[Timer\]\s*$", text, re.M) or path.suffix == ".timer":
        return parse_systemd_timer(text, path)
    return parse_crontab(text, str(path))


_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")  # control characters no definition or script holds


def _decode(data: bytes) -> str:
    """Text as Windows writes it: UTF-16 with a BOM (schtasks, the Task Scheduler export), UTF-8, or ANSI."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if len(data) >= 2 and data[:2].count(b"\x00") == 1:  # UTF-16 without a BOM: every other byte of "<?" is zero
        return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --- Task Scheduler XML --------------------------------------------------------------------------------------

def _text(element: ET.Element | None, path: str, default: str = "") -> str:
    """The text of `path` (namespaced) under `element`, or `default` when absent or empty."""
    found = element.find(_ns(path)) if element is not None else None
    return found.text.strip() if found is not None and found.text and found.text.strip() else default


def _ns(path: str) -> str:
    return "/".join(NAMESPACE + part for part in path.split("/"))


def _flag(text: str, default: bool = True) -> bool:
    return default if not text else text.strip().lower() == "true"


def _schedule(trigger: ET.Element) -> tuple[str, tuple[str, ...], str]:
    """(schedule as words, weekdays, why irregular)."""
    if trigger.find(_ns("ScheduleByDay")) is not None:
        interval = _text(trigger, "ScheduleByDay/DaysInterval", "1")
        return ("daily", (), "") if interval == "1" else (f"every {interval} days", (), f"every {interval} days")
    week = trigger.find(_ns("ScheduleByWeek"))
    if week is not None:
        days = week.find(_ns("DaysOfWeek"))
        names = tuple(child.tag.removeprefix(NAMESPACE) for child in days) if days is not None else ()
        interval = _text(week, "WeeksInterval", "1")
        irregular = f"every {interval} weeks" if interval != "1" else ("" if names else "on no day")
        return "weekly " + (", ".join(names) if names else "(no day)"), names, irregular
    if trigger.find(_ns("ScheduleByMonth")) is not None or trigger.find(_ns("ScheduleByMonthDayOfWeek")) is not None:
        return "monthly", (), "monthly"
    return "", (), ""


_BOUNDARY = re.compile(r"^\d{4}-\d\d-\d\dT(\d\d):(\d\d)(?::(\d\d)(?:\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")


def _boundary(text: str) -> tuple[time | None, str | None]:
    """StartBoundary's time of day and zone: none written is the machine's local time; an offset is fixed."""
    match = _BOUNDARY.match(text.strip())
    if not match:
        return None, None
    hour, minute, second, offset = match.groups()
    if int(hour) > 23 or int(minute) > 59 or int(second or 0) > 59:
        return None, None
    when = time(int(hour), int(minute), int(second or 0))
    if offset is None:
        return when, None
    if offset == "Z":
        return when, "+00:00"
    digits = offset.replace(":", "")
    return when, f"{digits[:3]}:{digits[3:]}"


def parse_task_xml(data: bytes, source: str) -> ScheduledTask:
    """The facts of a task's XML; a malformed one is a problem. A DOCTYPE is refused (no entity expansion)."""
    text = _decode(data)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return ScheduledTask(source, False, f"{source} has a DOCTYPE: a Task Scheduler export never does")
    # ElementTree refuses a str that declares encoding="UTF-16"; the text is decoded already.
    text = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return ScheduledTask(source, False, f"{source} is not a task's XML: {exc}")
    if root.tag != NAMESPACE + "Task":
        return ScheduledTask(source, False, f"{source} is not a Task Scheduler task (its root is {root.tag!r})")
    triggers = []
    holder = root.find(_ns("Triggers"))
    for trigger in holder if holder is not None else ():
        kind = trigger.tag.removeprefix(NAMESPACE)
        start = _text(trigger, "StartBoundary")
        schedule, days, irregular = _schedule(trigger)
        at, zone = _boundary(start) if kind == "CalendarTrigger" else (None, None)
        if kind == "TimeTrigger":
            irregular = "once"
        delay = _iso_duration(_text(trigger, "RandomDelay", "PT0S")) or timedelta(0)
        triggers.append(TaskTrigger(TRIGGER_KINDS.get(kind, kind), _flag(_text(trigger, "Enabled")), start,
                                    schedule, at, zone, days, irregular, delay))
    actions = []
    holder = root.find(_ns("Actions"))
    for action in holder.findall(_ns("Exec")) if holder is not None else ():
        command, arguments = _text(action, "Command"), _text(action, "Arguments")
        directory = _text(action, "WorkingDirectory")
        run = _Run(directory)
        _windows_action(command, arguments, run)
        actions.append(run.action(command, arguments, directory))
    settings = root.find(_ns("Settings"))
    limit = _iso_duration(_text(settings, "ExecutionTimeLimit", "PT72H"))  # Task Scheduler's default: 3 days
    logon = _text(root, "Principals/Principal/LogonType")
    return ScheduledTask(source, True, None, name=_text(root, "RegistrationInfo/URI"),
                         enabled=_flag(_text(settings, "Enabled")), triggers=tuple(triggers), actions=tuple(actions),
                         kind=TASK_SCHEDULER, time_limit=limit or None,
                         runs_logged_off=None if not logon else logon != "InteractiveToken")


_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _iso_duration(text: str) -> timedelta | None:
    """PT72H, P1DT2H, PT0S (zero: no limit) -> a timedelta; None when unreadable."""
    match = _ISO_DURATION.match(text.strip())
    if not match or text.strip() in {"P", "PT"}:
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


_SPAN_UNITS = {"us": 1e-6, "usec": 1e-6, "ms": 1e-3, "msec": 1e-3, "s": 1, "sec": 1, "second": 1, "seconds": 1,
               "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
               "d": 86400, "day": 86400, "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}


def _timespan(text: str) -> timedelta | None:
    """systemd's time spans: `300`, `5min`, `1h 30min`; `infinity` and unreadable -> None."""
    text = text.strip().lower()
    if text == "infinity" or not re.fullmatch(r"(\s*\d+(?:\.\d+)?\s*[a-z]*)+", text):
        return None
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text)
    if any(unit and unit not in _SPAN_UNITS for _, unit in parts):
        return None
    return timedelta(seconds=sum(float(number) * _SPAN_UNITS.get(unit, 1) for number, unit in parts))


# --- what an action runs: shells, wrappers, environment ---------------------------------------------------------

_PYTHON = re.compile(r"^(python(\d+(\.\d+)*)?w?|pyw?)(\.exe)?$", re.I)
_RUNNERS = {"poetry", "uv", "pipenv", "hatch", "pdm"}  # `poetry run python ...`: the project's environment
_CMD = {"cmd", "cmd.exe"}
_POWERSHELL = {"powershell", "powershell.exe", "pwsh", "pwsh.exe"}
_SH = {"sh", "bash", "dash", "zsh", "/bin/sh", "/bin/bash"}
_WRAPPERS = {".bat", ".cmd", ".ps1", ".sh"}
_MAX_DEPTH = 3  # a wrapper calling a wrapper calling a wrapper; deeper is not followed


def _base(word: str) -> str:
    return re.split(r"[\\/]", word.strip().strip("\"'"))[-1].lower()


def _secret(name: str, value: str) -> bool:
    return bool(value.strip()) and (is_secret_key(name) or is_secret_value(value))


def _mask(name: str, value: str) -> str:
    return MASK if _secret(name, value) else value


class _Run:
    """What one action does, gathered while its command line and wrapper are read."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.environment: list[tuple[str, str]] = []
        self.wrapper = ""
        self.wrapper_problem: str | None = None
        self.interpreter = ""
        self.activated = ""
        self.here = ""  # the folder of the wrapper being read (%~dp0, $PSScriptRoot, $(dirname "$0"))
        self.secrets: list[str] = []  # values of secret keys, removed from the arguments as recorded

    def set(self, name: str, value: str) -> None:
        if _secret(name, value):
            self.secrets.append(value.strip())
        self.environment.append((name, _mask(name, value)))

    def cd(self, target: str) -> None:
        target = target.strip().strip("\"'")
        if self.here:  # the wrapper's own folder, as each shell writes it
            sep = "\\" if "\\" in self.here else "/"
            target = re.sub(r"%~dp0", lambda _: self.here + sep, target, flags=re.I)
            target = re.sub(r"\$PSScriptRoot", lambda _: self.here, target, flags=re.I)
            target = self.here if re.search(r"dirname\b.*\$0", target) else target
        if not target:
            return
        if _is_absolute(target) or not self.directory:
            self.directory = target
        else:
            self.directory = _join(self.directory, target)

    def activate(self, script: str) -> None:
        # .venv\Scripts\activate.bat or .venv/bin/activate: the environment is two levels up
        parts = re.split(r"[\\/]", script.strip("\"'"))
        root = "/".join(parts[:-2]) if len(parts) > 2 else "."
        self.activated = root if _is_absolute(root) or not self.directory else _join(self.directory, root)

    def python(self, word: str) -> None:
        if not self.interpreter:
            self.interpreter = word.strip("\"'")

    def action(self, command: str, arguments: str, working_directory: str) -> TaskAction:
        command, arguments = redact_text(command, self.secrets), redact_text(arguments, self.secrets)
        return TaskAction(command, arguments, working_directory, tuple(self.environment), self.wrapper,
                          self.wrapper_problem, self.directory, _env_in(self.directory), self.interpreter,
                          self.activated)


def _is_absolute(path: str) -> bool:
    return bool(re.match(r"^([A-Za-z]:[\\/]|[\\/])", path)) or path.startswith("~")


def _join(directory: str, relative: str) -> str:
    separator = "\\" if "\\" in directory or re.match(r"^[A-Za-z]:", directory) else "/"
    return directory.rstrip("\\/") + separator + relative


def _env_in(directory: str) -> str | None:
    """The .env the bot would find in `directory` ("" none), or None when the directory cannot be looked at here
    (a Windows path read on another system, a relative one)."""
    if not directory or not _is_absolute(directory):
        return None
    folder = Path(os.path.expanduser(directory))
    if not folder.is_absolute() or not folder.is_dir():
        return None
    candidate = folder / ".env"
    try:
        return str(candidate) if candidate.is_file() else ""
    except OSError:
        return None


def _split(text: str, windows: bool) -> list[str]:
    """Words of one simple command; quotes removed. Unbalanced quotes fall back to spaces."""
    try:
        words = shlex.split(text, posix=not windows)
    except ValueError:
        words = text.split()
    return [w[1:-1] if windows and len(w) >= 2 and w[0] == w[-1] and w[0] in "\"'" else w for w in words]


def _unquote_whole(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _windows_action(command: str, arguments: str, run: _Run, depth: int = 0) -> None:
    """Follow a Task Scheduler Exec action: Command with its raw Arguments (Windows quoting)."""
    name = _base(command)
    if name in _CMD:
        match = re.match(r"^\s*(?:/[a-bd-jl-z]\S*\s+)*/[ck]\s+(.*)$", arguments, re.I | re.S)
        if match:
            _cmd_script(_unquote_whole(match.group(1)), run, depth)
        return
    if name in _POWERSHELL:
        _powershell_arguments(arguments, run, depth)
        return
    _program([command, *_split(arguments, windows=True)], run, depth, windows=True)


def _powershell_arguments(arguments: str, run: _Run, depth: int) -> None:
    script = re.search(r"(?:^|\s)-(?:c|command)\s+(.*)$", arguments, re.I | re.S)
    file = re.search(r"(?:^|\s)-(?:f|file)\s+(\"[^\"]*\"|'[^']*'|\S+)", arguments, re.I)
    if file:
        _wrapper(file.group(1).strip("\"'"), run, depth)
    elif script:
        _powershell_script(_unquote_whole(script.group(1)), run, depth)


def _outside_quotes(text: str, separators: str, quotes: str = "\"'") -> list[str]:
    """Split `text` at any of the (single-character) `separators` that is not inside `quotes`."""
    parts, current, quote = [], [], ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in quotes:
            quote = char
        elif char in separators:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _cmd_script(text: str, run: _Run, depth: int) -> None:
    """cmd.exe: lines, then commands joined by & && | ||. `set X=v && ...` keeps the space before && in the
    value, as cmd does."""
    for line in text.splitlines():
        for segment in _outside_quotes(line, "&|", quotes='"'):  # cmd has no single quotes
            _cmd_command(segment.lstrip().lstrip("@"), run, depth)


def _cmd_command(segment: str, run: _Run, depth: int) -> None:
    word = segment.split(None, 1)[0].lower() if segment.strip() else ""
    rest = segment.split(None, 1)[1] if len(segment.split(None, 1)) > 1 else ""
    if not word or word in {"rem", "echo", "setlocal", "endlocal", "title", "exit", "goto", "pause", "timeout",
                            "for", "cls", "chcp"} or word.startswith((":", "rem.", "echo.")):
        return
    if word == "if":  # `if not defined DRY_RUN set DRY_RUN=true`: what it may do counts
        then = _CMD_IF.match(segment.strip())
        if then:
            _cmd_command(then.group(1), run, depth)
        return
    if word == "set":
        body = rest.rstrip("\r\n")
        if body.lstrip().startswith("/"):  # set /a, set /p: arithmetic, prompt
            return
        body = body.lstrip()
        if body.startswith('"'):
            body = body[1:body.rfind('"')] if body.count('"') > 1 else body[1:]
        name, equals, value = body.partition("=")
        if equals and name.strip():
            run.set(name.strip(), value)
        return
    if word in {"cd", "chdir", "pushd"}:
        target = re.sub(r"^/d\s+", "", rest.strip(), flags=re.I)
        run.cd(target)
        return
    if word == "call":
        _program(_split(rest, windows=True), run, depth, windows=True)
        return
    if word == "start":  # start "title" /b program ...
        words = _split(rest, windows=True)
        if rest.lstrip().startswith('"'):  # the window title
            words = words[1:]
        while words and words[0].startswith("/"):
            words = words[1:]
        _program(words, run, depth, windows=True)
        return
    _program(_split(segment, windows=True), run, depth, windows=True)


_CMD_IF = re.compile(r"^if\s+(?:/i\s+)?(?:not\s+)?(?:defined\s+\S+|exist\s+(?:\"[^\"]*\"|\S+)|errorlevel\s+\d+|"
                     r"\S+\s*==\s*\S+|\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s+\S+)\s+\(?\s*(.*?)\)?\s*$", re.I)
_PS_ENV = re.compile(r"^\$env:([A-Za-z_][\w.]*)\s*=\s*(.*)$", re.I | re.S)
_PS_SET_VARIABLE = re.compile(r"\[(?:System\.)?Environment\]::SetEnvironmentVariable\(\s*['\"]([A-Za-z_][\w.]*)['\"]"
                              r"\s*,\s*(['\"][^'\"]*['\"]|[^,)]*)", re.I)
_PS_SET_ITEM = re.compile(r"^(?:Set-Item|si)\s+(?:-Path\s+)?env:([A-Za-z_][\w.]*)\s+(?:-Value\s+)?(.*)$", re.I | re.S)


def _powershell_script(text: str, run: _Run, depth: int) -> None:
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for statement in _outside_quotes(line, ";"):
            _powershell_statement(statement.strip(), run, depth)


def _powershell_statement(statement: str, run: _Run, depth: int) -> None:
    if not statement:
        return
    found = _PS_ENV.match(statement) or _PS_SET_ITEM.match(statement) or _PS_SET_VARIABLE.search(statement)
    if found:
        value = found.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        run.set(found.group(1), value)
        return
    words = _split(statement, windows=True)
    if words and words[0] in {"&", "."}:
        words = words[1:]
    if not words:
        return
    if words[0].lower() in {"set-location", "cd", "sl", "push-location", "pushd", "chdir"}:
        rest = [w for w in words[1:] if not w.startswith("-")]
        if rest:
            run.cd(rest[0])
        return
    _program(words, run, depth, windows=True)


def _sh_script(text: str, run: _Run, depth: int) -> None:
    """POSIX shell: commands joined by ; && || | and newlines; `VAR=v prog` and `export VAR=v` set the
    environment (a bare `VAR=v` line does not export it)."""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:
            tokens = line.split()
        command: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set(";&|"):
                _sh_command(command, run, depth)
                command = []
            else:
                command.append(token)


_ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.S)


def _sh_command(words: list[str], run: _Run, depth: int) -> None:
    if not words:
        return
    assignments = []
    while words and _ASSIGNMENT.match(words[0]):
        assignments.append(_ASSIGNMENT.match(words[0]).groups())  # type: ignore[union-attr]
        words = words[1:]
    if not words:
        return  # a shell variable, not exported
    for name, value in assignments:
        run.set(name, value)
    head = words[0]
    if head == "export":
        for word in words[1:]:
            match = _ASSIGNMENT.match(word)
            if match:
                run.set(*match.groups())
        return
    if head == "cd":
        if len(words) > 1:
            run.cd(words[1])
        return
    if head in {"source", "."}:
        if len(words) > 1 and _base(words[1]).startswith("activate"):
            run.activate(words[1])
        elif len(words) > 1:  # `set -a; . ./live.env`: what it assigns is the bot's environment
            where = words[1] if _is_absolute(words[1]) or not run.directory else _join(run.directory, words[1])
            _environment_file(where, run, "the file it sources,")
        return
    while words and words[0] in {"exec", "nohup", "setsid", "time", "command"}:
        words = words[1:]
    _program(words, run, depth, windows=False)


def _program(words: list[str], run: _Run, depth: int, *, windows: bool) -> None:
    """One program with its arguments: python, a runner, a shell, or a wrapper script."""
    while words and words[0] == "env":  # env VAR=v program
        words = words[1:]
        while words and _ASSIGNMENT.match(words[0]):
            run.set(*_ASSIGNMENT.match(words[0]).groups())  # type: ignore[union-attr]
            words = words[1:]
    if not words:
        return
    name = _base(words[0])
    if _PYTHON.match(name):
        run.python(words[0])
        return
    if name in _RUNNERS and len(words) > 1 and words[1] == "run":
        run.python(f"{words[0]} run")
        return
    if name.startswith("activate") and ("scripts" in words[0].lower() or "bin" in words[0].lower()):
        run.activate(words[0])
        return
    if name in _CMD:
        rest = " ".join(words[1:])
        _windows_action(words[0], rest, run, depth)
        return
    if name in _POWERSHELL:
        _powershell_arguments(" ".join(f'"{w}"' if " " in w else w for w in words[1:]), run, depth)
        return
    if name in _SH or _base(name) in _SH:
        if "-c" in words[1:]:
            at = words.index("-c")
            if at + 1 < len(words):
                _sh_script(words[at + 1], run, depth)
        elif len(words) > 1:
            _wrapper(words[1], run, depth)
        return
    if Path(name).suffix in _WRAPPERS:
        _wrapper(words[0], run, depth)


def _wrapper(path_text: str, run: _Run, depth: int) -> None:
    """Read the script the action runs (bounded) and follow it: its `set`s, `cd`s and the python it starts."""
    path_text = path_text.strip().strip("\"'")
    if depth >= _MAX_DEPTH:
        run.wrapper_problem = run.wrapper_problem or f"{path_text} is a wrapper {depth + 1} levels deep: not followed"
        return
    where = path_text if _is_absolute(path_text) or not run.directory else _join(run.directory, path_text)
    if not run.wrapper:
        run.wrapper = where
    path = Path(os.path.expanduser(where))
    if not _is_absolute(where) or not path.is_absolute():
        run.wrapper_problem = run.wrapper_problem or (
            f"the wrapper {where} is not a path on this machine: read it where the task runs")
        return
    try:
        data = read_regular_file(path, MAX_WRAPPER_BYTES, "a start script")
    except NotReadable as exc:
        run.wrapper_problem = run.wrapper_problem or str(exc)
        return
    text = _decode(data)
    if _BINARY.search(text.replace("\x1a", "")):  # ^Z: the end-of-file mark old editors leave
        run.wrapper_problem = run.wrapper_problem or f"{path} is binary, not a script"
        return
    run.here = str(path.parent)
    suffix = path.suffix.lower()
    if suffix in {".bat", ".cmd"}:
        _cmd_script(text, run, depth + 1)
    elif suffix == ".ps1":
        _powershell_script(text, run, depth + 1)
    else:
        _sh_script(text, run, depth + 1)


# --- systemd --------------------------------------------------------------------------------------------------

_SHORTHANDS = {"daily": "*-*-* 00:00:00", "weekly": "Mon *-*-* 00:00:00", "monthly": "*-*-01 00:00:00",
               "yearly": "*-01-01 00:00:00", "annually": "*-01-01 00:00:00", "quarterly": "*-01,04,07,10-01 00:00:00",
               "semiannually": "*-01,07-01 00:00:00", "hourly": "*-*-* *:00:00", "minutely": "*-*-* *:*:00"}
_DAY_NAMES = {day[:3].lower(): day for day in WEEKDAYS}


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


def _numbers(field_text: str, low: int, high: int) -> list[int] | None:
    """A cron or OnCalendar time field (`6`, `6,18`, `0-5`, `*/15`, `0/15`) -> its values; None when unreadable."""
    values: set[int] = set()
    for part in field_text.split(","):
        body, slash, step_text = part.partition("/")
        try:
            step = int(step_text) if slash else 1
            if body == "*":
                start, end = low, high
            elif "-" in body:
                start, end = (int(x) for x in body.split("-", 1))
            else:
                start = int(body)
                end = high if slash else start
        except ValueError:
            return None
        if step < 1 or start < low or end > high or start > end:
            return None
        values.update(range(start, end + 1, step))
    return sorted(values)


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
    hours, minutes = _numbers(parts[0], 0, 23), _numbers(parts[1], 0, 59)
    seconds = _numbers(parts[2].split(".")[0], 0, 59)
    schedule = (", ".join(days) if days else "daily") + f" {clock}"
    if hours is None or minutes is None or seconds is None:
        return [TaskTrigger("calendar", enabled, expression, schedule, zone=zone, days=days,
                            irregular=f"a time systemd would read, but not this harness: {clock}")]
    times = [time(h, m, s) for h in hours for m in minutes for s in seconds]
    if len(times) > MAX_TIMES_PER_TRIGGER:
        return [TaskTrigger("calendar", enabled, expression, schedule, zone=zone, days=days,
                            irregular=f"{len(times)} times a day")]
    return [TaskTrigger("calendar", enabled, expression, schedule, at, zone, days, irregular) for at in times]


def parse_systemd_timer(text: str, path: Path) -> ScheduledTask:
    """The .timer's OnCalendar= triggers and its .service's ExecStart=, WorkingDirectory=, Environment=,
    EnvironmentFile= (the service read from beside the timer)."""
    source = str(path)
    timer = _unit_sections(text)
    if "Timer" not in timer:
        return ScheduledTask(source, False, f"{source} has no [Timer] section: not a systemd timer", kind=SYSTEMD)
    entries = timer["Timer"]
    unit = (_values(entries, "Unit") or [path.stem + ".service"])[-1]
    enabled = _timer_enabled(path)
    delay = _timespan((_values(entries, "RandomizedDelaySec") or ["0"])[-1]) or timedelta(0)
    triggers = [replace(t, random_delay=delay)
                for expression in _values(entries, "OnCalendar") for t in _calendar_triggers(expression, True)]
    for key in ("OnBootSec", "OnStartupSec", "OnActiveSec", "OnUnitActiveSec", "OnUnitInactiveSec"):
        triggers.extend(TaskTrigger("at startup" if "Boot" in key or "Startup" in key else "after an interval",
                                    True, f"{key}={value}", "", irregular=key) for value in _values(entries, key))
    notes = () if enabled else (f"whether {path.name} is enabled is not in the file: `systemctl is-enabled "
                                f"{path.name}` (or `systemctl --user ...`) says",)
    service_path = path.with_name(unit)
    try:
        service_text = _decode(read_regular_file(service_path, MAX_TASK_BYTES, "a systemd service"))
    except NotReadable as exc:
        return ScheduledTask(source, False, f"the timer starts {unit}, which cannot be read: {exc} (copy it beside "
                                            "the timer)", name=path.name, kind=SYSTEMD, enabled=enabled)
    service = _unit_sections(service_text).get("Service", [])
    directory = (_values(service, "WorkingDirectory") or [""])[-1].lstrip("-")
    actions = []
    for exec_start in _values(service, "ExecStart"):
        command_line = exec_start.lstrip("-@+!:")
        run = _Run(directory)
        for value in _values(service, "Environment"):
            for word in _split(value, windows=False):
                match = _ASSIGNMENT.match(word)
                if match:
                    run.set(*match.groups())
        for value in _values(service, "EnvironmentFile"):
            _environment_file(value, run)
        words = _split(command_line, windows=False)
        command, arguments = (words[0] if words else ""), " ".join(shlex.quote(w) for w in words[1:])
        _program(words, run, 0, windows=False)
        actions.append(run.action(command, arguments, directory))
    limit = _timespan((_values(service, "RuntimeMaxSec") or ["infinity"])[-1])
    return ScheduledTask(source, True, None, name=path.name, enabled=True if enabled else None,
                         triggers=tuple(triggers), actions=tuple(actions), kind=SYSTEMD, notes=notes,
                         time_limit=limit or None)


def _timer_enabled(path: Path) -> bool:
    """`systemctl enable` links the timer into timers.target.wants/ beside it."""
    try:
        return (path.parent / "timers.target.wants" / path.name).exists()
    except OSError:
        return False


def _environment_file(value: str, run: _Run, what: str = "EnvironmentFile") -> None:
    """KEY=value lines (systemd's EnvironmentFile=, a file a shell script sources); `-` before it: optional."""
    optional = value.startswith("-")
    where = value.lstrip("-").strip()
    try:
        text = _decode(read_regular_file(Path(os.path.expanduser(where)), MAX_WRAPPER_BYTES, "an environment"))
    except NotReadable as exc:
        if not (optional and not exc.exists):
            run.wrapper_problem = run.wrapper_problem or f"{what} {where}: {exc}"
        return
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            name, equals, raw = line.removeprefix("export ").partition("=")
            if equals and name.strip():
                words = _split(raw, windows=False)
                run.set(name.strip(), " ".join(words) if words else "")


# --- cron -----------------------------------------------------------------------------------------------------

_CRON_SHORTHANDS = {"@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                    "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@hourly": "0 * * * *"}
_CRON_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_CRON_LINE = re.compile(r"^(@\w+|\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(.+)$")
_BOT_HINTS = ("bot", ".venv", ".bat", ".cmd", ".ps1")


def _cron_weekdays(field_text: str) -> tuple[str, ...] | None:
    text = field_text.lower()
    for name, number in _CRON_DAYS.items():
        text = text.replace(name, str(number))
    numbers = _numbers(text, 0, 7)
    if numbers is None:
        return None
    cron_order = {(n % 7) for n in numbers}  # 0 and 7 are Sunday
    return tuple(day for i, day in enumerate(WEEKDAYS) if (i + 1) % 7 in cron_order)


def _cron_triggers(schedule: str, enabled: bool, zone: str | None) -> list[TaskTrigger]:
    if schedule.lower() == "@reboot":
        return [TaskTrigger("at startup", enabled, schedule, "", irregular="@reboot")]
    fields = _CRON_SHORTHANDS.get(schedule.lower(), schedule).split()
    minute, hour, day, month, weekday = fields
    days = _cron_weekdays(weekday)
    irregular = "" if day == "*" and month == "*" else f"only on some dates ({day} {month})"
    if day != "*" and weekday != "*":
        irregular = f"on dates {day} {month} or weekdays {weekday}"
    hours, minutes = _numbers(hour, 0, 23), _numbers(minute, 0, 59)
    words = "every day" if weekday == "*" else f"on {weekday}"
    if hours is None or minutes is None or days is None:
        return [TaskTrigger("calendar", enabled, schedule, words, zone=zone, irregular="a schedule this harness "
                            f"cannot read: {schedule}")]
    days = () if weekday == "*" else days
    times = [time(h, m) for h in hours for m in minutes]
    if len(times) > MAX_TIMES_PER_TRIGGER:
        return [TaskTrigger("calendar", enabled, schedule, words, zone=zone, days=days,
                            irregular=f"{len(times)} times a day")]
    return [TaskTrigger("calendar", enabled, schedule, f"{words} at {at:%H:%M}", at, zone, days, irregular)
            for at in times]


def parse_crontab(text: str, source: str) -> ScheduledTask:
    """A crontab: its job lines (commented-out ones as disabled), CRON_TZ= for the schedule's zone (cronie), and
    NAME=value lines as the jobs' environment. With several jobs, the ones that start python are the bot's."""
    environment: list[tuple[str, str]] = []
    zone: str | None = None
    where = Path(source)
    system_format = where.parent.name == "cron.d" or (where.name == "crontab" and where.parent.name == "etc")
    jobs: list[tuple[list[TaskTrigger], TaskAction, bool]] = []
    for raw in text.splitlines():
        line = raw.strip()
        disabled = line.startswith("#")
        body = line.lstrip("#").strip() if disabled else line
        if not body:
            continue
        assignment = re.match(r"^([A-Za-z_]\w*)\s*=\s*(.*)$", body)
        if assignment and not disabled:
            name, value = assignment.group(1), assignment.group(2).strip().strip("\"'")
            if name == "CRON_TZ":
                zone = value or None
            else:
                environment.append((name, _mask(name, value)))
            continue
        match = _CRON_LINE.match(body)
        if not match or (not match.group(1).startswith("@") and not re.match(r"^[\d*]", match.group(1))):
            continue
        schedule, command = match.group(1), match.group(2)
        if system_format:  # /etc/crontab and /etc/cron.d: a user name before the command
            command = command.split(None, 1)[1] if len(command.split(None, 1)) > 1 else ""
        command = re.split(r"(?<!\\)%", command)[0].replace("\\%", "%")  # an unescaped % starts cron's stdin
        if match.group(1).startswith("@") and match.group(1).lower() not in {*_CRON_SHORTHANDS, "@reboot"}:
            continue
        run = _Run("")
        for name, value in environment:
            run.environment.append((name, value))
        _sh_script(command, run, 0)
        words = command.split(None, 1)
        action = run.action(words[0] if words else "", words[1] if len(words) > 1 else "", "")
        jobs.append((_cron_triggers(schedule, not disabled, zone), action, disabled))
    if not jobs:
        return ScheduledTask(source, False, f"{source} holds no crontab line (minute hour day month weekday "
                                            f"command), no systemd [Timer] and no task XML: {EXPORT_HINT}", kind=CRON)
    python = [job for job in jobs if job[1].interpreter or "src.main" in job[1].arguments]
    chosen = python or [job for job in jobs if any(h in f"{job[1].command} {job[1].arguments}" for h in _BOT_HINTS)]
    chosen = chosen or jobs
    notes = (f"{len(jobs) - len(chosen)} other job(s) in the crontab left out: they start no python",) \
        if len(chosen) < len(jobs) else ()
    return ScheduledTask(source, True, None, name=Path(source).name, enabled=any(not job[2] for job in chosen),
                         triggers=tuple(t for job in chosen for t in job[0]),
                         actions=tuple(job[1] for job in chosen if not job[2]) or tuple(job[1] for job in chosen),
                         kind=CRON, notes=notes)


# --- the bot directory's own environment ------------------------------------------------------------------------

def read_bot_python(bot_dir: Path) -> BotPython:
    """The in-project virtual environment (a folder with pyvenv.cfg) and whether Poetry manages the project."""
    bot_dir = Path(os.path.abspath(bot_dir))
    venv = ""
    for name in (".venv", "venv", "env"):
        try:
            if (bot_dir / name / "pyvenv.cfg").is_file():
                venv = str(bot_dir / name)
                break
        except OSError:
            continue
    poetry = False
    try:
        data = read_regular_file(bot_dir / "pyproject.toml", MAX_TASK_BYTES, "a pyproject.toml")
        poetry = b"[tool.poetry" in data
    except NotReadable:
        pass
    return BotPython(str(bot_dir), venv, poetry)
