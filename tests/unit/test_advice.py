"""Advice fitted to the platform: the operator on Windows reads Task Manager and Task Scheduler, on Linux `kill`,
`systemctl` and `crontab -e`, on macOS Activity Monitor and `kill`; the platform is pinned here, never read."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from harness.actions.stop_bot import StopResult
from harness.checks import CheckFailed, CouldNotLook, advice
from harness.checks.preflight import check_bot_not_running
from harness.checks.rollback import check_scheduled_task
from harness.checks.scheduler import check_runs_all_day
from harness.probes.processes import BotProcess, ProcessFacts
from harness.probes.scheduler import CRON, TASK_SCHEDULER, ScheduledTask, TaskAction

# sys.platform value -> words the operator must read, words from another platform they must not.
PLATFORMS = {
    "win32": (("Task Manager", "End Task"), ("kill PID", "Activity Monitor", "systemctl")),
    "linux": (("kill PID", "systemctl stop"), ("Task Manager", "Activity Monitor")),
    "darwin": (("Activity Monitor", "kill PID"), ("Task Manager", "systemctl")),
}


@pytest.fixture(params=sorted(PLATFORMS))
def pinned(request, monkeypatch):
    """The platform pinned for code that does not pass one (the checks): what an operator on it reads."""
    monkeypatch.setattr(advice, "current_platform", lambda: request.param)
    return request.param


def assert_fitted(text: str, platform: str) -> None:
    says, never = PLATFORMS[platform]
    assert all(words in text for words in says), (platform, text)
    assert not any(words in text for words in never), (platform, text)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_stopping_the_bot_is_said_in_the_platforms_words(platform):
    assert_fitted(advice.stop_the_bot(platform), platform)
    assert_fitted(advice.halt(platform), platform)
    assert advice.halt(platform).startswith("HALT THE BOT NOW")


def test_the_platforms_other_advice():
    assert "Task Manager" in advice.find_the_process("win32")
    assert "pgrep -af python" in advice.find_the_process("linux")
    assert "Activity Monitor" in advice.find_the_process("darwin")
    assert advice.enable_the_schedule("win32") == "Task Scheduler -> the task -> Enable"
    assert "systemctl enable --now" in advice.enable_the_schedule("linux")
    assert "crontab -e" in advice.change_the_schedule("linux") and "Task" not in advice.change_the_schedule("linux")
    assert "Task Scheduler" in advice.check_the_schedule("win32")
    assert "journalctl" in advice.check_the_schedule("linux")
    assert "launchctl" in advice.check_the_schedule("darwin")


def test_the_kind_of_scheduler_read_decides_over_the_platform():
    """A Windows task exported and checked on Linux is still changed in Task Scheduler."""
    assert advice.enable_the_schedule("linux", kind=TASK_SCHEDULER) == "Task Scheduler -> the task -> Enable"
    assert "systemctl enable --now" in advice.enable_the_schedule("win32", kind="systemd timer")
    assert "crontab -e" in advice.change_the_schedule("win32", kind=CRON)


def test_the_platform_is_this_machines_unless_pinned(monkeypatch):
    monkeypatch.setattr(advice.sys, "platform", "win32")
    assert "Task Manager" in advice.stop_the_bot()
    monkeypatch.setattr(advice.sys, "platform", "linux")
    assert "Task Manager" not in advice.stop_the_bot() and "kill PID" in advice.stop_the_bot()


def test_a_critical_failure_ends_with_the_platforms_halt(pinned):
    failure = CheckFailed("LIVE trading mode in the log", "1 line", critical=True)
    assert failure.halt == f"CRITICAL: {advice.halt(pinned)}"
    assert_fitted(str(failure), pinned)
    assert CheckFailed("Not critical", "x").halt == ""


def test_a_running_bot_is_stopped_in_the_platforms_words(pinned):
    running = ProcessFacts(True, None, "src.main", (BotProcess(4242, "python -m src.main", "/bot"),))
    with pytest.raises(CheckFailed) as failure:
        check_bot_not_running(running)
    assert_fitted(failure.value.message, pinned)
    hidden = ProcessFacts(True, None, "src.main", (), hidden=1, hidden_python=(77,))
    with pytest.raises(CouldNotLook) as doubt:
        check_bot_not_running(hidden)
    assert advice.find_the_process(pinned) in doubt.value.reason


def test_halts_by_hand_advice_is_the_platforms(pinned):
    left = StopResult("src.main", looked=False, problem="psutil refused").left
    assert_fitted(left[0], pinned)


@pytest.mark.parametrize(("kind", "says"), [(TASK_SCHEDULER, "Task Scheduler -> the task -> Enable"),
                                            ("systemd timer", "systemctl enable --now"),
                                            (CRON, "crontab -e")])
def test_a_disabled_task_is_enabled_where_its_scheduler_keeps_it(kind, says):
    task = ScheduledTask("task.xml", True, name="TradingBot", enabled=False, kind=kind)
    with pytest.raises(CheckFailed) as failure:
        check_scheduled_task(task, None)
    assert says in failure.value.message


def test_a_time_limit_is_named_where_its_scheduler_keeps_it():
    action = TaskAction("python", "-m src.main", "C:\\bot")
    windows = ScheduledTask("task.xml", True, name="TradingBot", enabled=True, actions=(action,),
                            time_limit=timedelta(hours=3))
    with pytest.raises(CheckFailed) as failure:
        check_runs_all_day(windows, start=time(6), until=time(16, 30))
    assert "Task Scheduler -> the task -> Settings" in failure.value.message
    assert "systemd" not in failure.value.message
