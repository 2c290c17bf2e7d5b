"""The transition log from run directories written by hand (docs/evidence-layout.md): ✅ only from a passed check
or an attestation, ❌ from a failure, "operator to confirm" otherwise; SUCCESS only when the four phases are
verified; the same evidence gives the same bytes; no account id or secret in the text."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from harness.core import dod
from harness.evidence import runs as run_files
from harness.evidence.attestations import Attestation
from harness.report import transition_log

PAPER_ACCOUNT = "DU7654321"  # planted: only its masked form may appear
WEBHOOK = "https://discord.com/api/webhooks/123456789/SeCrEtWeBhOoKtOkEn_abcdef"  # planted in a message

PHASE_ITEMS = {
    "preflight": ("pre_task_4_2_approved", "pre_stability_criteria", "pre_operator_authorized", "pre_paper_account",
                  "step1_shutdown", "step1_no_positions"),
    "transition": ("dod_env_mode", "dod_env_unchanged", "dod_env_committed", "dod_log_paper", "dod_discord_paper",
                   "dod_orders_paper", "dod_no_live_orders"),
    "first-hour": ("dod_log_paper", "dod_discord_paper", "dod_orders_paper", "dod_no_live_orders", "dod_no_crashes"),
    "first-day": ("dod_autostart", "dod_reconnect", "dod_no_crashes", "dod_orders_paper", "dod_no_live_orders",
                  "dod_log_paper", "dod_discord_paper"),
    "rollback": tuple(i.id for i in dod.ITEMS if i.section == "Rollback Plan"),
}
STARTS = {"preflight": "2026-11-24T22:00:00+00:00", "transition": "2026-11-24T22:30:00+00:00",
          "first-hour": "2026-11-24T23:00:00+00:00", "first-day": "2026-11-25T23:00:00+00:00",
          "rollback": "2026-11-26T01:00:00+00:00"}


def item(item_id: str, status: str = "VERIFIED", why: str = "2 check(s) passed") -> dict:
    entry = dod.BY_ID[item_id]
    return {"item": item_id, "text": entry.text, "status": status, "why": why, "critical": False, "scenarios": []}


def transition_rows() -> list[dict]:
    log = "/home/op/bot/logs/bot.log"
    lines = [{"path": log, "lineno": n, "timestamp": "2026-11-24T22:20:00+00:00", "text": text}
             for n, text in ((3, "2026-11-24 17:20:00,000 INFO bot: Configuration loaded: DRY_RUN=false, "
                                 "PAPER_TRADING=true"),
                             (6, f"2026-11-24 17:20:01,000 INFO bot: Paper trading mode ACTIVE for {PAPER_ACCOUNT}"))]
    return [
        {"nodeid": "features/01.feature::test_env", "scenario": "env", "tags": ["dod_env_mode"], "outcome": "passed",
         "message": "", "records": [{"name": "changes since the baseline", "facts": {"changes": [
             {"key": "DRY_RUN", "change": "changed", "before": "true", "after": "false"},
             {"key": "PAPER_TRADING", "change": "changed", "before": "false", "after": "true"}]}}]},
        {"nodeid": "features/02.feature::test_log", "scenario": "log", "tags": ["dod_log_paper"], "outcome": "passed",
         "message": "", "records": [
             {"name": "newest startup block", "facts": {"where": f"{log}:3", "started_at": "2026-11-24T22:20:00+00:00",
                                                        "first_lines": lines}},
             {"name": "startup notification", "facts": {"looked": True, "match": {
                 "content": f"Bot started in PAPER TRADING mode at 2026-11-24 22:20:01 UTC {WEBHOOK}",
                 "timestamp": "2026-11-24T22:20:01+00:00", "author": "Trading Bot"}}}]},
    ]


def paper_account() -> dict:
    return {"host": "127.0.0.1", "port": 4002, "handshake_ok": True, "accounts": [PAPER_ACCOUNT], "all_paper": True,
            "positions": [], "completed_orders": [], "executions": [],
            "open_orders": [{"order_id": 3, "account": PAPER_ACCOUNT, "symbol": "SPY", "action": "BUY",
                             "quantity": 1.0, "status": "PreSubmitted"}],
            "observed_at": "2026-11-24T22:21:00+00:00"}


AUTOSTART_SCENARIOS = (*transition_log.FIRST_DAY_AUTOSTARTED, *transition_log.FIRST_DAY_STARTUP_LOGS,
                       transition_log.FIRST_DAY_DISCORD[1:])


def first_day_rows(outcome: str = "passed", message: str = "", scenario: str | None = None) -> list[dict]:
    """The first-day run's rows of the scenarios its Auto-Start boxes read; `scenario` (default: the scheduled
    start's Discord scenario) has `outcome`, the others passed."""
    scenario = scenario or transition_log.FIRST_DAY_DISCORD[1]
    rows = []
    for name, _title in AUTOSTART_SCENARIOS:
        row = {"nodeid": f"features/04_first_day.feature::{name}", "scenario": name, "tags": ["dod_autostart"],
               "outcome": outcome if name == scenario else "passed", "message": message if name == scenario else "",
               "records": []}
        if name == transition_log.FIRST_DAY_DISCORD[1]:
            row["records"] = [{"name": "startup notification", "facts": {"looked": True, "match": {
                "content": "Bot started in PAPER TRADING mode at 2026-11-23 06:00:00 EST",
                "timestamp": "2026-11-23T11:00:00+00:00", "author": "Trading Bot"}}}]
        rows.append(row)
    return rows


def make_run(evidence: Path, phase: str, overall: str = "TRANSITION VERIFIED", items: list[dict] | None = None,
             rows: list[dict] | None = None, paper: dict | None = None, rounds: list[dict] | None = None,
             started: str | None = None, verdict: bool = True, world: str = "live") -> Path:
    """A finished run directory as harness.evidence.runs writes it."""
    at = datetime.fromisoformat(started or STARTS[phase])
    folder = run_files.new_run_dir(evidence, phase, world, started=at)
    if items is None:
        items = [item(i) for i in PHASE_ITEMS[phase]]
    if verdict:
        body = {"phase": phase, "world": world, "decided_at": STARTS[phase], "overall": overall,
                "headline": f"{overall} ({phase})", "items": items}
        (folder / "verdict.json").write_text(json.dumps(body), encoding="utf-8")
    if rows:
        (folder / "evidence.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if paper:
        (folder / "paper-account.json").write_text(json.dumps(paper), encoding="utf-8")
    if rounds:
        (folder / "watch-rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds), encoding="utf-8")
    body = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    body["finished_at"] = STARTS[phase]
    (folder / "run.json").write_text(json.dumps(body), encoding="utf-8")
    return folder


def verified_world(evidence: Path, skip: tuple[str, ...] = (), world: str = "live") -> None:
    rows = {"transition": transition_rows(), "first-day": first_day_rows()}
    for phase in ("preflight", "transition", "first-hour", "first-day"):
        if phase in skip:
            continue
        make_run(evidence, phase, rows=rows.get(phase), paper=paper_account() if phase == "transition" else None,
                 world=world)


def build(evidence: Path, attestations: dict | None = None, picture: str | None = "report/paper-account.png") -> str:
    return transition_log.build(run_files.latest_runs(evidence), attestations or {}, picture=picture)


def boxes(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("- [")]


def status(text: str) -> str:
    return re.search(r"^\*\*Status:\*\* (.+)$", text, re.M).group(1)


def test_four_verified_phases_say_success_and_every_box_is_green(tmp_path):
    verified_world(tmp_path)
    signed = {i: Attestation(i, "Ana", "2026-11-26T09:00:00+00:00") for i in transition_log.OPERATOR_ITEMS}
    text = build(tmp_path, signed)
    assert status(text) == "SUCCESS"
    assert all(line.startswith("- [✅]") for line in boxes(text)), [b for b in boxes(text) if "[✅]" not in b]
    assert "**Next Step:** Proceed to Task 4.4" in text
    assert "Embedded world" not in text
    assert "![IBKR paper account](report/paper-account.png)" in text
    assert "bot.log:6" in text and "/home/op" not in text  # file:line, not the operator's folders
    assert "DRY_RUN=true\nPAPER_TRADING=false" in text and "DRY_RUN=false\nPAPER_TRADING=true" in text


def test_the_same_evidence_gives_the_same_bytes(tmp_path):
    verified_world(tmp_path)
    attestations = {"dod_operator_declared": Attestation("dod_operator_declared", "Ana", "2026-11-26T09:00:00+00:00")}
    first = build(tmp_path, attestations)
    second = build(tmp_path, dict(attestations))
    assert first.encode("utf-8") == second.encode("utf-8")
    assert "\r" not in first and first.endswith("\n")


def test_no_account_id_or_webhook_token_reaches_the_log(tmp_path):
    verified_world(tmp_path)
    text = build(tmp_path)
    assert PAPER_ACCOUNT not in text and "SeCrEtWeBhOoKtOkEn" not in text
    assert "DU****321" in text


def test_a_failed_item_gives_needs_remediation_naming_it_and_a_red_box(tmp_path):
    verified_world(tmp_path, skip=("transition",))
    items = [item(i) for i in PHASE_ITEMS["transition"] if i != "dod_no_live_orders"]
    items.append(item("dod_no_live_orders", "FAILED", "the live account shows order 7 placed today (failed: live)"))
    make_run(tmp_path, "transition", "NEEDS REMEDIATION", items, rows=transition_rows())
    text = build(tmp_path)
    assert status(text) == "NEEDS REMEDIATION"
    assert "- ❌ transition: dod_no_live_orders: the live account shows order 7" in text
    assert "- [❌] NO orders submitted to IBKR live account — FAILED: dod_no_live_orders:" in text
    assert "- [❌] ZERO orders in live account" in text
    assert "Address issues and retry" in text


def test_a_skip_or_not_run_is_never_green(tmp_path):
    verified_world(tmp_path, skip=("transition",))
    items = [item(i) for i in PHASE_ITEMS["transition"] if i not in ("dod_discord_paper", "dod_orders_paper")]
    items.append(item("dod_discord_paper", "OPERATOR TO CONFIRM", "operator to confirm: no Discord bot token"))
    items.append(item("dod_orders_paper", "NOT RUN", "1 of 7 check(s) not run in this run"))
    make_run(tmp_path, "transition", "INCOMPLETE", items)
    text = build(tmp_path)
    assert status(text) == "INCOMPLETE"
    assert "- [ ] Notification confirms paper trading mode — operator to confirm: dod_discord_paper: no Discord" in text
    assert "- [ ] Orders submitted to IBKR paper account (verified at the paper gateway) — operator to confirm: " \
           "dod_orders_paper (not run):" in text
    assert "transition: dod_discord_paper: no Discord bot token" in text


def test_phases_not_run_say_so_and_the_log_is_incomplete(tmp_path):
    make_run(tmp_path, "preflight")
    text = build(tmp_path, picture=None)
    assert status(text) == "INCOMPLETE"
    assert "_The transition run has not been made yet (`harness check --phase transition`)" in text
    assert "_The first-day run has not been made yet" in text
    assert "- first-hour: not run yet (`harness watch --for 1h`)" in text
    assert "[✅] Orders submitted" not in text
    assert "no picture" in text


def test_no_runs_at_all_hold_no_green_box(tmp_path):
    text = transition_log.build({}, {})
    assert status(text) == "INCOMPLETE"
    assert not any("[✅]" in line for line in boxes(text))


def test_a_manual_item_attested_after_the_run_is_green_with_who_and_when_but_the_phase_is_rerun(tmp_path):
    verified_world(tmp_path, skip=("preflight",))
    items = [item(i) for i in PHASE_ITEMS["preflight"] if i != "pre_task_4_2_approved"]
    items.insert(0, item("pre_task_4_2_approved", "OPERATOR TO CONFIRM", "operator to confirm: Task 4.2 ..."))
    make_run(tmp_path, "preflight", "INCOMPLETE", items)
    attestations = {"pre_task_4_2_approved": Attestation("pre_task_4_2_approved", "Ana", "2026-11-24T23:00:00+00:00")}
    text = build(tmp_path, attestations)
    assert "- [✅] Task 4.2 stability summary reviewed and approved — pre_task_4_2_approved: attested by Ana at " \
           "2026-11-24T23:00:00+00:00" in text
    assert "**Task 4.2 Completion:** attested by Ana at 2026-11-24T23:00:00+00:00" in text
    assert status(text) == "INCOMPLETE"
    assert "run the preflight phase again" in text


def test_an_attestation_never_turns_a_failure_green(tmp_path):
    verified_world(tmp_path, skip=("preflight",))
    items = [item(i) for i in PHASE_ITEMS["preflight"] if i != "pre_task_4_2_approved"]
    items.insert(0, item("pre_task_4_2_approved", "FAILED", "refused"))
    make_run(tmp_path, "preflight", "NEEDS REMEDIATION", items)
    attestations = {"pre_task_4_2_approved": Attestation("pre_task_4_2_approved", "Ana", "2026-11-24T23:00:00+00:00")}
    text = build(tmp_path, attestations)
    assert "- [❌] Task 4.2 stability summary reviewed and approved" in text
    assert status(text) == "NEEDS REMEDIATION"


def test_operator_confirmation_comes_from_the_declaration(tmp_path):
    verified_world(tmp_path)
    assert "**Operator Confirmation:** operator to confirm" in build(tmp_path)
    declared = Attestation("dod_operator_declared", "Ana", "2026-11-26T09:00:00+00:00",
                           "Paper trading transition successful, ready for Task 4.4")
    text = build(tmp_path, {"dod_operator_declared": declared})
    assert '**Operator Confirmation:** Ana, 2026-11-26T09:00:00+00:00 ("Paper trading transition successful' in text
    assert "- [✅] Operator declares: \"Paper trading transition successful, ready for Task 4.4\" — attested by Ana" \
        in text
    assert "- [ ] IBKR Project Management board updated: Task 4.3 -> Complete — operator to confirm: `harness " \
           "confirm dod_board_updated --by NAME`" in text


def test_a_run_without_a_verdict_is_not_success(tmp_path):
    verified_world(tmp_path, skip=("first-day",))
    make_run(tmp_path, "first-day", verdict=False)
    text = build(tmp_path)
    assert status(text) == "INCOMPLETE"
    assert "recorded no verdict" in text
    assert ("- [ ] Bot auto-started via Task Scheduler — operator to confirm: the first-day run has no result of "
            "the scenario") in text


def test_a_rollback_after_the_transition_is_not_success_and_has_its_section(tmp_path):
    verified_world(tmp_path)
    items = [item(i) for i in PHASE_ITEMS["rollback"] if i != "rollback_positions_closed"]
    items.append(item("rollback_positions_closed", "FAILED", "1 position left: SPY"))
    make_run(tmp_path, "rollback", "NEEDS REMEDIATION", items)
    text = build(tmp_path)
    assert status(text) == "NEEDS REMEDIATION"
    assert "- [❌] All paper trading positions closed — FAILED: rollback_positions_closed: 1 position left" in text
    assert "the transition was rolled back" in text


def test_the_first_hour_boxes_come_from_the_watch_rounds_when_the_verdict_is_silent(tmp_path):
    verified_world(tmp_path, skip=("first-hour",))
    rounds = [{"round": 1, "at": "2026-11-24T23:05:00+00:00", "status": "passed", "checks": [
                  {"name": "log errors", "item": "dod_no_crashes", "status": "passed", "message": ""},
                  {"name": "paper orders", "item": "dod_orders_paper", "status": "passed", "message": ""}]},
              {"round": 2, "at": "2026-11-24T23:10:00+00:00", "status": "failed", "checks": [
                  {"name": "log errors", "item": "dod_no_crashes", "status": "failed",
                   "message": "Traceback at bot.log:88"},
                  {"name": "paper orders", "item": "dod_orders_paper", "status": "could not look",
                   "message": "gateway down"}]}]
    make_run(tmp_path, "first-hour", "NEEDS REMEDIATION", items=[], rounds=rounds)
    text = build(tmp_path)
    assert "- [❌] No crashes or unexpected shutdowns — FAILED: dod_no_crashes: round 2: log errors: Traceback" in text
    assert "- [ ] Paper account activity reflects bot behavior — operator to confirm: dod_orders_paper: round 2" in text
    assert "| 2 | 18:10 ET, 2026-11-24 (23:10:00 UTC) | failed | log errors (failed); paper orders (could not look) |" \
        in text


def test_write_is_utf8_lf_makes_folders_and_writes_each_target_once(tmp_path):
    text = "# Log ✅\nline\n"
    first = tmp_path / "bot" / "docs" / "Task_4_3_Transition_Log.md"
    second = tmp_path / "evidence" / "Task_4_3_Transition_Log.md"
    written = transition_log.write(text, [first, second, first])
    assert written == [first, second]
    assert first.read_bytes() == text.encode("utf-8") == second.read_bytes()
    assert not list(first.parent.glob("*.tmp"))
    transition_log.write("# Log\r\nagain\r\n", [first])
    assert first.read_bytes() == b"# Log\nagain\n"


def test_times_are_written_in_eastern_and_utc():
    assert transition_log.when("2026-11-24T21:45:00+00:00") == "16:45 ET, 2026-11-24 (21:45:00 UTC)"
    assert transition_log.when("2026-07-01T13:30:00+00:00") == "09:30 ET, 2026-07-01 (13:30:00 UTC)"
    assert transition_log.when(None) == "not recorded"
    assert transition_log.when("yesterday") == "yesterday"
    assert transition_log.file_line("C:\\bot\\logs\\bot.log", 7) == "bot.log:7"


def test_every_phase_has_a_command_and_box_items_are_checklist_items():
    assert set(transition_log.PHASE_ORDER) == set(run_files.PHASES)
    for _, ids in transition_log.FIRST_HOUR_SPEC:
        assert all(i in dod.BY_ID for i in ids)


def test_the_live_account_read_is_summarised_masked(tmp_path):
    verified_world(tmp_path, skip=("transition",))
    folder = make_run(tmp_path, "transition", rows=transition_rows())
    live = {"handshake_ok": True, "accounts": ["U9876543"], "open_orders": [], "executions": [],
            "observed_at": "2026-11-24T22:21:00+00:00", "executions_since": "2026-11-24T22:20:00+00:00"}
    (folder / "live-account.json").write_text(json.dumps(live), encoding="utf-8")
    text = build(tmp_path)
    assert "Live account U****543, read-only at 17:21 ET, 2026-11-24 (22:21:00 UTC): 0 open order(s), " \
           "0 execution(s) since 17:20 ET, 2026-11-24 (22:20:00 UTC)." in text
    assert "U9876543" not in text


DISCORD_BOX = "Discord notification confirmed paper trading mode"


def discord_box(text: str) -> str:
    return next(line for line in boxes(text) if DISCORD_BOX in line)


def test_the_first_day_discord_box_is_green_only_from_its_own_scenario(tmp_path):
    verified_world(tmp_path)
    assert discord_box(build(tmp_path)) == (
        f'- [✅] {DISCORD_BOX} — "Bot started in PAPER TRADING mode at 2026-11-23 06:00:00 EST" (posted 06:00 ET, '
        '2026-11-23 (11:00:00 UTC)); scenario "The scheduled start\'s Discord notification says paper trading mode" '
        "passed (first-day run)")


def test_dod_autostart_verified_without_the_discord_scenario_leaves_the_box_to_the_operator(tmp_path):
    """dod_autostart holds the start's time, mode and task: its VERIFIED alone never ticks the Discord box."""
    verified_world(tmp_path, skip=("first-day",))
    make_run(tmp_path, "first-day")  # dod_autostart VERIFIED, no Discord scenario in the run
    assert discord_box(build(tmp_path)).startswith(f"- [ ] {DISCORD_BOX} — operator to confirm: the first-day run "
                                                   "has no result of the scenario")


def test_a_failed_or_skipped_discord_scenario_is_red_or_open(tmp_path):
    verified_world(tmp_path, skip=("first-day",))
    make_run(tmp_path, "first-day", rows=first_day_rows("failed", "Discord announces the wrong mode: DRY-RUN"))
    assert discord_box(build(tmp_path)).startswith(f"- [❌] {DISCORD_BOX} — FAILED: scenario \"The scheduled start's "
                                                   'Discord notification says paper trading mode": Discord announces')
    other = tmp_path / "other"
    verified_world(other, skip=("first-day",))
    make_run(other, "first-day", rows=first_day_rows("skipped", "operator to confirm: no Discord channel to read"))
    assert discord_box(build(other)) == (
        f"- [ ] {DISCORD_BOX} — operator to confirm: scenario \"The scheduled start's Discord notification says paper "
        'trading mode" skipped: no Discord channel to read')


def test_an_embedded_world_log_says_it_is_a_demonstration(tmp_path):
    verified_world(tmp_path, world="embedded")
    signed = {i: Attestation(i, "Ana", "2026-11-26T09:00:00+00:00") for i in transition_log.OPERATOR_ITEMS}
    text = build(tmp_path, signed)
    assert status(text) == "SUCCESS"
    lines = text.splitlines()
    assert lines[:3] == ["# Task 4.3 Transition Log — Paper Trading Mode Activation", "",
                         transition_log.EMBEDDED_BANNER]
    assert text.count("Embedded world") == 1
    assert "**Next Step:** Run the procedure on your bot (README: Use it on your bot)" in text
    assert "Proceed to Task 4.4" not in text.split("**Next Step:**")[1]
    assert build(tmp_path, signed) == text  # deterministic


def test_one_embedded_run_among_live_ones_is_enough_for_the_banner(tmp_path):
    verified_world(tmp_path, skip=("first-hour",))
    make_run(tmp_path, "first-hour", world="embedded")
    text = build(tmp_path)
    assert transition_log.EMBEDDED_BANNER in text


def test_the_discord_box_names_a_scenario_of_the_first_day_feature():
    from pytest_bdd.parser import FeatureParser
    from pytest_bdd.scenario import make_python_name

    features = Path(__file__).resolve().parents[2] / "features"
    titles = FeatureParser(str(features), "04_first_day.feature").parse().scenarios
    for name, title in AUTOSTART_SCENARIOS:
        assert title in titles and name == f"test_{make_python_name(title)}"


@pytest.mark.parametrize(("failing", "red_box"), [
    (transition_log.FIRST_DAY_DISCORD[1], "Discord notification confirmed paper trading mode"),
    (transition_log.FIRST_DAY_AUTOSTARTED[1][0], "Bot auto-started via Task Scheduler"),
    (transition_log.FIRST_DAY_STARTUP_LOGS[0][0], "Logs show successful startup"),
])
def test_one_failed_autostart_scenario_reddens_only_its_own_box(tmp_path, failing, red_box):
    verified_world(tmp_path, skip=("first-day",))
    make_run(tmp_path, "first-day", overall="NEEDS REMEDIATION",
             rows=first_day_rows("failed", "the world was wrong", scenario=failing))
    text = build(tmp_path)
    section = text[text.index("**Auto-Start (6:00 AM ET):**"):text.index("**Order Execution:**")]
    boxes = {line.split("] ", 1)[1].split(" — ")[0]: line[3] for line in section.splitlines() if line.startswith("- [")}
    assert boxes.pop(red_box) == "❌", section
    assert set(boxes.values()) == {"✅"}, section
