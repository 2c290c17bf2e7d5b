"""The template's Transition Verdict: the overall status with what failed and what is open, the operator's
confirmation and sign-offs, and the next step."""

from __future__ import annotations

from collections.abc import Mapping

from harness.core import dod
from harness.evidence.attestations import Attestation
from harness.report.transition_log.boxes import Box, manual_attestation
from harness.report.transition_log.run_evidence import RunLike, embedded, rehearsed
from harness.report.transition_log.text import CONFIRM, attested, clean
from harness.verdict.outcome import INCOMPLETE, NEEDS_REMEDIATION, SUCCESS, outcome
from harness.verdict.transition import Chain

OPERATOR_ITEMS = ("dod_operator_reviewed", "dod_operator_declared", "dod_board_updated")
EMBEDDED_NEXT_STEP = "Run the procedure on your bot (README: Use it on your bot)"
REHEARSAL_NEXT_STEP = ("The rehearsal passed: run the transition on the real bot (README: Use it on your bot); its "
                       "first day is lived there")


def section(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation], chain: Chain | None = None
            ) -> list[str]:
    result = outcome(runs, attestations, chain)
    lines = ["## Transition Verdict", "", f"**Status:** {result.status}"]
    if result.failed:
        lines += ["", "Failed items:", *(f"- ❌ {entry}" for entry in result.failed)]
    if result.open:
        lines += ["", "Still open:", *(f"- {entry}" for entry in result.open)]
    declared = attestations.get("dod_operator_declared")
    if declared is not None and declared.by.strip():
        note = f' ("{clean(declared.note, 200)}")' if declared.note.strip() else ""
        confirmation = f"{clean(declared.by, 80)}, {clean(declared.at, 40)}{note}"
    else:
        confirmation = (f'{CONFIRM}: "Paper trading transition successful, ready for Task 4.4" '
                        "(`harness confirm dod_operator_declared --by NAME`)")
    success_step = (REHEARSAL_NEXT_STEP if rehearsed(runs) else EMBEDDED_NEXT_STEP if embedded(runs)
                    else "Proceed to Task 4.4")
    next_step = {SUCCESS: success_step,
                 NEEDS_REMEDIATION: "Address issues and retry (open the remediation issue the rollback plan asks for)",
                 INCOMPLETE: "Finish the phases and confirmations still open, then regenerate this log "
                             "(`harness report`)"}[result.status]
    signed = []
    for item_id in OPERATOR_ITEMS:
        found = manual_attestation((item_id,), attestations)
        text = dod.BY_ID[item_id].text
        signed.append(Box("✅", text, attested(found)).render() if found is not None else
                      Box(" ", text, f"`harness confirm {item_id} --by NAME`").render())
    return [*lines, "", f"**Operator Confirmation:** {confirmation}", *signed, "", f"**Next Step:** {next_step}",
            "", "---", "", "**END OF TRANSITION LOG**", ""]
