"""The verdict: each rule of `harness.verdict.decide.decide`, the attestation history and the declaration gate."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.core import dod
from harness.evidence import attestations
from harness.evidence.attestations import Attestation
from harness.pytest.verdict_hooks import phase_scenarios
from harness.verdict.decide import (
    EXIT_INCOMPLETE,
    EXIT_NEEDS_REMEDIATION,
    EXIT_VERIFIED,
    UNTAGGED,
    Overall,
    ScenarioResult,
    Status,
    decide,
    format_table,
)
from harness.verdict.record import attestation_refusal, load_verdict, write_verdict

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)
FEATURES = Path(__file__).resolve().parents[2] / "features"


def passed(name: str, item: str, **kw) -> ScenarioResult:
    return ScenarioResult(name, (item,), "passed", **kw)


def skipped(name: str, item: str, message: str = "operator to confirm: gateway down", **kw) -> ScenarioResult:
    return ScenarioResult(name, (item,), "skipped", message, **kw)


def attested(item: str, age: timedelta = timedelta(hours=1), by: str = "Ann") -> Attestation:
    return Attestation(item, by, (NOW - age).isoformat(timespec="seconds"))


def status_of(verdict, item: str) -> Status:
    return next(v.status for v in verdict.items if v.item == item)


def test_all_checks_passed_is_verified_and_exits_0():
    verdict = decide("transition", [passed("a", "dod_env_mode"), passed("b", "dod_log_paper")], {}, NOW)
    assert verdict.overall is Overall.VERIFIED and verdict.exit_status == EXIT_VERIFIED
    assert {v.status for v in verdict.items} == {Status.VERIFIED}


def test_a_check_that_could_not_look_leaves_its_item_to_the_operator_and_exits_incomplete():
    verdict = decide("transition", [passed("a", "dod_env_mode"), skipped("live", "dod_no_live_orders")], {}, NOW)
    assert status_of(verdict, "dod_no_live_orders") is Status.OPERATOR_TO_CONFIRM
    assert verdict.overall is Overall.INCOMPLETE and verdict.exit_status == EXIT_INCOMPLETE
    assert "dod_no_live_orders" in verdict.headline and "gateway down" in verdict.items[1].why


def test_a_recent_attestation_by_a_named_person_stands_in_for_a_check_that_could_not_look():
    verdict = decide("transition", [skipped("live", "dod_no_live_orders")],
                     {"dod_no_live_orders": attested("dod_no_live_orders")}, NOW)
    [item] = verdict.items
    assert item.status is Status.ATTESTED and "Ann" in item.why
    assert verdict.overall is Overall.VERIFIED and verdict.exit_status == 0


def test_an_old_attestation_does_not_stand_in_for_a_check():
    old = attested("dod_no_live_orders", age=timedelta(days=2))
    verdict = decide("transition", [skipped("live", "dod_no_live_orders")], {"dod_no_live_orders": old}, NOW)
    assert status_of(verdict, "dod_no_live_orders") is Status.OPERATOR_TO_CONFIRM
    assert "older than 24 h" in verdict.items[0].why


def test_an_attestation_from_the_future_or_nameless_does_not_count():
    future = attested("dod_no_live_orders", age=-timedelta(hours=1))
    nameless = attested("dod_no_live_orders", by="  ")
    for record in (future, nameless):
        verdict = decide("transition", [skipped("live", "dod_no_live_orders")], {"dod_no_live_orders": record}, NOW)
        assert verdict.overall is Overall.INCOMPLETE


def test_a_failed_check_is_never_attested_away():
    verdict = decide("transition", [ScenarioResult("live", ("dod_no_live_orders",), "failed", "an order in U***")],
                     {"dod_no_live_orders": attested("dod_no_live_orders")}, NOW)
    assert status_of(verdict, "dod_no_live_orders") is Status.FAILED
    assert verdict.overall is Overall.NEEDS_REMEDIATION and verdict.exit_status == EXIT_NEEDS_REMEDIATION
    assert verdict.headline.startswith("NEEDS REMEDIATION") and "dod_no_live_orders" in verdict.headline


def test_a_failure_wins_over_an_unconfirmed_item():
    verdict = decide("transition", [ScenarioResult("x", ("dod_env_mode",), "failed", "DRY_RUN=true"),
                                    skipped("live", "dod_no_live_orders")], {}, NOW)
    assert verdict.overall is Overall.NEEDS_REMEDIATION


def test_a_harness_error_fails_its_item_and_says_it_was_the_harness():
    verdict = decide("transition", [ScenarioResult("x", ("dod_env_mode",), "error", "OSError: boom")], {}, NOW)
    assert status_of(verdict, "dod_env_mode") is Status.FAILED and "harness error" in verdict.items[0].why


def test_an_optional_check_that_did_not_run_holds_its_item_back_only_when_nothing_else_looked():
    order = skipped("test order", "dod_orders_paper", "operator to confirm: opt-in", optional=True)
    assert decide("transition", [passed("reconciled", "dod_orders_paper"), order], {}, NOW).overall is Overall.VERIFIED
    alone = decide("transition", [order], {}, NOW)
    assert status_of(alone, "dod_orders_paper") is Status.OPERATOR_TO_CONFIRM


def test_a_manual_item_passes_only_as_attested_and_its_attestation_does_not_expire():
    old = attested("pre_task_4_2_approved", age=timedelta(days=30))
    verdict = decide("preflight", [passed("approved", "pre_task_4_2_approved", manual=True)],
                     {"pre_task_4_2_approved": old}, NOW)
    assert status_of(verdict, "pre_task_4_2_approved") is Status.ATTESTED
    assert verdict.overall is Overall.VERIFIED


def test_scenarios_of_the_phase_that_did_not_run_make_their_item_not_run():
    expected = {"dod_log_paper": ["a", "b"], "dod_env_mode": ["c"]}
    verdict = decide("transition", [passed("a", "dod_log_paper")], {}, NOW, expected)
    assert status_of(verdict, "dod_log_paper") is Status.NOT_RUN and "1 of 2" in verdict.items[-1].why
    assert status_of(verdict, "dod_env_mode") is Status.NOT_RUN
    assert verdict.overall is Overall.INCOMPLETE and "not run" in verdict.headline


def test_untagged_scenarios_still_count():
    verdict = decide("transition", [ScenarioResult("x", (), "failed", "boom")], {}, NOW)
    assert verdict.items[0].item == UNTAGGED and verdict.overall is Overall.NEEDS_REMEDIATION


def test_no_scenario_no_verdict():
    assert decide("transition", [], {}, NOW) is None


def test_the_table_names_every_item_and_ends_with_the_headline():
    verdict = decide("transition", [passed("a", "dod_env_mode", critical=True), skipped("b", "dod_discord_paper")],
                     {}, NOW)
    lines = format_table(verdict, width=60)
    assert lines[0].startswith("dod_env_mode !") and "VERIFIED" in lines[0]
    assert any(line.startswith("dod_discord_paper") and "OPERATOR TO CONFIRM" in line for line in lines)
    assert lines[-1] == verdict.headline


LONG_MESSAGE = ("Still in dry-run mode: since the startup (/tmp/pytest-of-operator/pytest-598/embedded-world0/bot/logs/"
                "bot.log:3), the log says dry-run mode: 1 line(s) match \"dry run mode\" (any case, spaces, _ or - "
                "between the words), first bot.log:6: 'DRY_RUN mode active: signals are logged, no orders are sent'. "
                "the configuration was not loaded: re-check the .env and the environment\nCRITICAL: HALT THE BOT NOW")


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_a_long_message_is_wrapped_under_its_column_never_cut(width):
    verdict = decide("transition", [ScenarioResult("the log never says dry-run mode", ("dod_log_paper",), "failed",
                                                   LONG_MESSAGE, critical=True), passed("a", "dod_env_mode")], {}, NOW)
    lines = format_table(verdict, width=width)
    row = next(n for n, line in enumerate(lines) if line.startswith("dod_log_paper !"))
    column = lines[row].index("Still in")  # where the message column starts
    continuation = []
    for line in lines[row + 1:]:
        if not line.startswith(" " * column) or not line.strip():
            break
        continuation.append(line)
    assert continuation or width == 200, lines
    # A line is longer than the width only when it holds one word too long for the column (a path), whole.
    assert all(len(line) <= width or len(line[column:].split()) == 1 for line in (lines[row], *continuation)), lines
    assert not any("…" in line for line in lines), lines
    shown = " ".join([lines[row][column:], *(line[column:] for line in continuation)])
    why = next(item.why for item in verdict.items if item.item == "dod_log_paper")
    assert shown.split() == why.split(), (shown, why)
    assert why.startswith(LONG_MESSAGE.splitlines()[0])  # every word of the message, in order
    assert "(/tmp/pytest-of-operator/pytest-598/embedded-world0/bot/logs/bot.log:3)," in shown.split()


def test_every_scenario_of_the_features_names_a_checklist_item():
    """A scenario without an item would be judged only as 'untagged': every check must say what it proves."""
    for phase, tag in dod.PHASE_TAGS.items():
        expected, _titles = phase_scenarios([FEATURES], tag)
        assert UNTAGGED not in expected, (phase, expected.get(UNTAGGED))
        assert all(item in dod.BY_ID for item in expected)
    transition, _ = phase_scenarios([FEATURES], "transition")
    assert {"dod_env_mode", "dod_log_paper", "dod_discord_paper", "dod_orders_paper", "dod_no_live_orders"} <= set(
        transition)


def test_attestations_keep_their_history_and_the_latest_counts(tmp_path):
    attestations.record(tmp_path, "dod_no_live_orders", "Ann", "portal: 0 orders")
    attestations.record(tmp_path, "dod_no_live_orders", "Bob", "looked again")
    history, problem = attestations.history(tmp_path)
    assert problem is None and [a.by for a in history] == ["Ann", "Bob"]
    latest, _ = attestations.load(tmp_path)
    assert latest["dod_no_live_orders"].by == "Bob"
    assert not list(tmp_path.glob("*.tmp"))


def test_the_verdict_file_round_trips(tmp_path):
    verified = decide("transition", [passed("a", "dod_env_mode")], {}, NOW)
    write_verdict(tmp_path, verified, "live")
    body, problem = load_verdict(tmp_path, "transition")
    assert problem is None and body["overall"] == "TRANSITION VERIFIED" and body["items"][0]["status"] == "VERIFIED"


def _recorded(evidence: Path, phase: str, world: str, verdict, hours: float, outcomes: dict[str, str],
              records: list | None = None) -> None:
    """A finished run directory: its verdict and the rows of the checks behind it."""
    from harness.evidence.runs import finish_run, new_run_dir

    run_dir = new_run_dir(evidence, phase, world, started=NOW + timedelta(hours=hours))
    write_verdict(evidence, verdict, world, run_dir=run_dir)
    rows = [{"nodeid": f"f::{item}", "scenario": item, "tags": [item, phase], "outcome": outcome, "message": "",
             "records": records or []} for item, outcome in outcomes.items()]
    (run_dir / "evidence.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    finish_run(run_dir)


def _whole_transition(evidence: Path, world: str) -> None:
    for hours, phase, item in ((0, "preflight", "step1_shutdown"), (1, "transition", "dod_env_mode"),
                               (1.1, "first-hour", "dod_no_crashes"), (60, "first-day", "dod_autostart")):
        _recorded(evidence, phase, world, decide(phase, [passed("a", item)], {}, NOW), hours, {item: "passed"})


def test_the_declaration_needs_the_whole_transition_verified_on_the_real_bot(tmp_path, monkeypatch):
    from harness.core import clock

    for name, value in clock.pinned_environ(NOW + timedelta(days=5)).items():
        monkeypatch.setenv(name, value)
    item = "dod_operator_declared"
    assert "INCOMPLETE" in attestation_refusal(tmp_path / "none", item)
    demo, real = tmp_path / "demo", tmp_path / "real"
    _whole_transition(demo, "embedded")
    assert "checked the embedded world (not the real bot)" in attestation_refusal(demo, item)
    _whole_transition(real, "live")
    assert attestation_refusal(real, item) is None
    from harness.evidence import incidents as incident

    incident.append(real, incident.HaltRecord(incident.INCIDENT, incident.now_text(), reason="live order"))
    assert "an incident is open" in attestation_refusal(real, item)


def test_an_item_a_check_decides_is_attested_only_for_a_check_that_ran_and_could_not_look(tmp_path, monkeypatch):
    from harness.core import clock

    for name, value in clock.pinned_environ(NOW + timedelta(hours=2)).items():
        monkeypatch.setenv(name, value)
    assert "has not run yet" in attestation_refusal(tmp_path, "dod_no_live_orders")
    assert attestation_refusal(tmp_path, "pre_task_4_2_approved") is None  # only a person can: always taken
    results = [passed("a", "dod_env_mode"), skipped("b", "dod_no_live_orders"),
               ScenarioResult("c", ("dod_log_paper",), "failed", "live mode")]
    _recorded(tmp_path, "transition", "live", decide("transition", results, {}, NOW), 0,
              {"dod_env_mode": "passed", "dod_no_live_orders": "skipped", "dod_log_paper": "failed"})
    assert attestation_refusal(tmp_path, "dod_no_live_orders") is None
    assert "VERIFIED in run" in attestation_refusal(tmp_path, "dod_env_mode")
    assert "a failed check is never attested away" in attestation_refusal(tmp_path, "dod_log_paper")


def test_the_first_days_items_are_not_attested_before_the_day_is_over(tmp_path, monkeypatch):
    """01:26 ET on the day of the switch: the first day has not happened; nobody can have seen it."""
    from harness.core import clock

    for name, value in clock.pinned_environ(NOW + timedelta(hours=1)).items():
        monkeypatch.setenv(name, value)
    window = [NOW.isoformat(), (NOW + timedelta(hours=30)).isoformat()]
    not_over = decide("first-day", [skipped("a", "dod_autostart", "operator to confirm: run again after")], {}, NOW)
    _recorded(tmp_path, "first-day", "live", not_over, 0.5, {"dod_autostart": "skipped"},
              records=[{"name": "first day", "facts": {"window": window}}])
    assert "which ends at" in attestation_refusal(tmp_path, "dod_autostart")
    for name, value in clock.pinned_environ(NOW + timedelta(hours=31)).items():
        monkeypatch.setenv(name, value)
    assert attestation_refusal(tmp_path, "dod_autostart") is None
@pytest.mark.parametrize("item", [i.id for i in dod.ITEMS])
def test_every_item_has_a_section_and_text(item):
    assert dod.BY_ID[item].section and dod.BY_ID[item].text


def test_under_xdist_the_workers_collection_names_the_feature_files(tmp_path):
    """The controller of a parallel run collects nothing itself: the workers' node ids must still tell which
    feature files a full run of the phase holds, so a partial parallel run is NOT RUN, never verified."""
    from types import SimpleNamespace

    from harness.pytest.verdict_hooks import VerdictPlugin

    plugin = VerdictPlugin("transition", tmp_path, "embedded", lambda text: text)
    node = SimpleNamespace(config=SimpleNamespace(rootpath=FEATURES.parent))
    plugin.pytest_xdist_node_collection_finished(node, ["features/02_startup.feature::test_x", "tests/unit/t.py::y"])
    assert plugin._feature_dirs == {FEATURES}
