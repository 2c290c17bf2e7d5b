"""The seed's `docs/Task_4_3_Transition_Log.md`, filled from the recorded evidence of the latest run of each phase.

A box is ✅ only from a passed check (verdict item VERIFIED) or a recorded attestation (ATTESTED, with who and
when), ❌ from a failed check, and "operator to confirm" otherwise: a skip, a check that could not look, a phase
not run yet or NOT RUN never gives ✅. The log is diffed and committed, so the same evidence always gives the same
bytes: no "generated at" time, everything in a fixed order, every text from the evidence masked again.

The modules, each importing only those above it: `text` (masking, times in ET, file:line), `run_evidence` (what
is read of a run), `boxes` (a box and how it is judged), `header`, then one module per group of the template's
sections (`pre_transition`, `first_hour`, `transition`,
`first_day`, `rollback`, `verdict`); this one builds the whole log and writes it. SUCCESS / NEEDS REMEDIATION /
INCOMPLETE is decided in harness.verdict (`transition`: the chain of runs; `outcome`: the whole status).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.core.jsonfiles import same_file, write_bytes_atomic
from harness.evidence.attestations import Attestation
from harness.report.transition_log import first_day, header, pre_transition, rollback, transition, verdict
from harness.report.transition_log.boxes import Box, judge, judge_scenario, judge_scenarios, open_reason
from harness.report.transition_log.first_day import FIRST_DAY_AUTOSTARTED, FIRST_DAY_DISCORD, FIRST_DAY_STARTUP_LOGS
from harness.report.transition_log.first_hour import FIRST_HOUR_SPEC
from harness.report.transition_log.header import EMBEDDED_BANNER
from harness.report.transition_log.run_evidence import (
    EMBEDDED_WORLD,
    PHASE_COMMANDS,
    PHASE_ORDER,
    REQUIRED_PHASES,
    RunLike,
    embedded,
    first_record,
    live_account,
    paper_account,
    records,
    scenario_rows,
    verdict_items,
)
from harness.report.transition_log.text import CONFIRM, EASTERN, MAX_TEXT_CHARS, attested, clean, file_line, when
from harness.report.transition_log.transition import MAX_LOG_LINES
from harness.report.transition_log.verdict import EMBEDDED_NEXT_STEP, OPERATOR_ITEMS
from harness.verdict.outcome import INCOMPLETE, NEEDS_REMEDIATION, SUCCESS, Outcome, outcome
from harness.verdict.transition import Chain

# The names the old single module had public, which the board card, the report command and the tests use.
__all__ = [
    "CONFIRM", "EASTERN", "EMBEDDED_BANNER", "EMBEDDED_NEXT_STEP", "EMBEDDED_WORLD", "FIRST_DAY_AUTOSTARTED",
    "FIRST_DAY_DISCORD", "FIRST_DAY_STARTUP_LOGS", "FIRST_HOUR_SPEC", "INCOMPLETE", "MAX_LOG_LINES", "MAX_TEXT_CHARS",
    "NEEDS_REMEDIATION", "OPERATOR_ITEMS", "PHASE_COMMANDS", "PHASE_ORDER", "REQUIRED_PHASES", "SUCCESS", "Box",
    "Outcome", "RunLike", "attested", "build", "clean", "embedded", "file_line", "first_record", "judge",
    "judge_scenario", "judge_scenarios", "live_account", "open_reason", "outcome", "paper_account", "records",
    "scenario_rows", "verdict_items", "when", "write",
]


def build(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation], *, picture: str | None = None,
          chain: Chain | None = None) -> str:
    """The transition log (Markdown, LF line ends) from the run that stands for each phase and the attestations;
    `picture` is the path, relative to where the log is written, of the paper-account PNG or screenshot; `chain`
    (harness.verdict.transition) what was found between the runs: incidents, runs set aside, cut short, edited."""
    runs = {phase: run for phase, run in runs.items() if run is not None}
    parts = [
        *header.section(runs, attestations, chain),
        *pre_transition.checklist(runs, attestations),
        *pre_transition.step1(runs, attestations),
        *transition.step2(runs, attestations),
        *transition.step3(runs, attestations),
        *transition.step4(runs, attestations, picture),
        *first_day.section(runs, attestations),
        *rollback.section(runs, attestations),
        *header.incidents(chain),
        *verdict.section(runs, attestations, chain),
    ]
    return "\n".join(parts)


def write(text: str, targets: Sequence[Path]) -> list[Path]:
    """Write the log to every target (UTF-8, LF, atomic through a temp file and a rename, parent folders made);
    the paths written, each once. Raises OSError when one cannot be written."""
    written: list[Path] = []
    data = text.replace("\r\n", "\n").encode("utf-8")
    for target in targets:
        target = Path(target)
        if any(same_file(target, done) for done in written):
            continue
        written.append(write_bytes_atomic(target, data))
    return written
