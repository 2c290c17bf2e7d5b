"""The facts the scheduler probe reads: what starts the bot, when, and what it runs (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta

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
    random_delay_unread: str = ""  # the random delay as written when it cannot be read ("" when read or absent)
    end: str = ""  # Task Scheduler's EndBoundary as written: the trigger never fires after it ("" when none)


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
    time_limit: timedelta | None = None  # a wrapper's own limit (`timeout 4h python ...`)
    time_limit_unread: str = ""  # ... as written, when it cannot be read


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
    #                                      RuntimeMaxSec=); None: never, or see time_limit_unread
    time_limit_unread: str = ""  # the time limit as written when it cannot be read ("" when read or absent)
    runs_logged_off: bool | None = None  # Task Scheduler: False when it runs only while the user is logged on
