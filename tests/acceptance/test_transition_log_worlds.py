"""The transition log built from real runs of the operator's commands on the embedded world: the README's demo
(`harness demo`) for the clean procedure, which says SUCCESS; `pytest features/ --phase X --evidence-dir D` for
the faulty worlds, each NEEDS REMEDIATION naming its item; and a paper gateway that is down leaves no paper
gateway box green."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from harness.evidence import attestations as attestation_log
from harness.evidence import runs as run_files
from harness.fakes.embedded import FAULTS_VARIABLE
from harness.report import board_card, transition_log
from tests.acceptance.runner import Run, SharedRuns, harness_demo_as_written
from tests.acceptance.test_order_worlds import ROUTING
from tests.acceptance.test_startup_worlds import STARTUP_FEATURE

RAW_ACCOUNT = re.compile(r"\b(DU|DF|U|F)\d{5,9}\b")
# Boxes whose checks read the paper gateway. (The live account is read from the live gateway, which the
# gateway-down fault leaves up: its box may rightly stay green.)
GATEWAY_BOXES = ("IBKR paper trading account accessible", "Zero open positions in the paper account",
                 "Orders submitted to IBKR paper account", "Paper account activity reflects bot behavior")


@pytest.fixture(scope="module")
def clean(shared_runs: SharedRuns) -> Run:
    """The README's demo: the three attestations, preflight, transition, a compressed first hour (harness watch)
    and first day, and harness report, into one evidence directory, as the operator runs them."""
    return shared_runs.made("the README's demo", harness_demo_as_written)


def status(text: str) -> str:
    return re.search(r"^\*\*Status:\*\* (.+)$", text, re.M).group(1)


def box(text: str, start: str) -> str:
    found = [line for line in text.splitlines() if line.startswith("- [") and start in line]
    assert found, f"no box {start!r}"
    return found[0]


def log_of(*evidence_dirs: Path, leave_out: tuple[str, ...] = ()) -> str:
    runs: dict = {}
    attestations: dict = {}
    for evidence in evidence_dirs:
        runs.update(run_files.latest_runs(evidence))
        attestations.update(attestation_log.load(evidence)[0])
    kept = {phase: run for phase, run in runs.items() if phase not in leave_out}
    return transition_log.build(kept, attestations, picture="report/paper-account.png")


def test_the_clean_procedure_says_success_and_the_same_evidence_gives_the_same_bytes(clean, tmp_path):
    evidence = tmp_path / "evidence"
    shutil.copytree(clean.evidence, evidence)
    without_first_day = log_of(evidence, leave_out=("first-day",))
    assert status(without_first_day) == "INCOMPLETE"
    assert "- first-day: not run yet" in without_first_day
    text = log_of(evidence)
    assert status(text) == "SUCCESS", text[-3000:]
    for phase in ("preflight", "transition", "first-hour", "first-day"):
        assert re.search(rf"^\| {phase} \| `\d{{8}}T\d{{6}}Z-{phase}-embedded` \| embedded \| .* \| TRANSITION "
                         rf"VERIFIED \|$", text, re.M)
    assert box(text, "Task 4.2 stability summary").startswith("- [✅]")
    assert "attested by demo operator (harness demo)" in text
    assert box(text, "Orders submitted to IBKR paper account").startswith("- [✅]")
    assert box(text, "No crashes or unexpected shutdowns").startswith("- [✅]")  # the watch's rounds
    assert box(text, "Bot auto-started via Task Scheduler").startswith("- [✅]")  # the first day
    assert box(text, "Gateway reconnection after 4:30 PM ET restart").startswith("- [✅]")
    first_day = text.split("## First 24 Hours Post-Transition")[1].split("\n---\n")[0]
    assert "operator to confirm" not in first_day, first_day  # every first-day box was seen
    assert box(first_day, "Discord notification confirmed paper trading mode").startswith(
        '- [✅] Discord notification confirmed paper trading mode — "Bot started in PAPER TRADING mode at ')
    assert 'scenario "The scheduled start\'s Discord notification says paper trading mode" passed' in first_day
    assert box(first_day, "Orders executed in paper account").startswith("- [✅]")
    assert box(first_day, "NO orders in live account").startswith("- [✅]")
    assert text.splitlines()[2] == transition_log.EMBEDDED_BANNER  # the embedded world is a demonstration
    assert "**Next Step:** Run the procedure on your bot (README: Use it on your bot)" in text
    assert "Paper trading mode ACTIVE" in text and re.search(r"bot\.log:\d+ ", text)
    assert "Bot started in PAPER TRADING mode at" in text
    assert not RAW_ACCOUNT.search(text) and "DU****567" in text
    assert log_of(evidence).encode("utf-8") == text.encode("utf-8")
    written = transition_log.write(text, [tmp_path / "bot" / "docs" / "Task_4_3_Transition_Log.md"])
    assert written[0].read_bytes() == text.encode("utf-8")
    card = board_card.render(run_files.latest_runs(evidence), attestation_log.load(evidence)[0], {})
    assert "✅ SUCCESS" in card.splitlines()[0]


# Each faulty world is run with the feature that breaks it, the very run the order and startup worlds assert on
# (shared): the log of a partial run must still name the failed item.
FAULTY = {
    "live account activity": ({FAULTS_VARIABLE: "live-account-activity"}, "dod_no_live_orders", ROUTING),
    "gateway on a live account": ({FAULTS_VARIABLE: "gateway-live-account"}, "dod_orders_paper", ROUTING),
    "bot logs live mode": ({"BOT_FAULTS": "live-log"}, "dod_log_paper", STARTUP_FEATURE),
    "Discord says dry-run": ({"BOT_FAULTS": "discord-dry-run"}, "dod_discord_paper", STARTUP_FEATURE),
}


@pytest.mark.parametrize("world", sorted(FAULTY))
def test_a_faulty_world_needs_remediation_naming_its_item(shared_runs, world):
    env, failed_item, paths = FAULTY[world]
    run = shared_runs.features(f"transition log: {world}", env=env, paths=paths)
    text = log_of(run.evidence)
    assert status(text) == "NEEDS REMEDIATION"
    assert re.search(rf"^- ❌ transition: {failed_item}: ", text, re.M), text[-3000:]
    assert f"FAILED: {failed_item}:" in text
    assert not RAW_ACCOUNT.search(text)


FIRST_DAY_FAULTY = {
    "Discord says dry-run on the first day": ("first-day-discord-dry-run", "Discord notification confirmed"),
    "an order the bot never logged": ("first-day-unlogged-order", "Orders executed in paper account"),
    "an order in the live account": ("live-account-activity", "NO orders in live account"),
}


@pytest.mark.parametrize("world", sorted(FIRST_DAY_FAULTY))
def test_a_faulty_first_day_turns_its_own_first_day_box_red(shared_runs, world):
    fault, start = FIRST_DAY_FAULTY[world]
    run = shared_runs.features(f"transition log: first day, {world}", "--phase", "first-day",
                               env={FAULTS_VARIABLE: fault})
    text = log_of(run.evidence)
    assert status(text) == "NEEDS REMEDIATION"
    first_day = text.split("## First 24 Hours Post-Transition")[1].split("\n---\n")[0]
    red = [line for line in first_day.splitlines() if line.startswith("- [❌]")]
    assert box(first_day, start).startswith("- [❌]"), first_day
    assert all(start in line for line in red), red  # each box is decided by the scenarios that speak to it
    assert not RAW_ACCOUNT.search(text)


def test_a_gateway_that_is_down_leaves_no_gateway_box_green(shared_runs):
    env = {FAULTS_VARIABLE: "gateway-down"}
    before = shared_runs.features("transition log: gateway down, preflight", "--phase", "preflight", env=env)
    after = shared_runs.features("transition log: gateway down, transition", "--phase", "transition", env=env)
    text = log_of(before.evidence, after.evidence)
    for start in GATEWAY_BOXES:
        assert not box(text, start).startswith("- [✅]"), box(text, start)
    assert status(text) != "SUCCESS"
    assert "**Open Positions in IBKR Paper Account:** operator to confirm" in text
