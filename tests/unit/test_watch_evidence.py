"""harness.watch.evidence: the watch's verdict and its run directory (docs/evidence-layout.md)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from harness.evidence.records import Redactor
from harness.evidence.runs import latest_runs
from harness.verdict.decide import EXIT_INCOMPLETE, EXIT_NEEDS_REMEDIATION, EXIT_VERIFIED, Overall
from harness.watch.evidence import WatchEvidence, decide_watch
from harness.watch.rounds import CHECKS, FAILED, PASSED, TO_CONFIRM, CheckOutcome, Round

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc)


def _round(number: int, status: str = PASSED, *, odd: str = "", message: str = "fine") -> Round:
    return Round(number, NOW, tuple(CheckOutcome(name, item, status if name == odd or not odd else PASSED, message)
                                    for name, item, _ in CHECKS))


def test_every_check_of_every_planned_round_passed_is_verified():
    verdict = decide_watch([_round(1), _round(2)], 2, NOW)
    assert verdict.overall is Overall.VERIFIED and verdict.exit_status == EXIT_VERIFIED
    assert {i.item for i in verdict.items} == {item for _, item, _ in CHECKS}


def test_one_failed_check_needs_remediation_and_names_its_item():
    verdict = decide_watch([_round(1), _round(2, FAILED, odd="live account")], 2, NOW)
    assert verdict.exit_status == EXIT_NEEDS_REMEDIATION and "dod_no_live_orders" in verdict.headline


def test_a_check_that_could_not_look_is_incomplete_never_verified():
    verdict = decide_watch([_round(1, TO_CONFIRM, odd="discord")], 1, NOW)
    assert verdict.exit_status == EXIT_INCOMPLETE and "dod_discord_paper" in verdict.headline


def test_a_watch_stopped_early_is_incomplete_even_when_every_round_passed():
    assert decide_watch([_round(1)], 13, NOW).exit_status == EXIT_INCOMPLETE
    assert decide_watch([], 13, NOW).exit_status == EXIT_INCOMPLETE


def test_rounds_and_verdict_land_in_a_first_hour_run_redacted(tmp_path):
    redactor = Redactor()
    redactor.add(["s3cret-Value-42"])
    evidence = WatchEvidence(tmp_path, "embedded", redactor, NOW, every="1s")
    evidence.add_round(_round(1, message="token s3cret-Value-42 seen"))
    evidence.add_round(_round(2))
    evidence.finish(decide_watch([_round(1), _round(2)], 2, NOW), stopped_early=False)
    run = latest_runs(tmp_path)["first-hour"]
    rows = run.watch_rounds()
    assert [row["round"] for row in rows] == [1, 2]
    assert set(rows[0]) == {"round", "at", "status", "checks"}
    assert set(rows[0]["checks"][0]) == {"name", "item", "status", "message"}
    assert run.verdict()["overall"] == "TRANSITION VERIFIED" and run.verdict()["phase"] == "first-hour"
    assert json.loads((tmp_path / "verdict-first-hour.json").read_text(encoding="utf-8")) == run.verdict()
    assert run.info["every"] == "1s" and run.info["exit_status"] == 0
    for path in run.path.iterdir():
        assert "s3cret-Value-42" not in path.read_text(encoding="utf-8")
