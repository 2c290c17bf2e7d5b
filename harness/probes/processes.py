"""Is the bot running? Process facts through psutil, where this user can see them.

A process matches when its command line holds the `--bot-process` text; given the bot's directory, a match is the
bot's only when its working directory is that directory (or inside it) or its command line names it: an
unrelated `python -m src.main` of another checkout on the same machine is shown, never taken for the bot. A
Python process whose command line this user may not read (Windows: a task run "with highest privileges") could be
the bot: it is counted apart, so that no check calls the bot stopped without looking.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.core.redact import redact_text


@dataclass(frozen=True, slots=True)
class BotProcess:
    pid: int
    command: str  # redacted
    cwd: str | None = None  # None: this user may not read it
    bots: bool = True  # the bot's own (in its directory), or any match when no directory was given

    def describe(self) -> str:
        return f"pid {self.pid} in {self.cwd or 'an unreadable folder'}: {self.command[:160]}"


@dataclass(frozen=True)
class ProcessFacts:
    looked: bool
    problem: str | None = None
    pattern: str = ""
    matches: tuple[BotProcess, ...] = ()  # the bot's own (BotProcess.bots) and the others that matched
    hidden: int = 0  # processes whose command line this user may not read
    hidden_python: tuple[int, ...] = ()  # ... of which Python interpreters (pids): each could be the bot
    bot_dir: str | None = None

    @property
    def bots(self) -> tuple[BotProcess, ...]:
        return tuple(match for match in self.matches if match.bots)

    @property
    def elsewhere(self) -> tuple[BotProcess, ...]:
        """Matches outside the bot's directory: another program that happens to match, never stopped."""
        return tuple(match for match in self.matches if not match.bots)


def _inside(folder: str | None, root: Path) -> bool:
    if not folder:
        return False
    try:
        Path(folder).resolve().relative_to(root)
    except (OSError, ValueError):
        return False
    return True


def find_bot_processes(pattern: str, bot_dir: Path | None = None) -> ProcessFacts:
    """Processes whose command line contains `pattern` (e.g. `src.main`), this process excluded; with `bot_dir`,
    each says whether it is the bot's (its folder, or its command line names the folder)."""
    try:
        import psutil
    except ImportError:
        return ProcessFacts(False, "psutil is not installed; cannot list processes", pattern)
    me = os.getpid()
    root = Path(bot_dir).resolve() if bot_dir is not None else None
    matches: list[BotProcess] = []
    hidden, hidden_python = 0, []
    try:
        for proc in psutil.process_iter(["pid", "cmdline", "name", "status"]):
            if proc.info["pid"] == me or proc.info.get("status") == psutil.STATUS_ZOMBIE:
                continue  # a zombie has ended: it runs nothing, and its command line reads as unreadable
            cmdline = proc.info.get("cmdline")
            if cmdline is None:
                hidden += 1
                if "python" in str(proc.info.get("name") or "").lower():
                    hidden_python.append(proc.info["pid"])
                continue
            command = " ".join(cmdline)
            if not pattern or pattern not in command:
                continue
            try:
                cwd = proc.cwd()
            except (psutil.Error, OSError):
                cwd = None
            bots = root is None or _inside(cwd, root) or str(root) in command
            matches.append(BotProcess(proc.info["pid"], redact_text(command), cwd, bots))
    except (psutil.Error, OSError) as exc:
        return ProcessFacts(False, f"cannot list processes: {exc}", pattern)
    return ProcessFacts(True, None, pattern, tuple(matches), hidden, tuple(hidden_python),
                        str(root) if root is not None else None)
