"""Preflight (Step 0 and Step 1): attestations, the shutdown time, no bot process. Each wrong world fails
the right scenario; what only a person can attest is "operator to confirm" until it is recorded."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime

from harness.fakes.botdir import make_bot_dir
from harness.probes.market import NEW_YORK
from tests.acceptance.matrix import Fault
from tests.acceptance.runner import run_features

FEATURE = ("features/00_preflight.feature",)
MANUAL = {
    "test_task_42_stability_summary_reviewed_and_approved_by_the_operator": "pre_task_4_2_approved",
    "test_all_6_stability_criteria_of_task_42_are_met": "pre_stability_criteria",
    "test_the_operator_explicitly_authorizes_the_transition_to_paper_trading": "pre_operator_authorized",
}
SHUTDOWN = "test_the_bot_was_stopped_outside_regular_market_hours"
NO_PROCESS = "test_no_bot_process_is_running_during_the_switch"


PREFLIGHT_CLEAN = "preflight clean"  # also the clean world of test_order_worlds' preflight gateway scenarios
NEW_YORK_TUESDAY_11 = datetime(2026, 2, 10, 11, 0, tzinfo=NEW_YORK)
SHUTDOWN_IN_SESSION = Fault("shutdown during market hours", "`--shutdown-time` is 11:00 New York on a Tuesday",
                            {SHUTDOWN}, "test_preflight_worlds.py::test_shutdown_during_market_hours_fails",
                            others_may_fail=True)
SHUTDOWN_LOGGED_IN_SESSION = Fault(
    "shutdown read from the log during market hours", "the bot's log says it shut down at 11:00 New York on a Tuesday",
    {SHUTDOWN}, "test_preflight_worlds.py::test_shutdown_read_from_the_log_during_market_hours_fails",
    others_may_fail=True)
BOT_RUNNING = Fault("bot still running", "a process whose command line matches --bot-process is running", {NO_PROCESS},
                    "test_preflight_worlds.py::test_running_bot_process_fails", others_may_fail=True)
MATRIX = [
    Fault(PREFLIGHT_CLEAN, "nothing, and nobody has attested the manual items yet", set(),
          "test_preflight_worlds.py::test_manual_items_are_operator_to_confirm_until_attested",
          skips=set(MANUAL), others_may_fail=True),
    Fault("shutdown on a holiday", "nothing: `--shutdown-time` is 11:00 New York on Thanksgiving", set(),
          "test_preflight_worlds.py::test_shutdown_on_a_holiday_passes", others_may_fail=True),
    SHUTDOWN_IN_SESSION,
    SHUTDOWN_LOGGED_IN_SESSION,
    BOT_RUNNING,
]


def preflight(tmp_path, *args, env=None):
    return run_features(tmp_path, "--phase", "preflight", "--evidence-dir", str(tmp_path / "evidence"), *args,
                        env=env, paths=FEATURE)


def test_manual_items_are_operator_to_confirm_until_attested(shared_runs):
    run = shared_runs.features(PREFLIGHT_CLEAN, "--phase", "preflight", paths=FEATURE)
    for name in MANUAL:
        assert run.outcomes[name].outcome == "skipped"
        assert "operator to confirm" in run.outcomes[name].message and "harness confirm" in run.outcomes[name].message
    assert {SHUTDOWN, NO_PROCESS} <= run.passed()


def test_attested_items_pass(tmp_path):
    for item in MANUAL.values():
        subprocess.run([sys.executable, "-m", "harness.cli", "confirm", item, "--by", "Ann Operator",
                        "--evidence-dir", str(tmp_path / "evidence")], check=True, timeout=60, capture_output=True)
    run = preflight(tmp_path)
    assert set(MANUAL) <= run.passed()


def test_shutdown_during_market_hours_fails(tmp_path):
    run = preflight(tmp_path, "--shutdown-time", NEW_YORK_TUESDAY_11.isoformat())
    assert SHUTDOWN_IN_SESSION.fails <= run.failed()
    assert "inside the NYSE regular session" in run.outcomes[SHUTDOWN].message


def test_shutdown_read_from_the_log_during_market_hours_fails(tmp_path):
    bot = make_bot_dir(tmp_path / "bot", switch=False)
    during = NEW_YORK_TUESDAY_11.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    bot.log_file.write_text(f"{during},000 INFO bot: Shutting down: clean shutdown complete\n", encoding="utf-8")
    run = preflight(tmp_path, "--bot-dir", str(bot.root))
    assert SHUTDOWN_LOGGED_IN_SESSION.fails <= run.failed()
    assert "bot.log:1" in run.outcomes[SHUTDOWN].message
    message = run.outcomes[SHUTDOWN].message
    assert "read as this machine's local time" in message and "--bot-log-tz" in message


def test_shutdown_on_a_holiday_passes(tmp_path):
    thanksgiving = datetime(2026, 11, 26, 11, 0, tzinfo=NEW_YORK).isoformat()
    run = preflight(tmp_path, "--shutdown-time", thanksgiving)
    assert SHUTDOWN in run.passed()


def test_running_bot_process_fails(tmp_path):
    """The process's command line carries a marker of its own (given as --bot-process), so that no other
    test's run, and no other run on this machine, sees a bot running."""
    marker = f"harness-test-bot-{uuid.uuid4().hex}"
    bot = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", marker])
    try:
        run = preflight(tmp_path, "--bot-process", marker)
    finally:
        bot.kill()
        bot.wait(timeout=10)
    assert BOT_RUNNING.fails <= run.failed()
    assert str(bot.pid) in run.outcomes[NO_PROCESS].message
