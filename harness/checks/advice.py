"""Advice fitted to the machine the operator is on: how to stop the bot, find its process, and change what starts
it, in the words of that platform (Task Manager and Task Scheduler on Windows; `kill`, `systemctl` and
`crontab -e` on Linux; Activity Monitor and `kill` on macOS).

The platform is an input: every function takes `platform` (a `sys.platform` value), and without it asks
`current_platform()`, the one place that reads `sys.platform`, so a test can pin it.
"""

from __future__ import annotations

import sys

WINDOWS, LINUX, MACOS = "windows", "linux", "macos"


def current_platform() -> str:
    """This machine's `sys.platform`."""
    return sys.platform


def family(platform: str | None = None) -> str:
    """"windows", "macos" or "linux" (every other POSIX system is advised as Linux is) for a `sys.platform` value."""
    name = (current_platform() if platform is None else platform).lower()
    if name.startswith(("win", "cygwin", "msys")):
        return WINDOWS
    if name.startswith("darwin") or name in (MACOS, "mac", "macos", "osx"):
        return MACOS
    return LINUX


def stop_the_bot(platform: str | None = None) -> str:
    """How to stop the bot's process by hand."""
    return {
        WINDOWS: "Task Manager -> Details -> the bot's python.exe -> End Task",
        MACOS: "Activity Monitor -> the bot's python -> Quit, Force Quit if it stays; or `kill PID` in Terminal",
        LINUX: "`kill PID`, `kill -9 PID` if it stays; `systemctl stop UNIT` when a systemd service runs it",
    }[family(platform)]


def find_the_process(platform: str | None = None) -> str:
    """How to see which processes run the bot (their command lines)."""
    return {
        WINDOWS: "Task Manager -> Details, with the \"Command line\" column shown",
        MACOS: "Activity Monitor (search: python), or `pgrep -lf python` in Terminal",
        LINUX: "`pgrep -af python` or `ps -ef | grep python`",
    }[family(platform)]


def change_the_schedule(platform: str | None = None, kind: str | None = None) -> str:
    """Where to change what starts the bot: by the kind of scheduler read (`kind`: "Task Scheduler", "systemd timer",
    "cron"), else by the platform."""
    if kind is not None:
        lowered = kind.lower()
        if lowered.startswith("task scheduler"):
            return "Task Scheduler -> the task -> Properties"
        if lowered.startswith("systemd"):
            return "`systemctl edit --full UNIT`, then `systemctl daemon-reload`"
        if lowered.startswith("cron"):
            return "`crontab -e` (as the user whose crontab it is)"
    return {
        WINDOWS: "Task Scheduler -> the task -> Properties",
        MACOS: "`crontab -e`, or the launchd job's plist (`launchctl`)",
        LINUX: "`crontab -e`, or `systemctl edit --full UNIT` for a systemd timer",
    }[family(platform)]


def enable_the_schedule(platform: str | None = None, kind: str | None = None) -> str:
    """How to re-enable what starts the bot: by the kind of scheduler read, else by the platform."""
    if kind is not None:
        lowered = kind.lower()
        if lowered.startswith("task scheduler"):
            return "Task Scheduler -> the task -> Enable"
        if lowered.startswith("systemd"):
            return "`systemctl enable --now UNIT.timer`"
        if lowered.startswith("cron"):
            return "`crontab -e` and remove the `#` before its line"
    return {
        WINDOWS: "Task Scheduler -> the task -> Enable",
        MACOS: "`crontab -e`, or `launchctl load` the launchd job",
        LINUX: "`systemctl enable --now UNIT.timer`, or `crontab -e` for a cron line",
    }[family(platform)]


def check_the_schedule(platform: str | None = None) -> str:
    """Where to see whether (and when) the scheduler started the bot."""
    return {
        WINDOWS: "Task Scheduler -> the task -> History and Triggers",
        MACOS: "`crontab -l` and `log show --predicate 'process == \"cron\"'`, or `launchctl list`",
        LINUX: "`systemctl list-timers` and `journalctl -u UNIT`, or `crontab -l` and `journalctl -t CRON`",
    }[family(platform)]


def halt(platform: str | None = None) -> str:
    """The line a critical failure ends with."""
    return f"HALT THE BOT NOW ({stop_the_bot(platform)}), then follow the seed's emergency procedure."
