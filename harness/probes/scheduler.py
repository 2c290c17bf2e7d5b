"""The Windows Task Scheduler task that starts the bot, read as plain facts (`--scheduler-task`).

The task is read from its XML: from a file exported with `schtasks /Query /TN NAME /XML > task.xml` (any
machine), or, on Windows, by asking `schtasks` for the named task (bounded by the timeout). The XML is what
Task Scheduler itself stores: whether the task is enabled, its triggers (time, days, enabled) and its actions
(command, arguments, working directory). Never raises for a fault of the world: a missing task, an unreadable
or malformed file, a schtasks that fails or hangs is a `problem`.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from harness.evidence.redact import redact_text
from harness.probes.envfile import NotReadable, read_regular_file

MAX_TASK_BYTES = 1_000_000  # a task's XML is a few KB
NAMESPACE = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
TRIGGER_KINDS = {"CalendarTrigger": "calendar", "TimeTrigger": "once", "BootTrigger": "at startup",
                 "LogonTrigger": "at log on", "IdleTrigger": "on idle", "EventTrigger": "on an event",
                 "RegistrationTrigger": "when registered", "SessionStateChangeTrigger": "on a session change"}
EXPORT_HINT = "export it with `schtasks /Query /TN NAME /XML > task.xml` and give --scheduler-task task.xml"


@dataclass(frozen=True, slots=True)
class TaskTrigger:
    kind: str  # calendar, once, at startup, at log on, ...
    enabled: bool
    start: str  # StartBoundary as written (local time of the machine, usually without a zone)
    schedule: str  # "daily", "weekly Monday-Friday", ... ("" when the trigger has none)


@dataclass(frozen=True, slots=True)
class TaskAction:
    command: str
    arguments: str
    working_directory: str


@dataclass(frozen=True, slots=True)
class ScheduledTask:
    """What the task says. `looked` is False when it could not be read (see `problem`)."""

    source: str  # the file, or `schtasks /Query /TN NAME`
    looked: bool
    problem: str | None = None
    name: str = ""  # the task's URI (\\TradingBot) when the XML records it
    enabled: bool = False
    triggers: tuple[TaskTrigger, ...] = ()
    actions: tuple[TaskAction, ...] = ()


def read_scheduled_task(spec: str | None, *, timeout: float = 10.0) -> ScheduledTask:
    """The task `spec` names: an exported XML file, or (Windows only) a task name for schtasks."""
    if not spec:
        return ScheduledTask("", False, "no scheduled task given: --scheduler-task NAME (on Windows) or FILE "
                                        f"({EXPORT_HINT})")
    if Path(spec).expanduser().exists():
        path = Path(spec).expanduser()
        try:
            data = read_regular_file(path, MAX_TASK_BYTES, "a task XML")
        except NotReadable as exc:
            return ScheduledTask(str(path), False, str(exc))
        return parse_task_xml(data, str(path))
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


def _decode(data: bytes) -> str:
    """Task XML as Windows writes it: UTF-16 with a BOM (schtasks, the Task Scheduler export), UTF-8, or ANSI."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if data[:2].count(b"\x00") == 1:  # UTF-16 without a BOM: every other byte of "<?" is zero
        return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _text(element: ET.Element | None, path: str, default: str = "") -> str:
    """The text of `path` (namespaced) under `element`, or `default` when absent or empty."""
    found = element.find(_ns(path)) if element is not None else None
    return found.text.strip() if found is not None and found.text and found.text.strip() else default


def _ns(path: str) -> str:
    return "/".join(NAMESPACE + part for part in path.split("/"))


def _flag(text: str, default: bool = True) -> bool:
    return default if not text else text.strip().lower() == "true"


def _schedule(trigger: ET.Element) -> str:
    if trigger.find(_ns("ScheduleByDay")) is not None:
        interval = _text(trigger, "ScheduleByDay/DaysInterval", "1")
        return "daily" if interval == "1" else f"every {interval} days"
    week = trigger.find(_ns("ScheduleByWeek"))
    if week is not None:
        days = week.find(_ns("DaysOfWeek"))
        names = [child.tag.removeprefix(NAMESPACE) for child in days] if days is not None else []
        return "weekly " + (", ".join(names) if names else "(no day)")
    if trigger.find(_ns("ScheduleByMonth")) is not None or trigger.find(_ns("ScheduleByMonthDayOfWeek")) is not None:
        return "monthly"
    return ""


def parse_task_xml(data: bytes, source: str) -> ScheduledTask:
    """The facts of a task's XML; a malformed one is a problem. A DOCTYPE is refused (no entity expansion)."""
    text = _decode(data)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return ScheduledTask(source, False, f"{source} has a DOCTYPE: a Task Scheduler export never does")
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
        triggers.append(TaskTrigger(TRIGGER_KINDS.get(kind, kind), _flag(_text(trigger, "Enabled")),
                                    _text(trigger, "StartBoundary"), _schedule(trigger)))
    actions = []
    holder = root.find(_ns("Actions"))
    for action in holder.findall(_ns("Exec")) if holder is not None else ():
        actions.append(TaskAction(_text(action, "Command"), redact_text(_text(action, "Arguments")),
                                  _text(action, "WorkingDirectory")))
    settings = root.find(_ns("Settings"))
    return ScheduledTask(source, True, None, name=_text(root, "RegistrationInfo/URI"),
                         enabled=_flag(_text(settings, "Enabled")), triggers=tuple(triggers), actions=tuple(actions))
