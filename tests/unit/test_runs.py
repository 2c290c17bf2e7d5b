"""harness.evidence.runs: run directories are named, made unique, finished and read back; bad ones are skipped."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness.evidence import runs
from harness.evidence.runs import finish_run, latest_runs, list_runs, new_run_dir, read_run, run_id

STARTED = datetime(2026, 11, 25, 19, 41, 8, tzinfo=timezone.utc)


def test_run_id_says_time_phase_and_world() -> None:
    assert run_id("transition", "embedded", STARTED) == "20261125T194108Z-transition-embedded"
    assert run_id("first-hour", "bot directory", STARTED) == "20261125T194108Z-first-hour-bot-directory"


def test_run_id_is_in_utc_whatever_the_clock_zone() -> None:
    eastern = STARTED.astimezone(timezone(timedelta(hours=-5)))
    assert run_id("preflight", "live", eastern) == "20261125T194108Z-preflight-live"
    naive = STARTED.replace(tzinfo=None)
    assert run_id("preflight", "live", naive) == "20261125T194108Z-preflight-live"


def test_new_run_dir_writes_run_json_without_finished_at(tmp_path: Path) -> None:
    made = new_run_dir(tmp_path, "transition", "embedded", STARTED, harness_version="1.2", baseline=None)
    assert made == tmp_path / "runs" / "20261125T194108Z-transition-embedded"
    body = json.loads((made / "run.json").read_text(encoding="utf-8"))
    assert body == {"run_id": made.name, "phase": "transition", "world": "embedded",
                    "started_at": "2026-11-25T19:41:08+00:00", "harness_version": "1.2", "baseline": None}


def test_a_taken_run_id_gets_a_suffix(tmp_path: Path) -> None:
    names = [new_run_dir(tmp_path, "preflight", "embedded", STARTED).name for _ in range(3)]
    assert names == ["20261125T194108Z-preflight-embedded", "20261125T194108Z-preflight-embedded-2",
                     "20261125T194108Z-preflight-embedded-3"]
    assert [json.loads((tmp_path / "runs" / n / "run.json").read_text(encoding="utf-8"))["run_id"]
            for n in names] == names


def test_finish_run_adds_finished_at_and_fields(tmp_path: Path) -> None:
    made = new_run_dir(tmp_path, "transition", "embedded", STARTED)
    finish_run(made, overall="TRANSITION VERIFIED")
    body = json.loads((made / "run.json").read_text(encoding="utf-8"))
    assert body["overall"] == "TRANSITION VERIFIED"
    assert datetime.fromisoformat(body["finished_at"]).tzinfo is not None
    assert body["run_id"] == made.name
    assert not list(made.glob("*.tmp"))


def test_a_run_reads_back_its_files(tmp_path: Path) -> None:
    made = new_run_dir(tmp_path, "transition", "embedded", STARTED)
    (made / "evidence-gw1.jsonl").write_text(
        json.dumps({"nodeid": "b.feature::t", "outcome": "passed"}) + "\n", encoding="utf-8")
    (made / "evidence-gw0.jsonl").write_text(
        json.dumps({"nodeid": "a.feature::t", "outcome": "failed"}) + "\n{torn", encoding="utf-8")
    (made / "verdict.json").write_text(json.dumps({"overall": "NEEDS REMEDIATION"}), encoding="utf-8")
    (made / "paper-account.json").write_text(json.dumps({"accounts": ["DU***567"]}), encoding="utf-8")
    (made / "watch-rounds.jsonl").write_text(json.dumps({"round": 1}) + "\n", encoding="utf-8")
    finish_run(made)
    record = read_run(made)
    assert record is not None and record.finished
    assert [row["nodeid"] for row in record.rows()] == ["a.feature::t", "b.feature::t"]
    assert record.verdict() == {"overall": "NEEDS REMEDIATION"}
    assert record.paper_account() == {"accounts": ["DU***567"]}
    assert record.live_account() is None
    assert record.watch_rounds() == [{"round": 1}]
    assert record.allure_results() is None
    (made / "allure-results").mkdir()
    assert record.allure_results() == made / "allure-results"


def test_allure_results_elsewhere_are_found_through_run_json(tmp_path: Path) -> None:
    elsewhere = tmp_path / "mine"
    elsewhere.mkdir()
    made = new_run_dir(tmp_path, "preflight", "embedded", STARTED, allure_results=str(elsewhere))
    assert read_run(made).allure_results() == elsewhere


def test_list_runs_is_oldest_first_and_skips_what_cannot_be_read(tmp_path: Path) -> None:
    later = new_run_dir(tmp_path, "transition", "embedded", STARTED + timedelta(minutes=5))
    earlier = new_run_dir(tmp_path, "preflight", "embedded", STARTED)
    runs_dir = tmp_path / "runs"
    (runs_dir / "no-run-json").mkdir()
    (runs_dir / "torn").mkdir()
    (runs_dir / "torn" / "run.json").write_text("{", encoding="utf-8")
    (runs_dir / "not-a-dict").mkdir()
    (runs_dir / "not-a-dict" / "run.json").write_text("[1]", encoding="utf-8")
    (runs_dir / "no-phase").mkdir()
    (runs_dir / "no-phase" / "run.json").write_text('{"run_id": "x"}', encoding="utf-8")
    (runs_dir / "a-file").write_text("x", encoding="utf-8")
    assert [record.path for record in list_runs(tmp_path)] == [earlier, later]


def test_no_runs_is_an_empty_list(tmp_path: Path) -> None:
    assert list_runs(tmp_path) == []
    assert list_runs(tmp_path / "absent") == []
    assert latest_runs(tmp_path) == {}


def test_latest_runs_gives_the_newest_finished_run_of_each_phase(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path, "transition", "embedded", STARTED)
    second = new_run_dir(tmp_path, "transition", "live", STARTED + timedelta(minutes=1))
    new_run_dir(tmp_path, "transition", "live", STARTED + timedelta(minutes=2))  # still going or crashed
    preflight = new_run_dir(tmp_path, "preflight", "embedded", STARTED - timedelta(hours=1))
    for made in (first, second, preflight):
        finish_run(made)
    latest = latest_runs(tmp_path)
    assert {phase: record.path for phase, record in latest.items()} == {"transition": second,
                                                                       "preflight": preflight}


def test_an_unwritable_evidence_dir_raises_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OSError):
        new_run_dir(blocker, "transition", "embedded", STARTED)


def test_phases_include_the_watch() -> None:
    assert runs.PHASES == ("preflight", "transition", "first-hour", "first-day", "rollback")


def test_a_run_is_tied_to_its_baseline_by_hash_and_time(tmp_path: Path) -> None:
    import hashlib

    from harness.pytest.run_session import baseline_info

    assert baseline_info(tmp_path / "baseline.json") is None
    source = tmp_path / "baseline.json"
    source.write_text(json.dumps({"taken_at": "2026-11-25T18:00:00+00:00", "keys": {}}), encoding="utf-8")
    info = baseline_info(source)
    assert info == {"path": str(source), "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
                    "taken_at": "2026-11-25T18:00:00+00:00"}
    source.write_bytes(b"\xff not json")
    assert baseline_info(source)["taken_at"] is None and baseline_info(source)["sha256"]


def test_the_first_hour_ends_when_a_watch_of_this_bot_ended(tmp_path: Path) -> None:
    """Only finished first-hour watches whose run.json names this bot's directory count; a watch of another bot,
    one still going (no finished_at), and a run of another phase do not."""
    evidence, bot, other = tmp_path / "evidence", tmp_path / "bot", tmp_path / "other-bot"
    bot.mkdir()
    other.mkdir()
    started = datetime(2026, 12, 7, 6, 30, tzinfo=timezone.utc)

    def run(phase: str, where: Path, minutes: int, finished: bool = True) -> None:
        run_dir = new_run_dir(evidence, phase, "live", started=started + timedelta(minutes=minutes),
                              bot_dir=runs.bot_dir_info(where))
        if finished:
            body = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
            body["finished_at"] = (started + timedelta(minutes=minutes + 60)).isoformat()
            (run_dir / "run.json").write_text(json.dumps(body), encoding="utf-8")

    run("first-hour", bot, 0)
    run("first-hour", other, 5)
    run("first-hour", bot, 10, finished=False)
    run("transition", bot, 15)
    run("first-hour", tmp_path / "bot" / ".." / "bot", 20)  # the same bot, named another way
    assert runs.first_hour_ends(evidence, bot) == (started + timedelta(minutes=60), started + timedelta(minutes=80))
    assert runs.first_hour_ends(evidence, tmp_path / "no-such-bot") == ()
    assert runs.first_hour_ends(evidence, None) == ()


def test_a_finished_run_is_fingerprinted_in_run_json_and_in_the_history(tmp_path: Path) -> None:
    run_dir = new_run_dir(tmp_path, "transition", "live")
    (run_dir / "verdict.json").write_text('{"items": []}', encoding="utf-8")
    (run_dir / "evidence-gw0.jsonl").write_text('{"nodeid": "a"}\n', encoding="utf-8")
    (run_dir / "paper-account.json").write_text("{}", encoding="utf-8")  # facts shown, not judged from
    finish_run(run_dir)
    record = read_run(run_dir)
    assert set(record.info["files"]) == {"verdict.json", "evidence-gw0.jsonl"}
    assert runs.history(tmp_path)[record.run_id]["files"] == record.fingerprints() == record.info["files"]
    (run_dir / "verdict.json").write_text('{"items": [], "overall": "TRANSITION VERIFIED"}', encoding="utf-8")
    assert record.fingerprints()["verdict.json"] != runs.history(tmp_path)[record.run_id]["files"]["verdict.json"]
