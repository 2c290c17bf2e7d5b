"""The log's head (title, the embedded world's banner, Task 4.2 and the authorization, the run of each phase) and
the line under each section naming the run it is filled from."""

from __future__ import annotations

from collections.abc import Mapping

from harness.core import names
from harness.evidence.attestations import Attestation
from harness.report.transition_log.run_evidence import (
    PHASE_COMMANDS,
    PHASE_ORDER,
    RunLike,
    embedded,
    first_record,
    rehearsed,
    run_overall,
)
from harness.report.transition_log.text import CONFIRM, attested, clean, when
from harness.verdict.transition import Chain

MAX_SET_ASIDE = 30  # runs not counted, listed in the head of the log
EMBEDDED_BANNER = ("> ⚠ Embedded world: these runs checked the harness's own fakes, not a real bot. This log "
                   "demonstrates the harness; it is not evidence of a transition.")
REHEARSAL_MARK = "REHEARSAL — not evidence of a live transition"
REHEARSAL_BANNER = (f"> ⚠ {REHEARSAL_MARK}: `harness rehearse` ran the procedure on a copy of the bot against the "
                    "harness's fakes (paper and live gateways, Discord) on loopback; IB never saw it. Its first day is "
                    "left to the live run, and what only the live machine can show (when the bot is stopped, the "
                    "scheduler) is marked as left to it.")


def from_run(phase: str, run: RunLike | None) -> str:
    """`_From the transition run ... : headline_`, or that the phase's run is still to be made."""
    if run is None:
        return f"_The {phase} run has not been made yet (`{PHASE_COMMANDS[phase]}`): this section is to be filled._"
    verdict = run.verdict() or {}
    headline = clean(verdict.get("headline") or "no verdict recorded")
    return (f"_From the {phase} run `{clean(run.run_id, 120)}` ({clean(run.world, 40)} world, started "
            f"{when(run.started_at)}): {headline}_")


def switch_date(runs: Mapping[str, RunLike]) -> str:
    """When the transition happened, and how that is known: the bot's first start in paper mode (the first-day
    run's reading of its log), else the restart the transition run read, else the transition run's own start."""
    day = first_record(runs.get("first-day"), names.FIRST_DAY)
    switch = day.get("switch") if isinstance(day, dict) else None
    if isinstance(switch, dict) and switch.get("timestamp"):
        return f"{when(switch['timestamp'])}, the bot's first start in paper mode (from its log)"
    transition = runs.get("transition")
    if transition is None:
        return "not yet (no transition run recorded)"
    block = first_record(transition, names.NEWEST_STARTUP_BLOCK)
    if isinstance(block, dict) and block.get("started_at"):
        return f"{when(block['started_at'])}, the bot's restart in paper mode (from its log)"
    return f"{when(transition.started_at)}, the transition run's start (the bot's log told no start)"


def section(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation], chain: Chain | None = None
            ) -> list[str]:
    date = switch_date(runs)
    approved = attestations.get("pre_task_4_2_approved")
    authorized = attestations.get("pre_operator_authorized")
    lines = [
        "# Task 4.3 Transition Log — Paper Trading Mode Activation"
        + (f" ({REHEARSAL_MARK})" if rehearsed(runs) else ""),
        "",
        *([EMBEDDED_BANNER, ""] if embedded(runs) else []),
        *([REHEARSAL_BANNER, ""] if rehearsed(runs) else []),
        f"**Transition Date:** {date}",
        f"**Task 4.2 Completion:** {attested(approved) if approved else CONFIRM + ' (`harness confirm pre_task_4_2_approved --by NAME`)'}",  # noqa: E501
        f"**Operator Authorization:** {attested(authorized) if authorized else CONFIRM + ' (`harness confirm pre_operator_authorized --by NAME`)'}",  # noqa: E501
        "",
        "> Filled by the harness from the recorded evidence of the latest run of each phase. ✅ = a check looked and "
        "passed, or a named person attested it; ❌ = a check failed; \"operator to confirm\" = nothing was seen.",
        "",
        "| Phase | Run | World | Started | Verdict |",
        "|---|---|---|---|---|",
    ]
    for phase in PHASE_ORDER:
        run = runs.get(phase)
        if run is None:
            left = phase == "first-day" and rehearsed(runs)
            lines.append(f"| {phase} | {'left to the live run' if left else 'not run yet'} | | | |")
            continue
        shown = run_overall(run) or "no verdict recorded"
        if chain is not None and run.run_id in chain.cut_short:
            shown = "cut short (no end recorded)"
        elif chain is not None and run.run_id in chain.edited:
            shown = "recorded verdict edited or corrupt"
        lines.append(f"| {phase} | `{clean(run.run_id, 120)}` | {clean(run.world, 40)} | {when(run.started_at)} | "
                     f"{clean(shown)} |")
    if chain is not None and chain.set_aside:
        shown = chain.set_aside[:MAX_SET_ASIDE]
        more = len(chain.set_aside) - len(shown)
        lines += ["", "Runs recorded but not counted (earlier attempts, other worlds and bots stay evidence):",
                  *(f"- `{clean(run_id, 120)}`: {clean(why, 300)}" for run_id, why in shown),
                  *([f"- and {more} more"] if more > 0 else [])]
    return [*lines, "", "---", ""]


def incidents(chain: Chain | None) -> list[str]:
    """The Incidents section: every halt, drill and resolution `harness halt` and `harness confirm
    incident_resolved` recorded, in order (none recorded: nothing to say)."""
    if chain is None or not chain.incidents:
        return []
    lines = ["## Incidents", ""]
    for record in chain.incidents:
        lines.append(f"- {clean(record.summary, 400)}" + (f" — outcome: {clean(record.outcome, 200)}"
                                                          if getattr(record, "outcome", "") else ""))
    return [*lines, "", "---", ""]
