"""`pytest features/ --phase first-day`, the operator's command, against embedded first days lived in seconds
(harness.fakes.first_day): the clean day verifies dod_autostart (with the scheduled start's Discord notification),
dod_reconnect, dod_no_crashes, dod_orders_paper (the day's orders at the paper gateway) and dod_no_live_orders; each
faulty day fails exactly the scenarios of what it got wrong.

Every world's first day is a Monday (the most recent one after a weekend that is over), so the weekly re-login is
asked in every world and answered "handled" in the clean one. One run per world: no two tests read the same one."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report import transition_log
from tests.acceptance.matrix import Fault, knobs
from tests.acceptance.runner import Run, SharedRuns

FAULTS = "HARNESS_EMBEDDED_FAULTS"
AUTOSTART = "test_the_bot_was_autostarted_at_0600_et_on_the_first_trading_day"
PAPER_START = "test_the_scheduled_start_was_in_paper_trading_mode"
SCHEDULER = "test_the_scheduler_starts_the_bot_at_0600_americanew_york_on_trading_days_in_paper_mode"
RECONNECT = "test_the_bot_reconnected_after_the_gateways_1630_et_restart"
RELOGIN = "test_the_bot_handled_ib_gateways_weekly_relogin_before_the_first_day"
NO_CRASH = "test_no_crash_restart_or_silence_in_the_24_hours"
DISCORD = transition_log.FIRST_DAY_DISCORD[1]  # the transition log's Discord box reads this scenario's row
DAY_ORDERS = "test_the_bots_orders_of_the_first_day_reached_the_paper_account"
NO_LIVE = "test_the_live_account_holds_no_order_and_no_execution"
ALL = {AUTOSTART, PAPER_START, SCHEDULER, RECONNECT, RELOGIN, NO_CRASH, DISCORD, DAY_ORDERS, NO_LIVE}
_MODULE = "test_first_day_worlds.py::"


def _first_day_run(shared_runs: SharedRuns, faults: str = "") -> Run:
    """The first-day phase on the world with `faults`, run once per session (the transition log's tests read the
    same runs)."""
    return shared_runs.features(f"first day: {faults or 'clean'}", "--phase", "first-day",
                                env={FAULTS: faults} if faults else {})


def _verdict(root: Path) -> dict:
    return json.loads((root / "evidence" / "verdict-first-day.json").read_text(encoding="utf-8"))


def _fails_exactly(run: Run, fault: Fault) -> None:
    """The row's scenarios fail, its skips are "operator to confirm", every other scenario passes."""
    assert set(run.outcomes) == ALL, run.output[-3000:]
    assert run.failed() == fault.fails, run.output[-3000:]
    assert run.skipped() == fault.skips, run.output[-3000:]
    assert run.passed() == ALL - fault.fails - fault.skips
    assert run.code == 1


def _row(name: str) -> Fault:
    return next(fault for fault in MATRIX if fault.test == _MODULE + name)


def test_the_clean_first_day_is_verified(shared_runs):
    run = _first_day_run(shared_runs)
    assert run.code == 0, run.output[-3000:]
    assert set(run.outcomes) == ALL and run.passed() == ALL
    verdict = _verdict(run.evidence.parent)
    assert verdict["overall"] == "TRANSITION VERIFIED" and verdict["world"] == "embedded"
    assert {row["item"]: row["status"] for row in verdict["items"]} == {
        "dod_autostart": "VERIFIED", "dod_reconnect": "VERIFIED", "dod_no_crashes": "VERIFIED",
        "dod_orders_paper": "VERIFIED", "dod_no_live_orders": "VERIFIED"}
    assert "TRANSITION VERIFIED (first-day)" in run.output
    rows = {row["scenario"]: row for path in (run.evidence / "runs").glob("*/evidence*.jsonl")
            for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())}
    notification = next(r["facts"] for r in rows[DISCORD]["records"] if r["name"] == "startup notification")
    # Posted on the world's clock at the scheduled start, and found there (not at the time the run was made).
    assert "PAPER TRADING" in notification["match"]["content"] and notification["delta"] == "datetime.timedelta(0)"
    reconciled = next(r["facts"] for r in rows[DAY_ORDERS]["records"] if r["name"] == "first day: reconciliation")
    assert len(reconciled["matched"]) == 3 and not reconciled["missing"] and not reconciled["unknown"]


def test_a_dry_run_discord_notification_fails_the_discord_scenario(shared_runs):
    run = _first_day_run(shared_runs, "first-day-discord-dry-run")
    _fails_exactly(run, _row("test_a_dry_run_discord_notification_fails_the_discord_scenario"))
    assert "DRY-RUN" in run.outcomes[DISCORD].message


def test_no_discord_notification_fails_the_discord_scenario(shared_runs):
    run = _first_day_run(shared_runs, "first-day-no-discord")
    _fails_exactly(run, _row("test_no_discord_notification_fails_the_discord_scenario"))
    assert "No PAPER TRADING notification" in run.outcomes[DISCORD].message


def test_an_order_the_bot_never_logged_fails_the_day_orders(shared_runs):
    run = _first_day_run(shared_runs, "first-day-unlogged-order")
    _fails_exactly(run, _row("test_an_order_the_bot_never_logged_fails_the_day_orders"))
    assert "DIA" in run.outcomes[DAY_ORDERS].message and "never logged" in run.outcomes[DAY_ORDERS].message


def test_an_order_in_the_live_account_fails_the_live_account_check(shared_runs):
    run = _first_day_run(shared_runs, "live-account-activity")
    _fails_exactly(run, _row("test_an_order_in_the_live_account_fails_the_live_account_check"))
    assert "ORDERS IN THE LIVE ACCOUNT" in run.outcomes[NO_LIVE].message


def test_a_bot_started_by_hand_fails_the_autostart(shared_runs):
    run = _first_day_run(shared_runs, "first-day-no-autostart")
    _fails_exactly(run, _row("test_a_bot_started_by_hand_fails_the_autostart"))
    assert "09:12" in run.outcomes[AUTOSTART].message


def test_a_task_that_sets_dry_run_fails_the_scheduler_and_the_paper_start(shared_runs):
    """The task's environment reaches the bot: its 06:00 start ran in dry-run mode, and the task says why."""
    run = _first_day_run(shared_runs, "first-day-task-env-dry-run")
    _fails_exactly(run, _row("test_a_task_that_sets_dry_run_fails_the_scheduler_and_the_paper_start"))
    assert "DRY_RUN=true" in run.outcomes[SCHEDULER].message
    assert "DRY_RUN=true" in run.outcomes[PAPER_START].message
    assert "DRY-RUN" in run.outcomes[DISCORD].message  # the dry-run bot announced its mode too


def test_a_trigger_at_a_fixed_offset_fails_the_scheduler(shared_runs):
    run = _first_day_run(shared_runs, "first-day-trigger-wrong-zone")
    _fails_exactly(run, _row("test_a_trigger_at_a_fixed_offset_fails_the_scheduler"))
    assert "does not follow daylight saving time" in run.outcomes[SCHEDULER].message


def test_a_task_that_stops_the_bot_after_8_hours_fails_the_scheduler(shared_runs):
    run = _first_day_run(shared_runs, "first-day-task-time-limit")
    _fails_exactly(run, _row("test_a_task_that_stops_the_bot_after_8_hours_fails_the_scheduler"))
    assert "the bot is stopped at 14:00, before 16:30" in run.outcomes[SCHEDULER].message


def test_a_bot_that_never_reconnects_fails_the_reconnect(shared_runs):
    run = _first_day_run(shared_runs, "first-day-no-reconnect")
    _fails_exactly(run, _row("test_a_bot_that_never_reconnects_fails_the_reconnect"))
    assert "16:30" in run.outcomes[RECONNECT].message


def test_a_crash_at_noon_and_a_restart_fail_no_crash_with_both_times(shared_runs):
    run = _first_day_run(shared_runs, "first-day-crash-at-noon")
    _fails_exactly(run, _row("test_a_crash_at_noon_and_a_restart_fail_no_crash_with_both_times"))
    message = run.outcomes[NO_CRASH].message
    assert "12:00" in message and "12:03" in message


def test_a_missed_weekly_relogin_fails_the_relogin(shared_runs):
    run = _first_day_run(shared_runs, "first-day-relogin-missed")
    _fails_exactly(run, _row("test_a_missed_weekly_relogin_fails_the_relogin"))
    assert "08:40" in run.outcomes[RELOGIN].message


MATRIX = [
    Fault("clean first day", "nothing: auto-started at 06:00 ET in paper mode and said so on Discord, its orders open "
          "at the paper gateway, reconnected 2 minutes after the 16:30 restart, a heartbeat every 10 minutes to 06:00 "
          "the next day, nothing in the live account", set(),
          _MODULE + "test_the_clean_first_day_is_verified"),
    Fault("started by hand", knobs({FAULTS: "first-day-no-autostart"}), {AUTOSTART},
          _MODULE + "test_a_bot_started_by_hand_fails_the_autostart", skips={PAPER_START, DISCORD}),
    Fault("task sets DRY_RUN", knobs({FAULTS: "first-day-task-env-dry-run"}), {SCHEDULER, PAPER_START, DISCORD},
          _MODULE + "test_a_task_that_sets_dry_run_fails_the_scheduler_and_the_paper_start", skips={DAY_ORDERS}),
    Fault("trigger at a fixed offset", knobs({FAULTS: "first-day-trigger-wrong-zone"}), {SCHEDULER},
          _MODULE + "test_a_trigger_at_a_fixed_offset_fails_the_scheduler"),
    Fault("task stops the bot after 8 hours", knobs({FAULTS: "first-day-task-time-limit"}), {SCHEDULER},
          _MODULE + "test_a_task_that_stops_the_bot_after_8_hours_fails_the_scheduler"),
    Fault("no reconnection", knobs({FAULTS: "first-day-no-reconnect"}), {RECONNECT},
          _MODULE + "test_a_bot_that_never_reconnects_fails_the_reconnect"),
    Fault("crash at noon", knobs({FAULTS: "first-day-crash-at-noon"}), {NO_CRASH},
          _MODULE + "test_a_crash_at_noon_and_a_restart_fail_no_crash_with_both_times"),
    Fault("weekly re-login missed", knobs({FAULTS: "first-day-relogin-missed"}), {RELOGIN},
          _MODULE + "test_a_missed_weekly_relogin_fails_the_relogin"),
    Fault("Discord says dry-run on the first day", knobs({FAULTS: "first-day-discord-dry-run"}), {DISCORD},
          _MODULE + "test_a_dry_run_discord_notification_fails_the_discord_scenario"),
    Fault("no Discord notification on the first day", knobs({FAULTS: "first-day-no-discord"}), {DISCORD},
          _MODULE + "test_no_discord_notification_fails_the_discord_scenario"),
    Fault("an order the bot never logged", knobs({FAULTS: "first-day-unlogged-order"}), {DAY_ORDERS},
          _MODULE + "test_an_order_the_bot_never_logged_fails_the_day_orders"),
    Fault("an order in the live account", knobs({FAULTS: "live-account-activity"}), {NO_LIVE},
          _MODULE + "test_an_order_in_the_live_account_fails_the_live_account_check"),
]
