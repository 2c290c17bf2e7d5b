"""Stopping the bot, the seed's "Shutdown bot immediately (Task Manager -> End Task)", for `harness halt`.

Every process whose command line holds the `--bot-process` text, where psutil lets this user see it, is asked
to stop (terminate: SIGTERM on POSIX, TerminateProcess on Windows, what End Task does), then killed if it is
still there after `timeout`. Never this process or one of its parents (the shell that runs `harness halt
--bot-process X` has X in its own command line), and never a process whose command line changed since it was
found (its pid may belong to another program by then).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from harness.checks import advice
from harness.probes.processes import BotProcess, find_bot_processes

KILL_WAIT = 5.0


@dataclass(frozen=True, slots=True)
class StopResult:
    pattern: str
    looked: bool  # False: the processes could not be listed (see problem)
    problem: str | None = None
    stopped: tuple[BotProcess, ...] = ()
    killed: tuple[int, ...] = ()  # pids that ignored the request to stop and were killed
    failed: tuple[str, ...] = ()  # "pid N: why", for processes still running
    hidden: int = 0  # processes whose command line this user may not read
    hidden_python: tuple[int, ...] = ()  # ... Python interpreters among them: each could be the bot
    elsewhere: tuple[BotProcess, ...] = ()  # matched, outside the bot's directory: shown, never stopped
    ambiguous: tuple[BotProcess, ...] = ()  # several matched and nothing said which is the bot: none stopped
    hard_kill: bool = os.name == "nt"  # Windows: terminate is TerminateProcess, the bot logs no shutdown

    @property
    def found_none(self) -> bool:
        return self.looked and not self.stopped and not self.failed and not self.ambiguous

    @property
    def seen_stopped(self) -> bool:
        """The bot was found and is seen stopped: the one state in which a halt may call its bot part done."""
        return self.looked and bool(self.stopped) and not self.failed and not self.ambiguous

    @property
    def done(self) -> tuple[str, ...]:
        return tuple(f"stopped the bot: pid {p.pid} ({p.command[:160]})" + (" (killed)" if p.pid in self.killed
                                                                            else "") for p in self.stopped)

    @property
    def left(self) -> tuple[str, ...]:
        by_hand = f"stop the bot by hand ({advice.stop_the_bot()})"
        if not self.looked:
            return (f"{by_hand}: the processes could not be listed ({self.problem})",)
        left = [f"{by_hand}: {why}" for why in self.failed]
        if self.ambiguous:
            left.append(f"{by_hand}, or run again naming it: several processes hold {self.pattern!r} and nothing says "
                        "which is the bot (give --bot-dir, or --pid N): "
                        + "; ".join(p.describe() for p in self.ambiguous))
        elif self.found_none:
            hidden = f"; {self.hidden} process(es) hide their command line from this user" if self.hidden else ""
            left.append(f"{by_hand}: no process of the bot whose command line holds {self.pattern!r} is visible"
                        f"{hidden} (--bot-process names what the bot's command line holds)")
        left += [f"not stopped, outside the bot's directory: {p.describe()} (if it is the bot: --pid {p.pid})"
                 for p in self.elsewhere]
        if self.hidden_python:
            left.append(f"check by hand: Python process(es) {', '.join(map(str, self.hidden_python))} hide their "
                        "command line from this user (run as the bot's user or as administrator to see them); any "
                        "of them may be the bot")
        if self.stopped and self.hard_kill:
            left.append("on Windows a stop is a hard kill (TerminateProcess): the bot logged no clean shutdown; the "
                        "next preflight needs --shutdown-time (when it was stopped) to judge the shutdown")
        return tuple(left)


def _own_lineage() -> set[int]:
    import psutil

    ours = {os.getpid()}
    with contextlib.suppress(psutil.Error):
        ours.update(parent.pid for parent in psutil.Process().parents())
    return ours


def stop_bot_processes(pattern: str, *, bot_dir: Path | None = None, pid: int | None = None,
                       timeout: float = 10.0) -> StopResult:
    """Stop the bot's processes: those whose command line holds `pattern` (none when it is empty) and that are the
    bot's (harness.probes.processes: in `bot_dir`, when given), or only `pid` when given. Several matches with no
    directory to tell them apart are not stopped (named instead). Never raises."""
    facts = find_bot_processes(pattern, bot_dir)
    if not facts.looked:
        return StopResult(pattern, False, facts.problem)
    extra = {"hidden": facts.hidden, "hidden_python": facts.hidden_python}
    if pid is not None:
        chosen = tuple(match for match in facts.matches if match.pid == pid)
        if not chosen:
            return StopResult(pattern, True, failed=(f"pid {pid}: no process with that pid holds {pattern!r} in its "
                                                     "command line",), **extra)
        elsewhere: tuple[BotProcess, ...] = ()
    else:
        chosen, elsewhere = facts.bots, facts.elsewhere
        if bot_dir is None and len(chosen) > 1:
            return StopResult(pattern, True, ambiguous=chosen, **extra)
    import psutil

    ours = _own_lineage()
    elsewhere = tuple(match for match in elsewhere if match.pid not in ours)  # the shell or wrapper that runs the halt
    asked: list[tuple[psutil.Process, BotProcess]] = []
    failed: list[str] = []
    for match in chosen:
        if match.pid in ours:
            continue
        try:
            process = psutil.Process(match.pid)
            if not pattern or pattern not in " ".join(process.cmdline()):
                continue  # gone, or the pid now belongs to another program
            process.terminate()
            asked.append((process, match))
        except psutil.NoSuchProcess:
            continue  # it ended by itself
        except (psutil.Error, OSError) as exc:
            failed.append(f"pid {match.pid}: cannot stop it ({type(exc).__name__}: {exc})")
    processes = [process for process, _ in asked]
    _gone, alive = psutil.wait_procs(processes, timeout=timeout)
    killed: list[int] = []
    for process in alive:
        try:
            process.kill()
            killed.append(process.pid)
        except psutil.NoSuchProcess:
            continue
        except (psutil.Error, OSError) as exc:
            failed.append(f"pid {process.pid}: still running, cannot kill it ({type(exc).__name__}: {exc})")
    _gone, still = psutil.wait_procs([p for p in alive if p.pid in killed], timeout=KILL_WAIT)
    still_pids = {p.pid for p in still}
    failed += [f"pid {pid}: still running {KILL_WAIT:g} s after it was killed" for pid in sorted(still_pids)]
    stopped = tuple(match for process, match in asked if process.pid not in still_pids
                    and not any(f.startswith(f"pid {process.pid}:") for f in failed))
    return StopResult(pattern, True, None, stopped, tuple(k for k in killed if k not in still_pids), tuple(failed),
                      elsewhere=elsewhere, **extra)
