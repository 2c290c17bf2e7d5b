"""The rollback's pieces: `harness switch dry-run` restores the baseline's file byte for byte when it safely can;
the .env, baseline and scheduled-task checks fail on a wrong world; an open incident makes any verdict NEEDS
REMEDIATION naming it. (The log, Discord and gateway checks fail in tests/acceptance/test_rollback_worlds.py.)"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest

from harness import cli
from harness.actions.rollback import plan_rollback
from harness.actions.switch import apply_switch, plan_switch
from harness.checks import CheckFailed, CouldNotLook
from harness.checks import rollback as checks
from harness.cli import switch as cli_switch
from harness.core import clock
from harness.evidence import baseline as baselines
from harness.evidence import incidents as incident
from harness.probes.envfile import read_env
from harness.probes.market import NEW_YORK
from harness.probes.scheduler import parse_task_xml, read_scheduled_task
from harness.pytest.verdict_hooks import incident_results
from harness.verdict.decide import INCIDENT_OPEN, Overall, ScenarioResult, Status, decide

# The operator's own spelling, comments and spacing: a key switch would write `true`/`false` instead.
BEFORE = (b"# my bot\r\nDRY_RUN = True\r\nPAPER_TRADING=False  # off for now\r\nIBKR_PORT=4002\r\n"
          b"DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/42/tok_SECRET_123\r\n")


@pytest.fixture
def switched(tmp_path):
    """A bot .env with its baseline, switched to paper by the harness (which kept a backup)."""
    env = tmp_path / "bot" / ".env"
    env.parent.mkdir()
    env.write_bytes(BEFORE)
    baseline = tmp_path / "baseline.json"
    baselines.write_baseline(baselines.snapshot(read_env(env)), baseline)
    apply_switch(plan_switch(env, "paper"))
    return env, baseline


def test_the_rollback_restores_the_baselines_file_byte_for_byte(switched):
    env, baseline = switched
    plan = plan_rollback(env, baseline)
    assert plan.after.encode() == BEFORE and any("restored byte for byte" in note for note in plan.notes)
    apply_switch(plan)
    assert env.read_bytes() == BEFORE
    checks.check_mode_is_dry_run(read_env(env))
    checks.check_back_to_baseline(baselines.diff(baselines.load_baseline(baseline)[0], read_env(env)))


def test_the_rollback_switches_only_the_two_keys_when_restoring_would_undo_another_change(switched):
    env, baseline = switched
    env.write_bytes(env.read_bytes().replace(b"IBKR_PORT=4002", b"IBKR_PORT=7497"))
    plan = plan_rollback(env, baseline)
    assert b"IBKR_PORT=7497" in plan.after.encode() and "DRY_RUN = true" in plan.after
    assert any("would also undo other changes" in note for note in plan.notes)
    apply_switch(plan)
    checks.check_mode_is_dry_run(read_env(env))
    with pytest.raises(CheckFailed, match=r"differs from the baseline.*IBKR_PORT changed \('4002' -> '7497'\)"):
        checks.check_back_to_baseline(baselines.diff(baselines.load_baseline(baseline)[0], read_env(env)))


def test_without_a_baseline_the_two_keys_are_switched_back(switched, tmp_path):
    env, _ = switched
    plan = plan_rollback(env, tmp_path / "no-baseline.json")
    assert "DRY_RUN = true" in plan.after and "PAPER_TRADING=false" in plan.after
    assert any("two keys switched back (no baseline" in note for note in plan.notes)


def test_harness_switch_dry_run_says_where_the_file_came_from(switched, tmp_path, capsys, monkeypatch):
    env, baseline = switched
    monkeypatch.setattr(cli_switch, "_now", lambda: datetime(2026, 2, 10, 16, 45, tzinfo=NEW_YORK))
    monkeypatch.setenv("HARNESS_BOT_PROCESS", f"no-such-bot-{uuid.uuid4().hex}")
    code = cli.main(["switch", "dry-run", "--bot-env", str(env), "--baseline", str(baseline)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "restored byte for byte" in out and env.read_bytes() == BEFORE and "tok_SECRET_123" not in out


@pytest.mark.parametrize(("text", "says", "critical"), [
    ("DRY_RUN=false\nPAPER_TRADING=true\n", "DRY_RUN=false (line 1), PAPER_TRADING=true (line 2)", False),
    ("DRY_RUN=false\nPAPER_TRADING=false\n", "LIVE MODE", True),
    ("DRY_RUN=yes\nPAPER_TRADING=false\n", "'yes'", False),
    ("DRY_RUN=true\nPAPER_TRADING=true\n", "PAPER_TRADING=true", False),
])
def test_the_env_must_be_back_in_dry_run(tmp_path, text, says, critical):
    env = tmp_path / ".env"
    env.write_text(text, encoding="utf-8")
    with pytest.raises(CheckFailed) as failed:
        checks.check_mode_is_dry_run(read_env(env))
    assert says in str(failed.value) and failed.value.critical is critical


# --- the scheduled task ---------------------------------------------------------------------------------------

def _task(bot_dir: str, *, enabled: str = "true", trigger: str = "true", encoding: str = "utf-16") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-16"?><Task version="1.2" '
            'xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">'
            "<RegistrationInfo><URI>\\TradingBot</URI></RegistrationInfo>"
            f"<Triggers><CalendarTrigger><StartBoundary>2026-01-05T06:00:00</StartBoundary><Enabled>{trigger}"
            "</Enabled><ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay></CalendarTrigger></Triggers>"
            f"<Settings><Enabled>{enabled}</Enabled></Settings><Actions><Exec><Command>py.exe</Command>"
            f"<Arguments>-m src.main</Arguments><WorkingDirectory>{bot_dir}</WorkingDirectory></Exec></Actions>"
            "</Task>").encode(encoding)


def test_a_task_that_starts_the_bot_from_its_directory_passes(tmp_path):
    path = tmp_path / "task.xml"
    path.write_bytes(_task(str(tmp_path / "bot")))
    task = read_scheduled_task(str(path))
    assert task.looked and task.name == "\\TradingBot" and task.triggers[0].schedule == "daily"
    note = checks.check_scheduled_task(task, tmp_path / "bot")
    assert "enabled" in note and "daily" in note and "06:00" in note


@pytest.mark.parametrize(("xml", "says"), [
    (dict(enabled="false"), "is disabled"),
    (dict(trigger="false"), "no enabled trigger"),
    (dict(bot_dir="C:\\bots\\other"), "not the bot in"),
])
def test_a_task_that_would_not_start_this_bot_fails(tmp_path, xml, says):
    task = parse_task_xml(_task(**{"bot_dir": str(tmp_path / "bot"), **xml}), "task.xml")
    with pytest.raises(CheckFailed, match=says):
        checks.check_scheduled_task(task, tmp_path / "bot")


@pytest.mark.parametrize(("data", "says"), [
    (b"<not a task", "is not a task's XML"),
    (b"<Task/>", "not a Task Scheduler task"),
    (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Task/>', "DOCTYPE"),
])
def test_a_task_that_cannot_be_read_is_operator_to_confirm(tmp_path, data, says):
    path = tmp_path / "task.xml"
    path.write_bytes(data)
    task = read_scheduled_task(str(path))
    assert not task.looked and says in task.problem
    with pytest.raises(CouldNotLook):
        checks.check_scheduled_task(task, tmp_path)


def test_no_task_given_is_operator_to_confirm():
    assert "--scheduler-task" in read_scheduled_task(None).problem
    with pytest.raises(CouldNotLook):
        checks.check_scheduled_task(read_scheduled_task(None), None)


# --- the incident in the verdict ------------------------------------------------------------------------------

def test_an_open_incident_makes_any_verdict_need_remediation_naming_it(tmp_path: Path):
    passed = [ScenarioResult("a", ("rollback_env_dry_run",), "passed")]
    assert incident_results(tmp_path) == []
    incident.append(tmp_path, incident.HaltRecord(incident.DRILL, "2026-02-10T21:00:00+00:00", reason="drill"))
    assert incident_results(tmp_path) == []  # a drill locks nothing
    incident.append(tmp_path, incident.HaltRecord(incident.INCIDENT, "2026-02-10T21:05:00+00:00",
                                                  reason="an order in the live account"))
    verdict = decide("rollback", passed + incident_results(tmp_path), {}, clock.now())
    assert verdict.overall is Overall.NEEDS_REMEDIATION and INCIDENT_OPEN in verdict.headline
    row = next(item for item in verdict.items if item.item == INCIDENT_OPEN)
    assert row.status is Status.FAILED and "2026-02-10T21:05:00" in row.why
    assert "an order in the live account" in row.why
    incident.resolve(tmp_path, "Ann", "root cause: the gateway was logged into the live account; fixed")
    assert incident_results(tmp_path) == []
