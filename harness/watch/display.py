"""What the operator sees while the watch runs: a live table (rich) on a terminal, one line per round
elsewhere (CI, a pipe, a log file), and the summary at the end. Texts arrive redacted; this module only shows.

Every text goes into rich as a `Text`, never as a markup string: a log line's "[error]" or "[/b]" would otherwise
be read as markup, vanish or raise.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.watch.rounds import CHECKS, FAILED, PASSED, TO_CONFIRM, Round

STYLE = {PASSED: "green", FAILED: "bold red", TO_CONFIRM: "yellow"}
SHOWN = {PASSED: "passed", FAILED: "FAILED", TO_CONFIRM: "operator to confirm"}
MESSAGE_CHARS = 160


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short(text: str, limit: int = MESSAGE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _duration(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class LineDisplay:
    """Not a terminal: one line per round, and the notes, on `out`."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __enter__(self) -> LineDisplay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def round_started(self, number: int, total: int) -> None:
        return None

    def waiting(self, next_number: int, seconds_left: float) -> None:
        return None

    def round_done(self, round_: Round, total: int) -> None:
        parts = ", ".join(f"{c.name} {SHOWN[c.status]}" for c in round_.checks)
        self.say(f"round {round_.number}/{total} at {round_.at:%H:%M:%S}Z: {SHOWN[round_.status]} ({parts})")
        for check in round_.checks:
            if check.status != PASSED:
                severity = " (CRITICAL: halt the bot)" if check.critical else ""
                self.say(f"  {check.name} [{check.item}] {SHOWN[check.status]}{severity}: {_short(check.message, 400)}")


class LiveDisplay:
    """A terminal: one table of the checks (status and message of the last round), the round number and the
    time to the next round, redrawn in place by rich.Live."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self._last: Round | None = None
        self._state = "starting"
        self._notes: list[str] = []
        self._live = Live(self._render(), console=self.console, refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveDisplay:
        self._live.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._live.__exit__(*exc_info)

    def say(self, line: str) -> None:
        self._notes.append(line)
        del self._notes[:-6]
        self._live.update(self._render())

    def round_started(self, number: int, total: int) -> None:
        self._state = f"round {number}/{total}: reading the world..."
        self._live.update(self._render())

    def waiting(self, next_number: int, seconds_left: float) -> None:
        self._state = f"next round ({next_number}) in {_duration(seconds_left)}"
        self._live.update(self._render())

    def round_done(self, round_: Round, total: int) -> None:
        self._last = round_
        self._state = f"round {round_.number}/{total} done: {SHOWN[round_.status]}"
        self._live.update(self._render())

    def _render(self) -> Group:
        title = "harness watch"
        if self._last is not None:
            title += f": round {self._last.number} at {self._last.at:%H:%M:%S}Z"
        table = Table(title=Text(title), box=box.SIMPLE_HEAVY, expand=True)
        table.add_column("check", no_wrap=True)
        table.add_column("item", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("message", ratio=1)
        outcomes = {c.name: c for c in self._last.checks} if self._last is not None else {}
        for name, item, what in CHECKS:
            outcome = outcomes.get(name)
            if outcome is None:
                table.add_row(Text(name), Text(item), Text("waiting", style="dim"), Text(what, style="dim"))
            else:
                shown = SHOWN[outcome.status] + (" (CRITICAL)" if outcome.critical else "")
                table.add_row(Text(name), Text(item), Text(shown, style=STYLE[outcome.status]),
                              Text(_short(outcome.message)))
        parts: list = [table, Text(self._state, style="bold")]
        parts += [Text(note, style="dim") for note in self._notes]
        return Group(*parts)


def make_display(interactive: bool):
    """The live table on a terminal, lines elsewhere."""
    return LiveDisplay() if interactive else LineDisplay()


def summary_table(rounds: Sequence[Round], planned: int, stopped_early: bool, headline: str,
                  interactive: bool) -> Table:
    """Per check: how many rounds passed, failed, could not look; the first failure's (or doubt's) message, whole
    (folded onto more lines of its column, never cut)."""
    seen = len(rounds)
    title = f"harness watch: {seen} of {planned} round(s)" + (" (stopped early)" if stopped_early else "")
    table = Table(title=Text(title), box=box.SIMPLE_HEAVY if interactive else box.ASCII, expand=False)
    for column in ("check", "item", "passed", "failed", "to confirm"):
        table.add_column(column, no_wrap=True)
    table.add_column("first failure or doubt", overflow="fold")
    for name, item, _ in CHECKS:
        outcomes = [c for r in rounds for c in r.checks if c.name == name]
        count = {status: sum(1 for c in outcomes if c.status == status) for status in (PASSED, FAILED, TO_CONFIRM)}
        first = next((f"round {r.number}: {c.message}" for r in rounds for c in r.checks
                      if c.name == name and c.status == FAILED), None)
        first = first or next((f"round {r.number}: {c.message}" for r in rounds for c in r.checks
                               if c.name == name and c.status == TO_CONFIRM), "")
        table.add_row(Text(name), Text(item), Text(str(count[PASSED])),
                      Text(str(count[FAILED]), style="bold red" if count[FAILED] else ""), Text(str(count[TO_CONFIRM])),
                      Text(_one_line(first)))
    table.caption = Text(headline)
    return table


def print_summary(table: Table, interactive: bool, out: TextIO | None = None) -> None:
    console = Console(file=out or sys.stdout, width=None if interactive else 160,
                      force_terminal=interactive or None, no_color=not interactive)
    console.print(table)
