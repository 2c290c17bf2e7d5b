"""Is the bot running? Process facts through psutil, where this user can see them."""

from __future__ import annotations

import os
from dataclasses import dataclass

from harness.evidence.redact import redact_text


@dataclass(frozen=True, slots=True)
class BotProcess:
    pid: int
    command: str  # redacted


@dataclass(frozen=True)
class ProcessFacts:
    looked: bool
    problem: str | None = None
    pattern: str = ""
    matches: tuple[BotProcess, ...] = ()
    hidden: int = 0  # processes whose command line this user may not read


def find_bot_processes(pattern: str) -> ProcessFacts:
    """Processes whose command line contains `pattern` (e.g. `src.main`), this process excluded."""
    try:
        import psutil
    except ImportError:
        return ProcessFacts(False, "psutil is not installed; cannot list processes", pattern)
    me = os.getpid()
    matches: list[BotProcess] = []
    hidden = 0
    try:
        for proc in psutil.process_iter(["pid", "cmdline"]):
            if proc.info["pid"] == me:
                continue
            cmdline = proc.info.get("cmdline")
            if cmdline is None:
                hidden += 1
                continue
            command = " ".join(cmdline)
            if pattern and pattern in command:
                matches.append(BotProcess(proc.info["pid"], redact_text(command)))
    except (psutil.Error, OSError) as exc:
        return ProcessFacts(False, f"cannot list processes: {exc}", pattern)
    return ProcessFacts(True, None, pattern, tuple(matches), hidden)
