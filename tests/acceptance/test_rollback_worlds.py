"""`pytest features/ --phase rollback`, the operator's command, against embedded worlds after the rollback: the
clean one is TRANSITION VERIFIED; each faulty one fails exactly the scenarios of what it got wrong, and an open
incident keeps the verdict at NEEDS REMEDIATION whatever the scenarios say.

Four runs in all (a run is the expensive part): the tests that read one world share its run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.evidence import incidents as incident
from tests.acceptance.matrix import Fault, knobs
from tests.acceptance.runner import Run, run_features

FAULTS = "HARNESS_EMBEDDED_FAULTS"
ENV_MODE = "test_dry_run_is_true_and_paper_trading_is_false_again"
ENV_BASELINE = "test_the_env_says_what_it_said_before_the_switch"
LOG_DRY_RUN = "test_the_bots_newest_start_says_dryrun_mode_is_active"
LOG_CONFIGURATION = "test_the_bot_loaded_dry_runtrue_and_paper_tradingfalse"
LOG_NO_PAPER = "test_the_log_no_longer_says_paper_trading_mode_after_the_rollback"
LOG_NO_LIVE = "test_the_log_never_says_live_trading_mode_after_the_rollback"
DISCORD_DRY_RUN = "test_discord_announces_dryrun_mode_after_the_rollback"
DISCORD_OTHER_MODE = "test_discord_does_not_announce_paper_or_live_mode_after_the_rollback"
NO_OPEN_ORDERS = "test_no_order_is_left_open_in_the_paper_account"
POSITIONS_CLOSED = "test_every_paper_position_is_closed"
SCHEDULER = "test_the_scheduler_still_starts_the_bot"
ALL = {ENV_MODE, ENV_BASELINE, LOG_DRY_RUN, LOG_CONFIGURATION, LOG_NO_PAPER, LOG_NO_LIVE, DISCORD_DRY_RUN,
       DISCORD_OTHER_MODE, NO_OPEN_ORDERS, POSITIONS_CLOSED, SCHEDULER}
INCIDENT_REASON = "orders reached the live account at 09:31"


def _rollback_run(root: Path, faults: str = "") -> Run:
    return run_features(root, "--phase", "rollback", "--evidence-dir", str(root / "evidence"),
                        env={FAULTS: faults} if faults else {})


def _verdict(root: Path) -> dict:
    return json.loads((root / "evidence" / "verdict-rollback.json").read_text(encoding="utf-8"))


def _status(verdict: dict, item: str) -> str:
    return next(row["status"] for row in verdict["items"] if row["item"] == item)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Run, Path]:
    root = tmp_path_factory.mktemp("rollback-clean")
    return _rollback_run(root), root


@pytest.fixture(scope="module")
def live_edit_with_incident(shared_runs) -> tuple[Run, Path]:
    """The rollback was a hand edit that left DRY_RUN=false (live mode), and an incident is still open. Two tests
    read this run, maybe in two xdist workers: one run all the same."""

    def make(root: Path) -> Run:
        incident.append(root / "evidence", incident.HaltRecord(incident.INCIDENT, "2026-02-10T14:31:00+00:00",
                                                               reason=INCIDENT_REASON, outcome="complete"))
        return _rollback_run(root, "rollback-dry-run-false")

    run = shared_runs.made("rollback live edit with an open incident", make)
    return run, run.root


@pytest.fixture(scope="module")
def not_restarted(tmp_path_factory) -> tuple[Run, Path]:
    root = tmp_path_factory.mktemp("rollback-not-restarted")
    return _rollback_run(root, "rollback-not-restarted"), root


@pytest.fixture(scope="module")
def left_open(tmp_path_factory) -> tuple[Run, Path]:
    """An order and a position left in the paper account, and the scheduled task disabled."""
    root = tmp_path_factory.mktemp("rollback-left-open")
    return _rollback_run(root, "unknown-bot-order,open-positions,scheduler-disabled"), root


def test_the_clean_rollback_is_verified(clean):
    run, root = clean
    assert run.code == 0, run.output[-3000:]
    assert set(run.outcomes) == ALL and run.passed() == ALL
    verdict = _verdict(root)
    assert verdict["overall"] == "TRANSITION VERIFIED" and verdict["world"] == "embedded"
    assert {row["item"] for row in verdict["items"]} == {
        "rollback_env_dry_run", "rollback_bot_dry_run", "rollback_discord_dry_run", "rollback_no_open_orders",
        "rollback_positions_closed", "rollback_scheduler"}
    assert "TRANSITION VERIFIED (rollback)" in run.output


def test_a_rollback_that_left_dry_run_false_fails_the_env_items(live_edit_with_incident):
    run, _root = live_edit_with_incident
    assert {ENV_MODE, ENV_BASELINE} <= run.failed()
    mode = run.outcomes[ENV_MODE].message
    assert "LIVE MODE configured" in mode and "DRY_RUN=false" in mode and "CRITICAL" in mode
    assert "DRY_RUN changed ('true' -> 'false')" in run.outcomes[ENV_BASELINE].message
    assert run.outcomes[SCHEDULER].outcome == "passed"


def test_an_open_incident_keeps_the_verdict_at_needs_remediation_naming_it(live_edit_with_incident):
    run, root = live_edit_with_incident
    assert run.code == 1
    verdict = _verdict(root)
    assert verdict["overall"] == "NEEDS REMEDIATION" and "incident_open" in verdict["headline"]
    row = next(row for row in verdict["items"] if row["item"] == "incident_open")
    assert row["status"] == "FAILED" and INCIDENT_REASON in row["why"] and "2026-02-10T14:31:00" in row["why"]
    assert "incident_open !" in run.output and "incident recorded at" in run.output  # the table (reason wrapped)


def test_a_bot_whose_log_still_says_paper_fails_the_bot_and_discord_items(not_restarted):
    run, root = not_restarted
    assert {LOG_DRY_RUN, LOG_CONFIGURATION, LOG_NO_PAPER, DISCORD_DRY_RUN} <= run.failed()
    assert {ENV_MODE, ENV_BASELINE, LOG_NO_LIVE, SCHEDULER} <= run.passed()  # the .env itself was rolled back
    assert "DRY_RUN=false (expected true)" in run.outcomes[LOG_CONFIGURATION].message
    assert "Paper trading mode ACTIVE" in run.outcomes[LOG_NO_PAPER].message
    assert "No DRY-RUN notification" in run.outcomes[DISCORD_DRY_RUN].message
    assert "PAPER TRADING" in run.outcomes[DISCORD_OTHER_MODE].message
    verdict = _verdict(root)
    assert _status(verdict, "rollback_bot_dry_run") == "FAILED" and _status(verdict, "rollback_env_dry_run") == \
        "VERIFIED"


def test_orders_and_positions_left_open_are_listed_and_a_disabled_task_fails(left_open):
    run, root = left_open
    assert run.failed() == {NO_OPEN_ORDERS, POSITIONS_CLOSED, SCHEDULER}, run.output[-3000:]
    orders = run.outcomes[NO_OPEN_ORDERS].message
    assert "order 77 (client 1) SELL 5 TSLA LMT @ 900" in orders and "DU****567" in orders
    assert "Positions to close as well: 10 SPY" in orders  # the operator gets both lists at once
    assert "DU1234567" not in orders
    assert "10 SPY" in run.outcomes[POSITIONS_CLOSED].message
    assert "is disabled" in run.outcomes[SCHEDULER].message
    verdict = _verdict(root)
    assert {row["item"] for row in verdict["items"] if row["status"] == "FAILED"} == {
        "rollback_no_open_orders", "rollback_positions_closed", "rollback_scheduler"}


_ROLLBACK = "test_rollback_worlds.py::"
MATRIX = [
    Fault("clean rollback", "nothing: rolled back with `harness switch dry-run`, restarted in dry-run", set(),
          _ROLLBACK + "test_the_clean_rollback_is_verified"),
    Fault("rollback left DRY_RUN=false", knobs({FAULTS: "rollback-dry-run-false"}) + "; an incident is still open",
          {ENV_MODE, ENV_BASELINE}, _ROLLBACK + "test_a_rollback_that_left_dry_run_false_fails_the_env_items",
          others_may_fail=True),
    Fault("bot not restarted", knobs({FAULTS: "rollback-not-restarted"}),
          {LOG_DRY_RUN, LOG_CONFIGURATION, LOG_NO_PAPER, DISCORD_DRY_RUN},
          _ROLLBACK + "test_a_bot_whose_log_still_says_paper_fails_the_bot_and_discord_items", others_may_fail=True),
    Fault("orders, positions and a disabled task left", knobs({FAULTS: "unknown-bot-order,open-positions,"
                                                                       "scheduler-disabled"}),
          {NO_OPEN_ORDERS, POSITIONS_CLOSED, SCHEDULER},
          _ROLLBACK + "test_orders_and_positions_left_open_are_listed_and_a_disabled_task_fails"),
]
