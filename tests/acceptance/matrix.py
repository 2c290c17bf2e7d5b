"""The fault matrix: what each acceptance world gets wrong and which scenarios must fail in it.

Every acceptance module that breaks the world on purpose declares its worlds as `Fault` rows in `MATRIX`,
and its tests assert those very rows (the failing set, the skipped set) against a run of the operator's
command. `render()` turns the rows into docs/fault-matrix.md; `python -m tests.acceptance.matrix` rewrites
the file, and tests/acceptance/test_fault_matrix.py fails when the committed file is not what `render()` says.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "fault-matrix.md"
# Module (in tests/acceptance) -> the section it fills, in the order a transition meets them.
SECTIONS = {
    "test_preflight_worlds": "Preflight: before the switch",
    "test_configuration_worlds": "Configuration: the bot's `.env` and its repository",
    "test_operator_path": "Configuration: worlds an operator meets by mistake",
    "test_startup_worlds": "Startup: the running bot's log and Discord notification",
    "test_log_worlds": "Startup: logs the harness was never built against",
    "test_bounded_evidence": "Startup: evidence stays small",
    "test_order_worlds": "Order routing: the gateways and the paper account",
    "test_live_path": "Order routing: the operator's own gateway (`--live-gateway`)",
    "test_first_day_worlds": "First day: the first trading day after the switch (`--phase first-day`)",
    "test_rollback_worlds": "Rollback: back to dry-run (`--phase rollback`)",
    "test_rehearse": "Rehearsal: bots nobody here wrote, copied and rehearsed against the fakes (`harness rehearse`; "
                     "the scenarios failing in any of its preflight, transition and rollback runs)",
}


# Modules whose worlds are judged by what `harness report` says of the whole transition (the chain between runs),
# not by scenarios that fail: each declares CHAIN_MATRIX rows.
CHAIN_INTROS = {
    "test_chain_worlds": "each world starts from the demo's evidence or a bot of its own, does what an operator or "
                         "an adversary did between runs with the operator's own commands, and asserts what the "
                         "harness says then.",
    "test_scheduler_worlds": "each world is a task file as an operator's machine has it, read by the scheduler "
                             "probe and judged by the first day's scheduler checks.",
    "test_emergency_worlds": "each world is made of fake gateways on loopback, real processes and a fake Discord; "
                             "the test runs `harness halt` or a round of `harness watch` on it and asserts what is "
                             "done and said.",
}
CHAIN_SECTIONS = {
    "test_chain_worlds": "Between runs: one transition, one chain of evidence (`harness report`)",
    "test_emergency_worlds": "The emergency path and the first hour (`harness halt`, `harness watch`)",
    "test_scheduler_worlds": "The scheduler's whole definition (the first day's scheduler scenario, on task files)",
}


@dataclass(frozen=True)
class ChainFault:
    """One world between runs: what was done, what the transition's verdict must say, and the test asserting it."""

    world: str
    wrong: str
    says: str
    test: str  # "module.py::test_name"


@dataclass(frozen=True)
class Fault:
    """One world: its name, what is wrong in it, the scenarios (pytest-bdd test names) that must fail and those
    that must be "operator to confirm" (skipped, never green), and the test that asserts it."""

    world: str
    wrong: str
    fails: frozenset[str]
    test: str  # the test function that asserts this row, "module.py::test_name"
    skips: frozenset[str] = frozenset()
    others_may_fail: bool = False  # True: these must fail, others of the feature may too

    def __post_init__(self) -> None:
        object.__setattr__(self, "fails", frozenset(self.fails))
        object.__setattr__(self, "skips", frozenset(self.skips))


def knobs(env: dict[str, str], args: Iterable[str] = ()) -> str:
    """What the embedded world's knobs (BOT_FAULTS, HARNESS_EMBEDDED_FAULTS) and other settings make wrong, in
    the words of the fakes' own tables."""
    from harness.fakes.bot import FAULTS as BOT_FAULTS
    from harness.fakes.embedded import FAULTS_VARIABLE, WORLD_FAULTS

    parts = []
    for variable, table, whose in (("BOT_FAULTS", BOT_FAULTS, "the bot "), (FAULTS_VARIABLE, WORLD_FAULTS, "")):
        parts += [f"{whose}{table[knob]}" for knob in env.get(variable, "").split(",") if knob]
    parts += [f"the shell exports {k}={v}" for k, v in env.items() if k not in ("BOT_FAULTS", FAULTS_VARIABLE)]
    if args:
        parts.append("run with `" + " ".join(args) + "`")
    return "; ".join(parts) or "nothing"


@cache
def _scenarios() -> tuple[dict[str, str], dict[str, str]]:
    """(test name -> scenario title, test name -> feature file) for every scenario in features/."""
    from pytest_bdd.parser import FeatureParser
    from pytest_bdd.scenario import make_python_name

    titles: dict[str, str] = {}
    files: dict[str, str] = {}
    folder = REPO / "features"
    for path in sorted(folder.glob("*.feature")):
        for title in FeatureParser(str(folder), path.name).parse().scenarios:
            name = f"test_{make_python_name(title)}"
            titles[name] = title
            files[name] = path.name
    return titles, files


def title(name: str) -> str:
    titles, _ = _scenarios()
    if name not in titles:
        raise KeyError(f"{name} is not a scenario of features/*.feature")
    return titles[name]


def _scenario_list(names: Iterable[str]) -> str:
    names = set(names)
    if not names:
        return "none"
    _, files = _scenarios()
    for feature in sorted(set(files.values())):
        everyone = {n for n, f in files.items() if f == feature}
        if names == everyone:
            return f"every scenario of {feature} ({len(everyone)})"
    return "<br>".join(sorted(title(n) for n in names))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _phrase(text: str) -> str:
    """A description as a table cell phrase: no final full stop, a lower-case first word (not an acronym)."""
    text = text.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def rows() -> list[tuple[str, str, list[Fault]]]:
    """(module, heading, its faults) for every section."""
    return [(module, heading, list(importlib.import_module(f"tests.acceptance.{module}").MATRIX))
            for module, heading in SECTIONS.items()]


def chain_rows() -> list[tuple[str, str, list[ChainFault]]]:
    """(module, heading, its chain faults) for every section judged by the transition's chain."""
    return [(module, heading, list(importlib.import_module(f"tests.acceptance.{module}").CHAIN_MATRIX))
            for module, heading in CHAIN_SECTIONS.items()]


def render() -> str:
    sections = rows()
    chains = chain_rows()
    count = sum(len(faults) for _, _, faults in sections) + sum(len(faults) for _, _, faults in chains)
    lines = [
        "# Fault matrix: what the harness catches",
        "",
        "Generated from the acceptance tests' world tables by `python -m tests.acceptance.matrix`; "
        "`tests/acceptance/test_fault_matrix.py` fails when this file is stale. Do not edit it by hand.",
        "",
        f"Each of the {count} rows is a world broken on purpose. Its test runs the operator's own command "
        "(`pytest features/ ...`) against that world and fails unless the scenarios in **Must fail** fail "
        "(exactly those, among the feature's scenarios, unless the row says others may) and those in "
        "**Operator to confirm** are skipped, never green. So what a green test run observes is this "
        "table; **Asserted by** names the test that observes it. A world where nothing must fail is there to "
        "show that the harness does not cry wolf.",
        "",
    ]
    for module, heading, faults in sections:
        lines += [f"## {heading}", "", f"Asserted in `tests/acceptance/{module}.py`.", "",
                  "| World | What is wrong | Must fail | Operator to confirm | Asserted by |",
                  "| --- | --- | --- | --- | --- |"]
        for fault in faults:
            fails = _scenario_list(fault.fails)
            if fault.others_may_fail and not fault.fails:
                fails = "(not asserted)"
            elif fault.others_may_fail:
                fails += " (others may fail too)"
            skips = _scenario_list(fault.skips) if fault.skips else ""
            test = fault.test.split("::", 1)[1]
            lines.append(f"| {_cell(fault.world)} | {_cell(_phrase(fault.wrong))} | {_cell(fails)} | {_cell(skips)} | "
                         f"`{test}` |")
        lines.append("")
    for module, heading, faults in chains:
        lines += [f"## {heading}", "", f"Asserted in `tests/acceptance/{module}.py`: {CHAIN_INTROS[module]}", "",
                  "| World | What was done | What the harness says | Asserted by |", "| --- | --- | --- | --- |"]
        for fault in faults:
            test = fault.test.split("::", 1)[1]
            lines.append(f"| {_cell(fault.world)} | {_cell(_phrase(fault.wrong))} | {_cell(fault.says)} | "
                         f"`{test}` |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    text = render()
    DOC.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {DOC.relative_to(REPO)} ({text.count(chr(10))} lines)", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
