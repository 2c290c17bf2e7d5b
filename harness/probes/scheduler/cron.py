"""A crontab (`crontab -l`, /etc/crontab, a file of /etc/cron.d): its job lines, commented-out ones as disabled,
CRON_TZ= for the schedule's zone (cronie), and NAME=value lines as the jobs' environment."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path

from harness.probes.scheduler.commands import follow_shell_script
from harness.probes.scheduler.facts import CRON, WEEKDAYS, ScheduledTask, TaskAction, TaskTrigger
from harness.probes.scheduler.files import EXPORT_HINT
from harness.probes.scheduler.timefields import MAX_TIMES_PER_TRIGGER, field_values
from harness.probes.scheduler.trace import ActionTrace, mask_secret

_CRON_SHORTHANDS = {"@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
                    "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@hourly": "0 * * * *"}
_CRON_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_CRON_LINE = re.compile(r"^(@\w+|\S+\s+\S+\s+\S+\s+\S+\s+\S+)\s+(.+)$")
_BOT_HINTS = ("bot", ".venv", ".bat", ".cmd", ".ps1")


def _cron_weekdays(field_text: str) -> tuple[str, ...] | None:
    text = field_text.lower()
    for name, number in _CRON_DAYS.items():
        text = text.replace(name, str(number))
    numbers = field_values(text, 0, 7)
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
    hours, minutes = field_values(hour, 0, 23), field_values(minute, 0, 59)
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
                environment.append((name, mask_secret(name, value)))
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
        trace = ActionTrace("")
        for name, value in environment:
            trace.environment.append((name, value))
        follow_shell_script(command, trace)
        words = command.split(None, 1)
        action = trace.action(words[0] if words else "", words[1] if len(words) > 1 else "", "")
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
