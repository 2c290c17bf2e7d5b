"""What starts the bot (`--scheduler-task`), read as plain facts: a Windows Task Scheduler task, a systemd timer
and its service, or a crontab line.

Task Scheduler: from a file exported with `schtasks /Query /TN NAME /XML > task.xml` (any machine), or, on
Windows, by asking `schtasks` for the named task (bounded by the timeout). systemd: the `.timer` file (its
`.service` is read from beside it). cron: a crontab (`crontab -l > cron.txt`, or a file of /etc/cron.d).
For each trigger: when it fires (time of day, zone, weekdays); for each action: what it runs, in which directory,
with which interpreter, and the environment it sets on its command line or in the wrapper script it runs (read,
bounded). Never raises for a fault of the world: a missing task, an unreadable or malformed file, a schtasks
that fails or hangs is a `problem`; a wrapper that cannot be read is the action's `wrapper_problem`.

This module tells which kind a definition is; one module reads each kind (windows_task, systemd, cron), commands
and wrappers follow what an action runs, facts holds what they all return.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from harness.probes.envfile import NotReadable, read_regular_file
from harness.probes.scheduler.bot_python import read_bot_python
from harness.probes.scheduler.cron import parse_crontab
from harness.probes.scheduler.facts import (
    CRON,
    SYSTEMD,
    TASK_SCHEDULER,
    WEEKDAYS,
    BotPython,
    ScheduledTask,
    TaskAction,
    TaskTrigger,
)
from harness.probes.scheduler.files import EXPORT_HINT, MAX_TASK_BYTES, decode_text, is_binary
from harness.probes.scheduler.systemd import parse_systemd_timer
from harness.probes.scheduler.timefields import MAX_TIMES_PER_TRIGGER
from harness.probes.scheduler.windows_task import NAMESPACE, TRIGGER_KINDS, parse_task_xml, query_schtasks
from harness.probes.scheduler.wrappers import MAX_WRAPPER_BYTES

__all__ = [
    "CRON",
    "EXPORT_HINT",
    "MAX_TASK_BYTES",
    "MAX_TIMES_PER_TRIGGER",
    "MAX_WRAPPER_BYTES",
    "NAMESPACE",
    "SYSTEMD",
    "TASK_SCHEDULER",
    "TRIGGER_KINDS",
    "WEEKDAYS",
    "BotPython",
    "ScheduledTask",
    "TaskAction",
    "TaskTrigger",
    "parse_crontab",
    "parse_systemd_timer",
    "parse_task_file",
    "parse_task_xml",
    "read_bot_python",
    "read_scheduled_task",
]


def read_scheduled_task(spec: str | None, *, timeout: float = 10.0, bot_dir: Path | str | None = None
                        ) -> ScheduledTask:
    """The task `spec` names: an exported XML file, a systemd .timer, a crontab, or (Windows) a task name.
    With `bot_dir`, the bot directory's own Python environment is read too (for the interpreter check)."""
    task = _read(spec, timeout)
    if task.looked and bot_dir is not None:
        return replace(task, bot_python=read_bot_python(Path(bot_dir)))
    return task


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
    return query_schtasks(spec, timeout)


def parse_task_file(data: bytes, path: Path) -> ScheduledTask:
    """Which kind of definition the file holds, told from its text rather than its name (an export may be
    saved as anything)."""
    text = decode_text(data)
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return parse_task_xml(data, str(path))
    if is_binary(text):
        return ScheduledTask(str(path), False, f"{path} is binary, not a task's XML, a systemd timer or a crontab")
    if re.search(r"^\s*\[Timer\]\s*$", text, re.M) or path.suffix == ".timer":
        return parse_systemd_timer(text, path)
    return parse_crontab(text, str(path))
