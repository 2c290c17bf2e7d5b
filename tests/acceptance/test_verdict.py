"""The run's verdict as an operator meets it: the table, the headline and an exit status that means it.

A bot directory checked without --live-gateway cannot see the gateway or Discord: its verdict is INCOMPLETE
(exit 6) naming those items, never green, until a named person attests what no check could see. The
embedded demo, where every check can look, is TRANSITION VERIFIED (exit 0).
"""

from __future__ import annotations

import json
import subprocess
import sys

from harness.core import clock
from harness.fakes.botdir import make_bot_dir
from harness.verdict.decide import EXIT_INCOMPLETE
from tests.acceptance.runner import run_features
from tests.acceptance.test_startup_worlds import clean_embedded_run

STARTUP_LINES = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
                 "Connecting to IBKR Gateway at localhost:4002", "Gateway connection established",
                 "Paper trading mode ACTIVE", "Bot initialized successfully"]
UNSEEN = {"dod_discord_paper", "dod_orders_paper", "dod_no_live_orders"}


def confirm(evidence, item: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", "confirm", item, "--by", "Ann Operator",
                           "--evidence-dir", str(evidence), *extra], timeout=60, capture_output=True, text=True)


def verdict_file(evidence) -> dict:
    return json.loads((evidence / "verdict-transition.json").read_text(encoding="utf-8"))


def test_what_no_check_could_see_is_incomplete_until_a_person_attests_it(tmp_path):
    bot = make_bot_dir(tmp_path / "bot")
    stamp = clock.local_now().replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
    with bot.log_file.open("a", encoding="utf-8") as log:
        log.writelines(f"{stamp},000 INFO bot: {text}\n" for text in STARTUP_LINES)
    evidence = tmp_path / "evidence"
    args = ("--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file), "--evidence-dir", str(evidence))

    run = run_features(tmp_path, *args)
    assert run.failed() == set(), run.output[-4000:]
    assert run.code == EXIT_INCOMPLETE, run.output[-4000:]
    headline = next(line for line in run.output.splitlines() if line.startswith("INCOMPLETE (transition)"))
    assert set(headline.replace(",", " ").split()) >= UNSEEN, headline
    body = verdict_file(evidence)
    statuses = {row["item"]: row["status"] for row in body["items"]}
    assert {statuses[item] for item in UNSEEN} == {"OPERATOR TO CONFIRM"}
    assert statuses["dod_env_unchanged"] == "VERIFIED" and statuses["dod_log_paper"] == "VERIFIED"
    assert body["exit_status"] == EXIT_INCOMPLETE and body["world"] == "bot directory"

    # The declaration cannot stand on an incomplete transition.
    refused = confirm(evidence, "dod_operator_declared")
    assert refused.returncode != 0 and "INCOMPLETE" in refused.stderr, refused.stderr

    for item in [name for name, status in statuses.items() if status == "OPERATOR TO CONFIRM"]:
        done = confirm(evidence, item, "--note", "looked at the portal")
        assert done.returncode == 0, done.stderr
    again = run_features(tmp_path, *args)
    assert again.code == 0, again.output[-4000:]
    assert "TRANSITION VERIFIED (transition)" in again.output
    statuses = {row["item"]: row["status"] for row in verdict_file(evidence)["items"]}
    assert {statuses[item] for item in UNSEEN} == {"ATTESTED"}
    assert "attested by Ann Operator" in again.output

    # Verified, but of a bot directory without its gateway: still not the real transition's declaration.
    refused = confirm(evidence, "dod_operator_declared")
    assert refused.returncode != 0 and "bot directory world" in refused.stderr, refused.stderr


def test_the_embedded_demo_is_verified_and_exits_0(shared_runs):
    run = clean_embedded_run(shared_runs)
    assert run.code == 0, run.output[-4000:]
    assert "TRANSITION VERIFIED (transition)" in run.output
    body = verdict_file(run.evidence)
    assert body["world"] == "embedded" and {row["status"] for row in body["items"]} == {"VERIFIED"}


def test_a_partial_run_is_never_a_transition_verdict(tmp_path):
    bot = make_bot_dir(tmp_path / "bot")
    run = run_features(tmp_path, "--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
                       "--evidence-dir", str(tmp_path / "evidence"), "-k", "dry_run_is_false",
                       paths=("features/01_configuration.feature",))
    assert run.passed() and run.failed() == set(), run.output[-3000:]
    assert run.code == EXIT_INCOMPLETE, run.output[-3000:]
    assert "not run" in run.output and "TRANSITION VERIFIED" not in run.output
