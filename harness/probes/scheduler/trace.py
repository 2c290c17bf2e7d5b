"""What one action does, gathered while its command line and wrappers are read: environment, directory,
interpreter; secrets masked as they are set."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

from harness.core.redact import MASK, is_secret_setting, redact_text
from harness.probes.scheduler.facts import TaskAction


def _secret(name: str, value: str) -> bool:
    return bool(value.strip()) and is_secret_setting(name, value)


def mask_secret(name: str, value: str) -> str:
    """`value` as recorded for the setting `name`: masked when it is a secret."""
    return MASK if _secret(name, value) else value


class ActionTrace:
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
        self.shell_vars: dict[str, str] = {}  # `VAR=v` alone: a shell variable, exported later by `export VAR`
        self.allexport = False  # `set -a`: every assignment after it is exported
        self.time_limit: timedelta | None = None  # `timeout 4h python ...`: the wrapper stops the bot after it
        self.time_limit_unread = ""  # such a limit as written, when it cannot be read

    def set(self, name: str, value: str) -> None:
        if _secret(name, value):
            self.secrets.append(value.strip())
        self.environment.append((name, mask_secret(name, value)))

    def cd(self, target: str) -> None:
        target = target.strip().strip("\"'")
        if self.here:  # the wrapper's own folder, as each shell writes it
            sep = "\\" if "\\" in self.here else "/"
            target = re.sub(r"%~dp0", lambda _: self.here + sep, target, flags=re.I)
            target = re.sub(r"\$PSScriptRoot", lambda _: self.here, target, flags=re.I)
            target = self.here if re.search(r"dirname\b.*\$0", target) else target
        if not target:
            return
        if is_absolute(target) or not self.directory:
            self.directory = target
        else:
            self.directory = join_path(self.directory, target)

    def activate(self, script: str) -> None:
        # .venv\Scripts\activate.bat or .venv/bin/activate: the environment is two levels up
        parts = re.split(r"[\\/]", script.strip("\"'"))
        root = "/".join(parts[:-2]) if len(parts) > 2 else "."
        self.activated = root if is_absolute(root) or not self.directory else join_path(self.directory, root)

    def python(self, word: str) -> None:
        if not self.interpreter:
            self.interpreter = word.strip("\"'")

    def action(self, command: str, arguments: str, working_directory: str) -> TaskAction:
        command, arguments = redact_text(command, self.secrets), redact_text(arguments, self.secrets)
        return TaskAction(command, arguments, working_directory, tuple(self.environment), self.wrapper,
                          self.wrapper_problem, self.directory, _env_in(self.directory), self.interpreter,
                          self.activated, self.time_limit, self.time_limit_unread)


def is_absolute(path: str) -> bool:
    """Absolute on Windows or POSIX (`C:\\bot`, `\\bot`, `/opt/bot`, `~/bot`), whichever system reads it."""
    return bool(re.match(r"^([A-Za-z]:[\\/]|[\\/])", path)) or path.startswith("~")


def join_path(directory: str, relative: str) -> str:
    """`relative` under `directory`, with the separator `directory` is written with."""
    separator = "\\" if "\\" in directory or re.match(r"^[A-Za-z]:", directory) else "/"
    return directory.rstrip("\\/") + separator + relative


def _env_in(directory: str) -> str | None:
    """The .env the bot would find in `directory` ("" none), or None when the directory cannot be looked at here
    (a Windows path read on another system, a relative one)."""
    if not directory or not is_absolute(directory):
        return None
    folder = Path(os.path.expanduser(directory))
    if not folder.is_absolute() or not folder.is_dir():
        return None
    candidate = folder / ".env"
    try:
        return str(candidate) if candidate.is_file() else ""
    except OSError:
        return None
