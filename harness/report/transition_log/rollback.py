"""The template's Rollback section, from the rollback run (the DoD's Rollback Plan items)."""

from __future__ import annotations

from collections.abc import Mapping

from harness.core import dod
from harness.evidence.attestations import Attestation
from harness.report.transition_log.boxes import box_lines
from harness.report.transition_log.header import from_run
from harness.report.transition_log.run_evidence import RunLike
from harness.report.transition_log.text import CONFIRM


def section(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("rollback")
    lines = ["## Rollback", ""]
    if run is None:
        return [*lines, "No rollback run is recorded (`pytest features/ --phase rollback` after "
                "`harness switch dry-run` and a restart).", "", "---", ""]
    spec = tuple((item.text, (item.id,)) for item in dod.ITEMS if item.section == "Rollback Plan")
    return [*lines, from_run("rollback", run), "", *box_lines(spec, "rollback", run, attestations),
            "", "**Reason for Rollback:** " + CONFIRM + " (note it in the remediation issue)", "", "---", ""]
