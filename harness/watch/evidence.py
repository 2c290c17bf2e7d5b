"""The watch's evidence: a run directory of phase "first-hour" (harness.evidence.runs) holding
watch-rounds.jsonl (one redacted line per round, appended as each round ends) and verdict.json, and the
phase's verdict-first-hour.json beside the other phases' (docs/evidence-layout.md).

The verdict is harness.verdict.decide's: each check of each round is one result under its checklist item, and
every round that was planned but not run is expected, so a watch stopped early is never verified.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from harness import __version__
from harness.core.jsonfiles import write_json_atomic
from harness.evidence import runs
from harness.evidence.records import Redactor
from harness.verdict import decide as verdicts
from harness.verdict.record import write_verdict
from harness.watch.rounds import CHECKS, FAILED, PASSED, TO_CONFIRM, Round

PHASE = "first-hour"
_OUTCOME = {PASSED: "passed", FAILED: "failed", TO_CONFIRM: "skipped"}


def result_name(number: int, check: str) -> str:
    return f"round {number}: {check}"


def decide_watch(rounds: Sequence[Round], planned: int, now: datetime) -> verdicts.Verdict:
    """The watch's verdict: FAILED items from any failed check, OPERATOR TO CONFIRM from a check that could not
    look, NOT RUN for the rounds that never ran. No attestation stands in for a round."""
    results = [verdicts.ScenarioResult(result_name(r.number, c.name), (c.item,), _OUTCOME[c.status],
                                       c.message, c.critical) for r in rounds for c in r.checks]
    expected: dict[str, list[str]] = {}
    for number in range(1, planned + 1):
        for name, item, _ in CHECKS:
            expected.setdefault(item, []).append(result_name(number, name))
    verdict = verdicts.decide(PHASE, results, {}, now, expected)
    if verdict is None:  # no round ran at all: every item not run
        items = tuple(verdicts.ItemVerdict(item, item, verdicts.Status.NOT_RUN, "the watch was stopped before its "
                                           "first round ended") for item in dict.fromkeys(i for _, i, _ in CHECKS))
        verdict = verdicts.Verdict(PHASE, verdicts.Overall.INCOMPLETE, items)
    return verdict


class WatchEvidence:
    """One watch's run directory; every text goes through `redactor` on its way to disk."""

    def __init__(self, evidence_dir: Path, world: str, redactor: Redactor, started: datetime, **info) -> None:
        self.evidence_dir = evidence_dir
        self.world = world
        self.redactor = redactor
        self.run_dir = runs.new_run_dir(evidence_dir, PHASE, world, started=started, harness_version=__version__,
                                        baseline=None, **info)
        self.rounds_file = self.run_dir / runs.WATCH_ROUNDS_FILE

    def add_round(self, round_: Round) -> None:
        line = json.dumps(self.redactor.data(round_.row()), ensure_ascii=False)
        with self.rounds_file.open("a", encoding="utf-8", newline="\n") as out:
            out.write(line + "\n")

    def keep_accounts(self, round_: Round) -> None:
        """The gateways' facts as the round read them (paper-account.json, live-account.json; account ids
        masked), replaced by each round that read them, for the report's picture of the paper account."""
        facts = round_.facts
        if facts is None:
            return
        for name, gateway in ((runs.PAPER_ACCOUNT_FILE, facts.paper), (runs.LIVE_ACCOUNT_FILE, facts.live)):
            if gateway is not None and gateway.ok:
                write_json_atomic(self.run_dir / name, self.redactor.record(gateway))

    def finish(self, verdict: verdicts.Verdict, **fields) -> Path | None:
        """verdict-first-hour.json, the run's verdict.json (the same body) and run.json's end. The verdict's
        texts are redacted first. Returns the run's verdict file, or None when it could not be written."""
        safe = verdicts.Verdict(verdict.phase, verdict.overall, tuple(
            verdicts.ItemVerdict(i.item, i.text, i.status, self.redactor.text(i.why), i.critical, i.scenarios)
            for i in verdict.items))
        written = write_verdict(self.evidence_dir, safe, self.world, run_dir=self.run_dir)
        runs.finish_run(self.run_dir, overall=safe.overall.value, exit_status=safe.exit_status,
                        **self.redactor.data(fields))
        target = self.run_dir / runs.VERDICT_FILE
        return target if written is not None and target.is_file() else None
