"""The bot directory's own Python environment: the in-project virtual environment, and whether Poetry runs it."""

from __future__ import annotations

import os
from pathlib import Path

from harness.probes.envfile import NotReadable, read_regular_file
from harness.probes.scheduler.facts import BotPython
from harness.probes.scheduler.files import MAX_TASK_BYTES


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
