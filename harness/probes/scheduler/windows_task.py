"""A Windows Task Scheduler task: from its XML (an export, any machine), or, on Windows, asked of `schtasks`
(bounded by the timeout). Its triggers, its Exec actions followed, its time limit and logon type."""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from datetime import time, timedelta

from harness.core.redact import redact_text
from harness.probes.scheduler.commands import follow_windows_action
from harness.probes.scheduler.facts import TASK_SCHEDULER, ScheduledTask, TaskTrigger
from harness.probes.scheduler.files import EXPORT_HINT, decode_text
from harness.probes.scheduler.trace import ActionTrace

NAMESPACE = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"
TRIGGER_KINDS = {"CalendarTrigger": "calendar", "TimeTrigger": "once", "BootTrigger": "at startup",
                 "LogonTrigger": "at log on", "IdleTrigger": "on idle", "EventTrigger": "on an event",
                 "RegistrationTrigger": "when registered", "SessionStateChangeTrigger": "on a session change"}


def query_schtasks(name: str, timeout: float) -> ScheduledTask:
    """The task `name` as `schtasks` exports it, on Windows; elsewhere, or when schtasks fails, a problem."""
    source = f"schtasks /Query /TN {name}"
    if os.name != "nt":
        return ScheduledTask(source, False, f"{name!r} is not a file, and Task Scheduler can be asked only on Windows: "
                                            f"{EXPORT_HINT}")
    try:
        done = subprocess.run(["schtasks", "/Query", "/TN", name, "/XML", "ONE"], capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return ScheduledTask(source, False, f"schtasks did not answer within {timeout:g} s")
    except OSError as exc:
        return ScheduledTask(source, False, f"schtasks cannot be run: {exc}")
    if done.returncode != 0:
        why = decode_text(done.stderr or done.stdout).strip().splitlines()
        return ScheduledTask(source, False, f"schtasks failed (exit {done.returncode}): "
                                            f"{redact_text(why[0] if why else 'no output')[:300]}")
    return parse_task_xml(done.stdout, source)


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
    text = decode_text(data)
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
        delay_text = _text(trigger, "RandomDelay", "PT0S")
        delay = _iso_duration(delay_text)
        triggers.append(TaskTrigger(TRIGGER_KINDS.get(kind, kind), _flag(_text(trigger, "Enabled")), start,
                                    schedule, at, zone, days, irregular, delay or timedelta(0),
                                    delay_text if delay is None else "", _text(trigger, "EndBoundary")))
    actions = []
    holder = root.find(_ns("Actions"))
    for action in holder.findall(_ns("Exec")) if holder is not None else ():
        command, arguments = _text(action, "Command"), _text(action, "Arguments")
        directory = _text(action, "WorkingDirectory")
        trace = ActionTrace(directory)
        follow_windows_action(command, arguments, trace)
        actions.append(trace.action(command, arguments, directory))
    settings = root.find(_ns("Settings"))
    limit_text = _text(settings, "ExecutionTimeLimit", "PT72H")  # Task Scheduler's default: 3 days
    limit = _iso_duration(limit_text)
    logon = _text(root, "Principals/Principal/LogonType")
    return ScheduledTask(source, True, None, name=_text(root, "RegistrationInfo/URI"),
                         enabled=_flag(_text(settings, "Enabled")), triggers=tuple(triggers), actions=tuple(actions),
                         kind=TASK_SCHEDULER, time_limit=limit or None,
                         time_limit_unread=limit_text if limit is None else "",
                         runs_logged_off=None if not logon else logon != "InteractiveToken")


_ISO_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _iso_duration(text: str) -> timedelta | None:
    """PT72H, P1DT2H, PT0S (zero: no limit) -> a timedelta; None when unreadable."""
    match = _ISO_DURATION.match(text.strip())
    if not match or text.strip() in {"P", "PT"}:
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
