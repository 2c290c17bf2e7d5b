"""The README's demo command, as a newcomer runs it: `harness demo` leaves an HTML report a browser opens and shows
every scenario of every phase with its state, and a transition log saying SUCCESS, with none of the embedded
world's secrets (its Discord webhook's token, full account ids) in either."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import date, datetime
from pathlib import Path

import pytest

from harness.evidence.runs import latest_runs
from harness.probes.market import NEW_YORK
from tests.acceptance.runner import Run, SharedRuns, harness_demo, harness_demo_as_written
from tests.acceptance.test_report_html import _chromium, _embedded_data, read_report

PHASES = ("preflight", "transition", "first-hour", "first-day")
FULL_ACCOUNT = re.compile(r"\b(DU|DF|U|F)\d{5,9}\b")
WEBHOOK_TOKEN = re.compile(r"api/webhooks/\d+/[A-Za-z0-9_-]{16,}")


@pytest.fixture(scope="module")
def demo(shared_runs: SharedRuns) -> Run:
    return shared_runs.made("the README's demo", harness_demo_as_written)


def test_the_demo_exits_0_and_says_where_its_report_and_log_are(demo):
    assert demo.code == 0, demo.output[-4000:]
    assert f"HTML report:    {(demo.evidence / 'report' / 'index.html').resolve()}" in demo.output
    assert f"Transition log: {(demo.evidence / 'Task_4_3_Transition_Log.md').resolve()}" in demo.output
    assert set(latest_runs(demo.evidence)) == set(PHASES)


def test_the_demos_transition_log_says_success(demo):
    text = (demo.evidence / "Task_4_3_Transition_Log.md").read_text(encoding="utf-8")
    assert "**Status:** SUCCESS" in text
    assert "Embedded world" in text.splitlines()[2]  # and says it demonstrates the harness, not a transition


def test_a_browser_shows_every_scenario_of_the_demo_with_its_state(demo):
    _chromium()
    expected = []
    for phase, run in latest_runs(demo.evidence).items():
        results = run.allure_results()
        if results is None:
            assert phase == "first-hour"  # harness watch writes rounds, not Allure results
            continue
        expected += [(body["name"], body["status"]) for body in
                     (json.loads(p.read_text(encoding="utf-8")) for p in results.glob("*-result.json"))]
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as scratch:
        seen = read_report(demo.evidence / "report" / "index.html", Path(scratch))
    assert sorted(tuple(leaf) for leaf in seen["leaves"]) == sorted(expected)
    assert {"preflight", "transition", "first-day"} <= set(seen["groups"])
    assert {status for _name, status in expected} <= {"passed", "skipped"}
    assert "first-day: TRANSITION VERIFIED" in seen["title"]


def test_no_secret_of_the_demos_world_is_in_its_report_or_log(demo):
    written = [demo.evidence / "report" / name for name in ("index.html", "board-card.md",
                                                            "Task_4_3_Transition_Log.md", "paper-account.png")]
    written.append(demo.evidence / "Task_4_3_Transition_Log.md")
    for path in written:
        text = path.read_bytes().decode("utf-8", errors="replace")
        if path.suffix == ".html":
            text += _embedded_data(text)
        assert not FULL_ACCOUNT.search(text), (path, FULL_ACCOUNT.search(text))
        assert not WEBHOOK_TOKEN.search(text), path


# --- the demo on hard days: its world pinned in time (HARNESS_EMBEDDED_NOW), not the day CI runs --------------------

HARD_DAYS = {  # id: (the demo's now, the switch's evening it must tell, the first day it must name)
    # The switch after Christmas Eve's 13:00 close, then Christmas on a Friday and the weekend.
    "christmas-eve-early-close-friday-holiday": ("2026-12-29T09:00:00-05:00", "2026-12-24", "2026-12-28"),
    # The first day is the Tuesday after Presidents' Day.
    "presidents-day-holiday-monday": ("2027-02-17T08:00:00-05:00", "2027-02-12", "2027-02-16"),
    # The switch in summer time (EDT), the first day in winter time (EST): DST ended on Sunday 2026-11-01.
    "fall-dst-change-week": ("2026-11-03T10:00:00-05:00", "2026-10-30", "2026-11-02"),
}
# The first day alone, pinned (a whole demo costs five times as much): the switch on New Year's Eve, New Year's Day
# a Friday holiday, the first day in the next year.
YEARS_END = ("2027-01-05T08:00:00-05:00", "2026-12-31", "2027-01-04")


@pytest.fixture(scope="module", params=sorted(HARD_DAYS))
def pinned_demo(request, shared_runs: SharedRuns) -> tuple[Run, str, str]:
    now, switch_day, first_day = HARD_DAYS[request.param]
    run = shared_runs.made(f"the demo on {request.param}",
                           # the dates are the transition log's: the HTML report is the README demo's to test
                           lambda root: harness_demo(root, env={"HARNESS_EMBEDDED_NOW": now}, args=("--no-html",)))
    return run, switch_day, first_day


def test_the_first_day_across_the_years_end_is_verified_on_its_dates(shared_runs: SharedRuns):
    now, switch_day, first_day = YEARS_END
    run = shared_runs.features("the first day across the year's end", "--phase", "first-day",
                               env={"HARNESS_EMBEDDED_NOW": now})
    assert run.code == 0 and not run.failed() and not run.skipped(), run.output[-4000:]
    rows = [json.loads(line) for line in (run.evidence / "evidence.jsonl").read_text(encoding="utf-8").splitlines()]
    facts = next(record["facts"] for row in rows for record in row["records"] if record["name"] == "first day")
    assert facts["first trading day"] == first_day and facts["switch"]["timestamp"].startswith(switch_day)


def test_the_demo_on_a_hard_day_exits_0_with_success_and_that_days_dates(pinned_demo):
    demo, switch_day, first_day = pinned_demo
    assert demo.code == 0, demo.output[-4000:]
    text = (demo.evidence / "Task_4_3_Transition_Log.md").read_text(encoding="utf-8")
    assert "**Status:** SUCCESS" in text
    assert re.search(rf"\*\*Transition Date:\*\* (17|14):05 ET, {switch_day} ", text), text[:600]  # 14:05: early close
    assert f"**First Day:** {first_day}: the day of the first scheduled start after the first hour" in text
    # The runs tell the story in order: the evening of the switch, then the morning after the first day.
    runs = latest_runs(demo.evidence)
    started = [datetime.fromisoformat(runs[phase].started_at).astimezone(NEW_YORK) for phase in PHASES]
    assert started == sorted(started)
    assert {at.date().isoformat() for at in started[:3]} == {switch_day}
    assert started[3].date() > date.fromisoformat(first_day)
