"""The chain of one transition (harness.verdict.transition): which recorded run stands for each phase, and what
found between the runs keeps the transition from being verified. Each rule has a record in which it, and only it,
holds the transition back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from harness.evidence.attestations import Attestation
from harness.evidence.incidents import DRILL, INCIDENT, RESOLUTION, HaltRecord
from harness.verdict.outcome import NEEDS_REMEDIATION, SUCCESS, outcome
from harness.verdict.transition import judge_chain, overall_of

T0 = datetime(2026, 12, 4, 21, 0, tzinfo=timezone.utc)  # Friday 16:00 ET
ITEMS = {"preflight": "step1_shutdown", "transition": "dod_env_mode", "first-hour": "dod_no_crashes",
         "first-day": "dod_autostart"}


@dataclass
class Run:
    run_id: str
    phase: str
    world: str
    started_at: str
    finished_at: str | None
    info: dict = field(default_factory=dict)
    items: list = field(default_factory=list)
    row_outcomes: list = field(default_factory=list)  # (item, outcome) of its scenarios
    rounds: list = field(default_factory=list)

    def verdict(self) -> dict | None:
        return {"overall": overall_of(self.items) or "TRANSITION VERIFIED", "items": self.items} if self.items \
            else None

    def rows(self) -> list[dict]:
        return [{"scenario": f"s{n}", "tags": [item, self.phase], "outcome": result, "message": f"{item} {result}"}
                for n, (item, result) in enumerate(self.row_outcomes)]

    def watch_rounds(self) -> list[dict]:
        return self.rounds


def run(phase: str, minutes: float, *, lasted: float = 2, world: str = "live", bot: str | None = "/bots/a",
        status: str = "VERIFIED", finished: bool = True) -> Run:
    item = ITEMS.get(phase, "rollback_env_dry_run")
    started = T0 + timedelta(minutes=minutes)
    result = {"VERIFIED": "passed", "FAILED": "failed"}.get(status, "skipped")
    return Run(f"{started:%Y%m%dT%H%M%SZ}-{phase}-{world}", phase, world, started.isoformat(),
               (started + timedelta(minutes=lasted)).isoformat() if finished else None,
               {"bot_dir": bot} if bot else {}, [{"item": item, "status": status, "why": "w"}], [(item, result)])


def clean_record(world: str = "live") -> list[Run]:
    return [run("preflight", 0, world=world), run("transition", 10, world=world),
            run("first-hour", 12, lasted=61, world=world), run("first-day", 3 * 24 * 60, world=world)]


def status_of(runs, incidents=(), problem=None, attestations=None) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    chain = judge_chain(runs, incidents, problem)
    result = outcome(chain.runs, chain.attestations(attestations or {}), chain)
    return result.status, result.failed, result.open


def test_a_clean_record_is_a_success():
    chain = judge_chain(clean_record())
    assert status_of(clean_record())[0] == SUCCESS
    assert set(chain.runs) == set(ITEMS) and not chain.set_aside
    assert chain.first_hour_watched == timedelta(minutes=61)


def test_an_open_incident_needs_remediation_and_sets_aside_the_runs_before_it():
    incident = HaltRecord(INCIDENT, (T0 + timedelta(days=4)).isoformat(), reason="orders in the live account")
    status, failed, _open = status_of(clean_record(), [incident])
    assert status == NEEDS_REMEDIATION and failed[0].startswith("incident open: incident recorded at")
    assert len(judge_chain(clean_record(), [incident]).set_aside) == 4


def test_a_resolved_incident_still_asks_for_the_transition_again_and_voids_earlier_attestations():
    records = [HaltRecord(INCIDENT, (T0 + timedelta(days=4)).isoformat(), reason="live order"),
               HaltRecord(RESOLUTION, (T0 + timedelta(days=4, hours=1)).isoformat(), by="Ann", note="fixed")]
    status, failed, open_ = status_of(clean_record(), records)
    assert status == "INCOMPLETE" and not failed and "preflight: not run yet" in open_[0]
    declared = Attestation("dod_operator_declared", "Ann", T0.isoformat())
    assert judge_chain(clean_record(), records).attestations({"dod_operator_declared": declared}) == {}
    again = [run(r.phase, 5 * 24 * 60 + n) for n, r in enumerate(clean_record())]
    again[2] = run("first-hour", 5 * 24 * 60 + 2, lasted=61)
    again[3] = run("first-day", 8 * 24 * 60)
    assert status_of([*clean_record(), *again], records)[0] == SUCCESS


def test_a_drill_locks_nothing_and_an_unreadable_incident_log_does():
    drill = HaltRecord(DRILL, (T0 + timedelta(days=4)).isoformat(), reason="rehearsal")
    assert status_of(clean_record(), [drill])[0] == SUCCESS  # a rehearsal sets nothing aside
    assert not judge_chain(clean_record(), [drill]).failed
    status, failed, _ = status_of(clean_record(), [], "the incident log X cannot be read")
    assert status == NEEDS_REMEDIATION and "cannot show that no incident is open" in failed[0]


def test_a_watch_cut_short_after_a_critical_round_needs_remediation_not_an_older_watch():
    record = clean_record()
    killed = run("first-hour", 80, finished=False)
    killed.items = []
    killed.row_outcomes = []
    killed.rounds = [{"round": 1, "checks": [{"name": "live account", "item": "dod_no_live_orders", "status": "failed",
                                              "message": "2 open order(s) in the live account"}]}]
    status, failed, _ = status_of([*record, killed])
    assert status == NEEDS_REMEDIATION
    assert "was cut short (no end recorded) after recording a failure: dod_no_live_orders" in failed[0]
    killed.rounds = [{"round": 1, "checks": [{"name": "log errors", "item": "dod_no_crashes", "status": "passed"}]}]
    status, failed, open_ = status_of([*record, killed])
    assert status == "INCOMPLETE" and not failed and "was cut short" in open_[0]


@pytest.mark.parametrize("edit", ["overall only", "item status"])
def test_a_verdict_edited_to_verified_is_not_believed(edit):
    record = clean_record()
    failing = run("transition", 20, status="FAILED")
    if edit == "item status":
        failing.items = [{"item": "dod_env_mode", "status": "VERIFIED", "why": "edited"}]
    status, failed, _ = status_of([*record, failing])
    assert status == NEEDS_REMEDIATION
    if edit == "item status":
        assert "does not match the checks it recorded (dod_env_mode is VERIFIED although a check of it failed)" \
            in failed[0]
    assert overall_of([{"status": "FAILED"}]) == "NEEDS REMEDIATION"  # whatever `overall` the file claims


def test_a_preflight_after_the_switch_does_not_replace_the_one_before_it():
    record = clean_record()
    record[0] = run("preflight", 0, status="FAILED")
    after = run("preflight", 30)
    chain = judge_chain([*record, after])
    assert chain.runs["preflight"] is record[0]
    assert any("a preflight after the transition run" in why for _run, why in chain.set_aside)
    assert status_of([*record, after])[0] == NEEDS_REMEDIATION


def test_the_embedded_world_and_another_bot_do_not_count_for_this_bot():
    record = clean_record()
    demo_day = run("first-day", 4 * 24 * 60, world="embedded", bot=None)
    other = run("first-hour", 13, lasted=61, bot="/bots/b", status="FAILED")
    chain = judge_chain([*record, demo_day, other])
    assert chain.runs["first-day"] is record[3] and chain.runs["first-hour"] is record[2]
    assert {why.split(" (")[0] for _run, why in chain.set_aside} == {
        "the embedded world", "checked another bot"}
    assert status_of([*record, demo_day, other])[0] == SUCCESS
    assert status_of(clean_record("embedded"))[0] == SUCCESS  # the demo alone is judged as a demo


def test_a_first_hour_shorter_than_an_hour_cannot_stand_for_it_on_a_real_bot():
    record = clean_record()
    record[2] = run("first-hour", 12, lasted=6)
    status, _failed, open_ = status_of(record)
    assert status == "INCOMPLETE" and "watched the bot for 6 min; the seed's first hour is 60 minutes" in open_[0]
    short_demo = clean_record("embedded")
    short_demo[2] = run("first-hour", 12, lasted=0.1, world="embedded")
    assert status_of(short_demo)[0] == SUCCESS  # the demo's compressed hour


def test_earlier_attempts_stay_in_the_story_with_their_verdicts():
    record = clean_record()
    failed_first = run("transition", 5, status="FAILED")
    chain = judge_chain([*record, failed_first])
    assert chain.runs["transition"] is record[1]
    assert (failed_first.run_id, f"an earlier attempt (NEEDS REMEDIATION); run {record[1].run_id} stands for the "
            "transition phase") in chain.set_aside
    assert status_of([*record, failed_first])[0] == SUCCESS  # remedied: the newer run verified it


def test_a_file_changed_after_its_run_finished_or_a_run_removed_needs_remediation():
    record = clean_record()
    for each in record:
        each.fingerprints = lambda: {"verdict.json": "a", "evidence.jsonl": "b"}
    history = {each.run_id: {"phase": each.phase, "finished_at": each.finished_at,
                             "files": {"verdict.json": "a", "evidence.jsonl": "b"}} for each in record}
    assert status_of_history(record, history)[0] == SUCCESS
    record[3].fingerprints = lambda: {"verdict.json": "edited", "evidence.jsonl": "b"}
    status, failed, _ = status_of_history(record, history)
    assert status == NEEDS_REMEDIATION
    assert f"first-day: verdict.json of run {record[3].run_id} changed after the run finished" in failed[0]
    gone = record[:3]
    status, failed, _ = status_of_history(gone, history)
    assert status == NEEDS_REMEDIATION and f"run {record[3].run_id}, which finished at" in failed[0]
    assert "is gone from the evidence directory" in failed[0]


def status_of_history(runs, history):
    chain = judge_chain(runs, (), None, history)
    result = outcome(chain.runs, {}, chain)
    return result.status, result.failed, result.open


def test_a_preflight_days_before_or_a_first_hour_days_after_is_too_old_to_count():
    record = clean_record()
    record[0] = run("preflight", -3 * 24 * 60)
    status, _failed, open_ = status_of(record)
    assert status == "INCOMPLETE" and "was 3 days before the transition run" in open_[0]
    record = clean_record()
    record[2] = run("first-hour", 30 * 60, lasted=61)
    status, _failed, open_ = status_of(record)
    assert status == "INCOMPLETE" and "began 30 h after the transition run" in open_[0]
