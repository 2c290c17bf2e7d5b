"""What starts the bot on the first day (the seed's "Bot auto-starts at 6:00 AM ET via Task Scheduler" and its
"Task Scheduler auto-start reverting mode" edge case): the scheduler's own definition fires at 06:00 New York time
on every trading weekday, all year, and what it runs does not bring back dry-run or live. Pure: facts in,
`CheckFailed` / `CouldNotLook` out."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from harness.checks import CheckFailed, CouldNotLook, advice
from harness.core import clock
from harness.core.ibkr import LIVE_PORTS, PAPER_PORTS
from harness.probes.envfile import same_file_path, strict_bool
from harness.probes.scheduler import CRON, TASK_SCHEDULER, WEEKDAYS, ScheduledTask, TaskAction, TaskTrigger

NEW_YORK = "America/New_York"
_OFFSET = re.compile(r"^([+-])(\d\d):(\d\d)$")
_TRUTHY = {"1", "true", "t", "yes", "y"}  # python-dotenv's reading of PYTHON_DOTENV_DISABLED
ENV_WINS = "the task's environment wins over the .env (python-dotenv never overrides a variable already set)"


def _name(task: ScheduledTask) -> str:
    return f"the {task.kind} {task.name or task.source}"


def _require_readable(task: ScheduledTask) -> None:
    if not task.looked:
        raise CouldNotLook(f"what starts the bot could not be read: {task.problem}")


# --- when it fires --------------------------------------------------------------------------------------------

def _zone(text: str) -> tzinfo | None:
    offset = _OFFSET.match(text)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _year_of_days(first: date) -> Iterable[date]:
    return (first + timedelta(days=n) for n in range(366))


def _describe(trigger: TaskTrigger, zone_text: str | None) -> str:
    days = ", ".join(trigger.days) if trigger.days else "every day"
    at = f"{trigger.time_of_day:%H:%M}" if trigger.time_of_day else trigger.start
    where = trigger.zone or (f"no zone: the machine's {zone_text}" if zone_text else "the machine's local time")
    return f"{trigger.kind} trigger {at} ({where}), {days}"


def _misfires(trigger: TaskTrigger, zone: tzinfo, at: time, new_york: tzinfo, first: date) -> str | None:
    """None when the trigger fires at `at` New York time on every weekday of a year from `first`; else what it
    does instead, grouped by the New York times it fires at."""
    assert trigger.time_of_day is not None
    days = {WEEKDAYS.index(day) for day in trigger.days} if trigger.days else set(range(7))
    fired: dict[date, list[time]] = {}
    for local in (first - timedelta(days=1), *_year_of_days(first), first + timedelta(days=366)):
        if local.weekday() in days:
            instant = datetime.combine(local, trigger.time_of_day, tzinfo=zone).astimezone(new_york)
            fired.setdefault(instant.date(), []).append(instant.time().replace(microsecond=0))
    wrong: dict[tuple[time, ...], list[date]] = {}
    right = 0
    for day in _year_of_days(first):
        if day.weekday() >= 5:
            continue
        times = tuple(sorted(fired.get(day, [])))
        if at in times:
            right += 1
        else:
            wrong.setdefault(times, []).append(day)
    if not wrong:
        return None
    parts = [f"at {at:%H:%M} on {right} weekdays"] if right else []
    for times, missed in sorted(wrong.items(), key=lambda item: item[1][0]):
        when = " and ".join(f"{t:%H:%M}" for t in times) if times else "not at all"
        shown = "at " + when if times else when
        parts.append(f"{shown} on {len(missed)} weekdays (e.g. {missed[0]:%A %Y-%m-%d})")
    return "; ".join(parts)


def _boundary_instant(text: str, zone) -> datetime | None:
    """A Task Scheduler boundary (`2027-01-01T06:00:00`, with or without an offset) as an instant; None unread."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _outside_boundaries(trigger: TaskTrigger, zone) -> str:
    """Why the trigger does not fire now: its StartBoundary is still to come, or its EndBoundary has passed."""
    now = clock.now()
    begins = _boundary_instant(trigger.start, zone) if trigger.start else None
    if begins is not None and begins > now:
        return f"starts only at {trigger.start} (StartBoundary): it has not fired yet"
    ends = _boundary_instant(trigger.end, zone) if trigger.end else None
    if ends is not None and ends <= now:
        return f"expired at {trigger.end} (EndBoundary): it fires no more"
    return ""


def check_starts_at(task: ScheduledTask, at: time, *, machine_zone: str | None, zone: str = NEW_YORK) -> None:
    """An enabled trigger of an enabled task fires at `at` in `zone` (America/New_York) on every weekday (the NYSE
    trading days are weekdays), all year: across both daylight-saving changes. A trigger without a zone fires
    in the machine's local time (`machine_zone`, e.g. --bot-log-tz); a fixed offset (Task Scheduler's
    "Synchronize across time zones") is right only half the year in New York."""
    _require_readable(task)
    name = _name(task)
    wanted = f"{at:%H:%M} {zone}"
    if task.enabled is False:
        raise CheckFailed("The bot's scheduled task is disabled",
                          f"{name} is disabled: enable it ({advice.enable_the_schedule(kind=task.kind)}), or the bot "
                          f"will not start at {wanted} on trading days")
    new_york = _zone(zone)
    if new_york is None:
        raise CouldNotLook(f"the time zone {zone!r} is not known to this machine's tz database")
    first = date(clock.now().astimezone(new_york).year, 1, 1)
    wrong: list[str] = []
    unknown: list[str] = []
    passed: TaskTrigger | None = None
    for trigger in task.triggers:
        if trigger.time_of_day is None or trigger.irregular:
            if trigger.enabled and trigger.irregular:
                wrong.append(f"{trigger.kind} trigger {trigger.start!r} fires {trigger.irregular}")
            continue
        if not trigger.enabled:
            wrong.append(f"{_describe(trigger, trigger.zone)} is disabled")
            continue
        if task.kind == CRON and trigger.zone and trigger.zone != machine_zone:
            # Which cron reads the crontab decides: cronie honours CRON_TZ=, Debian's and Ubuntu's cron ignore it.
            unknown.append(f"{_describe(trigger, trigger.zone)} sets CRON_TZ={trigger.zone}, which cronie (Fedora, "
                           "RHEL) honours and Debian's and Ubuntu's cron ignore (they fire in the machine's zone): say "
                           "the machine's zone (--bot-log-tz), or confirm which cron runs this crontab")
            continue
        zone_text = trigger.zone or machine_zone
        if zone_text is None:
            unknown.append(f"{_describe(trigger, None)} has no time zone, so it fires in the machine's local time; "
                           "say which zone the machine runs in (--bot-log-tz, e.g. America/New_York)")
            continue
        trigger_zone = _zone(zone_text)
        if trigger_zone is None:
            wrong.append(f"{_describe(trigger, zone_text)}: {zone_text!r} is not a time zone the scheduler knows")
            continue
        bounded = _outside_boundaries(trigger, trigger_zone)
        if bounded:
            wrong.append(f"{_describe(trigger, zone_text)} {bounded}")
            continue
        misfires = _misfires(trigger, trigger_zone, at, new_york, first)
        if misfires is None and trigger.random_delay_unread:
            unknown.append(f"{_describe(trigger, zone_text)} has a random delay {trigger.random_delay_unread!r} "
                           "(RandomDelay, RandomizedDelaySec=) that cannot be read: confirm it has none")
            continue
        if misfires is None and trigger.random_delay:
            wrong.append(f"{_describe(trigger, zone_text)} fires at a random time up to {trigger.random_delay} later "
                         "(RandomDelay, RandomizedDelaySec=, AccuracySec= beyond 1 min): remove the delay")
            continue
        if misfires is None:
            passed = trigger
            break
        why = ""
        if _OFFSET.match(zone_text):
            why = (f" (the fixed offset {zone_text} does not follow daylight saving time: untick \"Synchronize across "
                   "time zones\" on a machine set to Eastern Time, or write the trigger without an offset)")
        wrong.append(f"{_describe(trigger, zone_text)} fires, New York time, {misfires}{why}")
    if passed is not None:
        if task.enabled is None:
            raise CouldNotLook(f"{name} fires at {wanted} on weekdays, but whether it is enabled is not in its "
                               f"definition: {' '.join(task.notes) or 'confirm it is enabled'}")
        return
    if unknown:
        raise CouldNotLook("; ".join(unknown))
    if not wrong:
        kinds = ", ".join(sorted({t.kind for t in task.triggers})) or "no trigger"
        raise CheckFailed("The bot is not started at a time of day",
                          f"{name} has {kinds}: none starts the bot at {wanted} on trading days")
    raise CheckFailed(f"The bot is not started at {at:%H:%M} New York time on every trading day",
                      f"{name}: " + "; ".join(wrong) + f". Expected: {wanted}, Monday to Friday, all year")


# --- what it runs ---------------------------------------------------------------------------------------------

def _environment_faults(action: TaskAction, windows: bool) -> list[tuple[str, str, bool]]:
    """(title, text, critical) for each mode setting the action's environment or wrapper changes."""
    # The last assignment wins; Windows names are case-insensitive (os.environ upper-cases them there).
    values = {name.upper() if windows else name: value for name, value in action.environment}
    where = f" (in {action.wrapper})" if action.wrapper else ""
    faults: list[tuple[str, str, bool]] = []
    dry, paper = values.get("DRY_RUN"), values.get("PAPER_TRADING")
    if dry is not None:
        if strict_bool(dry) is True:
            faults.append(("The scheduled task brings back dry-run mode",
                           f"it sets DRY_RUN=true{where}: {ENV_WINS}", False))
        elif strict_bool(dry) is None:
            faults.append(("The scheduled task sets an unclear mode",
                           f"it sets DRY_RUN={dry!r}{where}, not exactly true or false (cmd's `set X=v && ...` keeps "
                           f"the space before &&): {ENV_WINS}", False))
    if paper is not None:
        if strict_bool(paper) is False:
            faults.append(("The scheduled task starts the bot in LIVE mode",
                           f"it sets PAPER_TRADING=false{where}: with DRY_RUN=false that is live trading; "
                           f"{ENV_WINS}", True))
        elif strict_bool(paper) is None:
            faults.append(("The scheduled task may start the bot in LIVE mode",
                           f"it sets PAPER_TRADING={paper!r}{where}, not exactly true or false: a bot that reads it "
                           f"as false trades live; {ENV_WINS}", True))
    port = values.get("IBKR_PORT")
    if port is not None:
        number = int(port.strip()) if port.strip().isdigit() else None
        if number in LIVE_PORTS:
            faults.append(("The scheduled task points the bot at a LIVE port",
                           f"it sets IBKR_PORT={port}{where}, the {LIVE_PORTS[number]} trading port; {ENV_WINS}", True))
        elif number not in PAPER_PORTS:
            faults.append(("The scheduled task changes the bot's port",
                           f"it sets IBKR_PORT={port!r}{where}, not a paper port (4002); {ENV_WINS}", False))
    disabled = values.get("PYTHON_DOTENV_DISABLED")
    if disabled is not None and disabled.strip().casefold() in _TRUTHY:
        faults.append(("The scheduled task makes the bot ignore its .env",
                       f"it sets PYTHON_DOTENV_DISABLED={disabled}{where}: python-dotenv loads nothing", True))
    return faults


def _path_key(text: str) -> str:
    """A path as Windows compares them (case, separators, `..`), without touching the file system."""
    return os.path.normcase(os.path.normpath(text.strip().strip('"')))


def _inside(path: str, folder: str) -> bool:
    inner, outer = _path_key(os.path.abspath(path)), _path_key(os.path.abspath(folder))
    return inner == outer or inner.startswith(outer.rstrip("\\/") + os.sep) or inner.startswith(outer + "\\")


def _venv_python(venv: str) -> str:
    windows = "\\" in venv or re.match(r"^[A-Za-z]:", venv)
    return venv + ("\\Scripts\\python.exe" if windows else "/bin/python")


def _interpreter_fault(action: TaskAction, task: ScheduledTask, bot_dir: Path) -> tuple[str | None, str | None]:
    """(failure, could not tell) about the python the action runs against the bot directory's own."""
    interpreter = action.interpreter
    path_like = bool(re.search(r"[\\/]", interpreter))
    where = interpreter
    if path_like and not re.match(r"^([A-Za-z]:[\\/]|[\\/]|~)", interpreter) and action.directory:
        where = os.path.join(action.directory, interpreter)
    if path_like and _inside(where, str(bot_dir)):
        return None, None  # a python inside the bot's directory is its own environment's
    bot = task.bot_python
    if bot is None or not same_file_path(os.path.abspath(bot.bot_dir), os.path.abspath(bot_dir)):
        return None, f"the Python environment of {bot_dir} was not read with the task"
    if not bot.venv and not bot.poetry:
        return None, None  # the bot has no environment of its own: any python runs the same code
    expected = f"{_venv_python(bot.venv)}" if bot.venv else "`poetry run python`"
    own = f"the bot's own environment is {bot.venv or 'managed by Poetry'} ({expected})"
    if not interpreter:
        runs = f"{action.command} {action.arguments}".strip()[:200] + (f", {action.wrapper}" if action.wrapper else "")
        return None, f"no python is seen in what it runs ({runs}); {own}"
    if interpreter.endswith(" run"):
        runner = re.split(r"[\\/]", interpreter.split()[0])[-1].lower().removesuffix(".exe")
        if (runner == "poetry" and bot.poetry) or (runner in {"uv", "poetry"} and bot.venv):
            return None, None
        return f"it runs `{interpreter} ...`, but {own}", None
    if path_like:
        if bot.venv and _inside(where, bot.venv):
            return None, None
        if not bot.venv and "pypoetry" in where.lower():
            return None, None
        return f"it runs {interpreter}, not the bot's interpreter: {own}", None
    if action.activated and bot.venv and _path_key(os.path.abspath(action.activated)) == _path_key(bot.venv):
        return None, None
    return (f"it runs `{interpreter}` found on the PATH (a system python, without the bot's packages), while {own}",
            None)


def _directory_fault(action: TaskAction, bot_dir: Path, bot_env: Path | None) -> tuple[str | None, str | None]:
    """(failure, could not tell) about the directory the bot runs in and the .env it would read there."""
    if not action.directory:
        return None, (f"it sets no working directory (it runs in the scheduler's default): set it to {bot_dir} "
                      "so the bot reads its own .env")
    if same_file_path(os.path.abspath(os.path.expanduser(action.directory)), os.path.abspath(bot_dir)):
        return None, None
    if action.directory_env is None:
        return None, f"it runs in {action.directory}, which cannot be looked at from here (does it hold a .env?)"
    if not action.directory_env:
        return None, None
    own = bot_env if bot_env is not None else bot_dir / ".env"
    if same_file_path(os.path.abspath(action.directory_env), os.path.abspath(own)):
        return None, None
    return (f"it runs in {action.directory}, not in the bot's directory {bot_dir}, and that directory holds another "
            f".env ({action.directory_env}): the bot would read that one, not {own}", None)


def check_keeps_paper_mode(task: ScheduledTask, *, bot_dir: Path | None, bot_env: Path | None) -> None:
    """What the task runs keeps the bot in paper mode: no environment (on its command line or in its wrapper)
    setting DRY_RUN=true, PAPER_TRADING=false, a live port or PYTHON_DOTENV_DISABLED; it runs in the bot's
    directory (or one without another .env); and with the bot's own interpreter (its .venv / Poetry env)."""
    _require_readable(task)
    name = _name(task)
    if not task.actions:
        raise CheckFailed("The bot's scheduled task starts nothing", f"{name} has no program to start")
    faults: list[tuple[str, str, bool]] = []
    unknown: list[str] = []
    for action in task.actions:
        faults.extend(_environment_faults(action, windows=task.kind == TASK_SCHEDULER))
        if action.wrapper_problem:
            unknown.append(f"its wrapper could not be read: {action.wrapper_problem}")
        if bot_dir is None:
            unknown.append("no --bot-dir: the task's directory and interpreter were not compared with the bot's")
            continue
        for title, (fault, could_not) in (
                ("The scheduled task runs the bot beside another .env", _directory_fault(action, bot_dir, bot_env)),
                ("The scheduled task runs another python", _interpreter_fault(action, task, bot_dir))):
            if fault:
                faults.append((title, fault, False))
            if could_not:
                unknown.append(could_not)
    if faults:
        critical = any(f[2] for f in faults)
        title = next((f[0] for f in faults if f[2]), faults[0][0])
        raise CheckFailed(title, f"{name}: " + "; ".join(dict.fromkeys(f[1] for f in faults)) +
                          f". Remove it from the task (or its wrapper: {advice.change_the_schedule(kind=task.kind)}), "
                          "then restart the bot", critical=critical)
    if unknown:
        raise CouldNotLook(f"{name}: " + "; ".join(dict.fromkeys(unknown)))


def _limit_setting(kind: str) -> str:
    """Where the scheduler of `kind` keeps the time limit it stops the bot at."""
    if kind == TASK_SCHEDULER:
        return "Task Scheduler -> the task -> Settings -> \"Stop the task if it runs longer than\""
    if kind == CRON:
        return "its crontab line (`crontab -e`)"
    return f"RuntimeMaxSec= in its service ({advice.change_the_schedule(kind=kind)})"


def check_runs_all_day(task: ScheduledTask, *, start: time, until: time) -> None:
    """The scheduler lets the bot it started at `start` run past `until` (the gateway's restart, 16:30 ET): no
    ExecutionTimeLimit / RuntimeMaxSec= shorter than that (Task Scheduler stops the bot when it is reached), and
    a task that runs whether or not the user is logged on (else it is operator to confirm)."""
    _require_readable(task)
    name = _name(task)
    unread = [task.time_limit_unread] if task.time_limit_unread else []
    unread += [action.time_limit_unread for action in task.actions if action.time_limit_unread]
    if unread:
        raise CouldNotLook(f"{name}'s time limit {unread[0]!r} (ExecutionTimeLimit, RuntimeMaxSec=, a `timeout` "
                           f"wrapper) cannot be read: confirm it lets the bot started at {start:%H:%M} run past "
                           f"{until:%H:%M}")
    day = datetime.combine(date(2000, 1, 3), until) - datetime.combine(date(2000, 1, 3), start)
    limits = [(task.time_limit, _limit_setting(task.kind))] if task.time_limit is not None else []
    limits += [(action.time_limit, "the `timeout` its command line runs the bot under") for action in task.actions
               if action.time_limit is not None]
    for limit, where in sorted(limits, key=lambda pair: pair[0]):
        if limit < day:
            stopped = (datetime.combine(date(2000, 1, 3), start) + limit).time()
            raise CheckFailed("The scheduler stops the bot during the trading day",
                              f"{name} stops what it started after {limit} ({where}): started at {start:%H:%M} the "
                              f"bot is stopped at {stopped:%H:%M}, before {until:%H:%M}. Remove the limit or raise it "
                              "above a day")
    if task.runs_logged_off is False:
        raise CouldNotLook(f"{name} runs only while the user is logged on: confirm the user stays logged on at "
                           f"{start:%H:%M} (after a night's Windows Update restart too), or choose \"Run whether "
                           "user is logged on or not\"")
