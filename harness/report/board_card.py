"""The board card: a short Markdown summary to paste on the project board (or post as a GitHub comment).

The same rules as the transition log (harness.report.transition_log decides the overall status): a phase not
run is said so, failing items and items still to confirm are listed with their phase, nothing is ✅ that no
check passed and no person attested. Deterministic: the same evidence gives the same text.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.evidence.attestations import Attestation
from harness.report.transition_log import (
    EMBEDDED_BANNER,
    EMBEDDED_WORLD,
    INCOMPLETE,
    NEEDS_REMEDIATION,
    PHASE_COMMANDS,
    PHASE_ORDER,
    SUCCESS,
    RunLike,
    clean,
    outcome,
    verdict_items,
)
from harness.report.transition_log.header import REHEARSAL_BANNER, REHEARSAL_MARK
from harness.report.transition_log.run_evidence import REHEARSAL_WORLD, run_overall
from harness.verdict.decide import Overall, Status
from harness.verdict.transition import Chain

MARKS = {SUCCESS: "✅", NEEDS_REMEDIATION: "❌", INCOMPLETE: "⏳"}
RUN_MARKS = {Overall.VERIFIED.value: "✅", Overall.NEEDS_REMEDIATION.value: "❌", Overall.INCOMPLETE.value: "⏳"}
MAX_LISTED = 20  # items listed per kind; the rest are counted
LINK_ORDER = ("HTML report", "Transition log", "Paper account picture", "Board card")


def _link_lines(links: Mapping[str, str]) -> list[str]:
    known = [name for name in LINK_ORDER if links.get(name)]
    other = sorted(name for name in links if name not in LINK_ORDER and links[name])
    return [f"- [{clean(name, 60)}]({clean(links[name], 300).replace(' ', '%20')})" for name in (*known, *other)]


def render(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation], links: Mapping[str, str],
           chain: Chain | None = None) -> str:
    """Overall status, each phase's verdict, the failing and the unconfirmed items, and the links."""
    runs = {phase: run for phase, run in runs.items() if run is not None}
    result = outcome(runs, attestations, chain)
    title = "Task 4.3 — Transition to Paper Trading" + (
        f" ({REHEARSAL_MARK})" if any(run.world == REHEARSAL_WORLD for run in runs.values()) else "")
    lines = [f"### {title}: {MARKS[result.status]} {result.status}", ""]
    if any(run.world == EMBEDDED_WORLD for run in runs.values()):
        lines += [EMBEDDED_BANNER, ""]  # a demonstration's card must never pass for a transition's on the board
    if any(run.world == REHEARSAL_WORLD for run in runs.values()):
        lines += [REHEARSAL_BANNER, ""]  # nor a rehearsal's
    lines += ["| Phase | Verdict | Run |", "|---|---|---|"]
    failing: list[str] = []
    for phase in PHASE_ORDER:
        run = runs.get(phase)
        if run is None:
            left = phase == "first-day" and any(r.world == REHEARSAL_WORLD for r in runs.values())
            lines.append(f"| {phase} | {'left to the live run' if left else 'not run yet'} (`{PHASE_COMMANDS[phase]}`) "
                         "| |")
            continue
        overall = run_overall(run)
        shown = clean(overall) if overall else "no verdict recorded"
        lines.append(f"| {phase} | {RUN_MARKS.get(str(overall), '⏳')} {shown} | `{clean(run.run_id, 120)}` |")
        for item in (verdict_items(run) or {}).values():
            if item.get("status") == Status.FAILED.value:
                failing.append(f"- ❌ `{clean(item.get('item'), 60)}` ({phase}): {clean(item.get('why', ''), 200)}")
    lines.append("")
    if chain is not None:  # what was found between the runs: an open incident, a run cut short or edited
        failing = [f"- ❌ {clean(entry, 240)}" for entry in chain.failed] + failing
    if failing:
        lines += ["**Failing:**", *failing[:MAX_LISTED]]
        if len(failing) > MAX_LISTED:
            lines.append(f"- … and {len(failing) - MAX_LISTED} more")
        lines.append("")
    if result.open:
        lines += ["**Still to run or confirm:**", *(f"- {clean(entry, 240)}" for entry in result.open[:MAX_LISTED])]
        if len(result.open) > MAX_LISTED:
            lines.append(f"- … and {len(result.open) - MAX_LISTED} more")
        lines.append("")
    declared = attestations.get("dod_operator_declared")
    if declared is not None and declared.by.strip():
        lines += [f"**Operator declaration:** {clean(declared.by, 80)}, {clean(declared.at, 40)}", ""]
    link_lines = _link_lines(links)
    if link_lines:
        lines += ["**Evidence:**", *link_lines, ""]
    return "\n".join(lines)
