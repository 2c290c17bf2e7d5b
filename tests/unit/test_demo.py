"""`harness demo`: its steps, its exit status, and that it never runs on a real bot."""

from __future__ import annotations

import subprocess
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from harness import cli
from harness.cli import demo
from harness.core import clock
from harness.fakes.botdir import shutdown_before
from harness.fakes.first_day import first_day_dates
from harness.probes.market import NEW_YORK, session_at


@pytest.mark.parametrize(("statuses", "expected"), [
    ([0, 0, 0, 0, 0, 0, 0, 0], 0),
    ([0, 6, 0, 0, 0], 6),
    ([0, 6, 1, 0, 0], 1),  # a failure outranks a check that could not look
    ([0, 1, 2, 0, 0], 2),  # a usage or internal error outranks both
    ([0, 0, 0, 0, 3], 3),
])
def test_the_demo_exits_with_its_worst_step(statuses, expected):
    assert demo.overall_status(statuses) == expected


def test_the_demo_runs_the_phases_in_the_seeds_order_into_one_evidence_dir(tmp_path: Path):
    steps = demo.demo_steps(tmp_path)
    phases = [step.argv[step.argv.index("--phase") + 1] for step in steps if "--phase" in step.argv]
    assert phases == ["preflight", "transition", "first-day"]
    assert [step.argv[3] for step in steps if step.argv[1:3] == ("-m", "harness.cli")] == [
        "confirm", "confirm", "confirm", "check", "check", "watch", "check", "report"]
    assert all(step.argv[step.argv.index("--evidence-dir") + 1] == str(tmp_path) for step in steps)
    assert "--no-html" not in steps[-1].argv and demo.demo_steps(tmp_path, html=False)[-1].argv[-1] == "--no-html"


def test_the_demo_refuses_a_real_bot(tmp_path: Path, capsys):
    assert cli.main(["demo", "--bot-dir", str(tmp_path)]) == cli.EXIT_REFUSED
    assert "embedded world only" in capsys.readouterr().err


def test_the_demo_never_hands_the_operators_alert_webhook_to_its_steps(tmp_path: Path, monkeypatch):
    seen = {}

    def run(argv, **kwargs):
        seen["env"] = kwargs["env"]
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setenv("DISCORD_ALERT_WEBHOOK", "https://discord.com/api/webhooks/1/real-operators-token")
    monkeypatch.setattr(demo.subprocess, "run", run)
    assert demo._run_step(demo.demo_steps(tmp_path)[0], tmp_path, {}) == 0
    assert "DISCORD_ALERT_WEBHOOK" not in seen["env"] and "PATH" in seen["env"]


@pytest.mark.parametrize("now", [
    datetime(2026, 11, 30, 12, 0, tzinfo=NEW_YORK),  # a Monday in session, after Thanksgiving's week
    datetime(2027, 1, 18, 3, 0, tzinfo=NEW_YORK),  # Martin Luther King Jr. Day (a holiday Monday), before dawn
    datetime(2027, 3, 16, 9, 0, tzinfo=NEW_YORK),  # the Tuesday after the spring DST change
    datetime(2027, 1, 1, 23, 0, tzinfo=NEW_YORK),  # New Year's Day, a Friday holiday
])
def test_the_demos_timeline_is_the_evening_of_the_embedded_first_days_switch_then_now(now):
    """The preflight after the dry-run bot's clean shutdown, the transition when the first-day world's operator
    started the bot by hand, both outside the session and before the first day; then now, after that day."""
    timeline = demo.DemoTimeline.of(now)
    plan = first_day_dates(now)
    assert plan.switch_close < timeline.before_switch < timeline.switch < plan.at(time(6, 0)) < timeline.now == now
    assert timeline.switch == plan.switch_close + timedelta(minutes=65)
    assert not session_at(timeline.before_switch).is_open and not session_at(timeline.switch).is_open
    assert shutdown_before(timeline.before_switch) == plan.switch_close + timedelta(minutes=45)


def test_each_demo_step_runs_on_the_demos_clock_in_order(tmp_path: Path, monkeypatch):
    """Every step gets the pinned clock: the evening steps from their moment on, the first day and the report
    from the demo's own now; the clock runs on within a group (the same pin) and never back."""
    pins: list[str] = []

    def run(argv, **kwargs):
        pins.append(kwargs["env"][clock.VARIABLE])
        return subprocess.CompletedProcess(argv, 0)

    now = datetime(2026, 12, 7, 1, 29, tzinfo=NEW_YORK)
    for name, value in clock.pinned_environ(now).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(demo.subprocess, "run", run)
    monkeypatch.chdir(tmp_path)
    settings = cli.resolve({"evidence_dir": str(tmp_path / "evidence")}, {})
    assert demo.run(settings, None) == 0
    timeline = demo.DemoTimeline.of(now)
    before, switch = timeline.before_switch.isoformat(), timeline.switch.isoformat()
    assert pins[:6] == [before] * 4 + [switch] * 2
    assert pins[6] == pins[7] and timedelta(0) <= datetime.fromisoformat(pins[6]) - now < timedelta(seconds=5)


def test_the_demo_keeps_its_evidence_in_a_folder_of_its_own(tmp_path: Path, monkeypatch):
    """By default in reports/demo, so that its runs and its operator's attestations never stand beside a real
    bot's in reports/; an --evidence-dir given on purpose is taken as it is."""
    monkeypatch.chdir(tmp_path)
    assert demo.demo_evidence_dir(cli.resolve({}, {})) == Path("reports") / "demo"
    assert demo.demo_evidence_dir(cli.resolve({"evidence_dir": "mine"}, {})) == Path("mine")
    assert demo.demo_evidence_dir(cli.resolve({}, {"HARNESS_EVIDENCE_DIR": "ours"})) == Path("ours")
