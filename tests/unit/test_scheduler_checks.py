"""The first day's scheduler checks: the definition starts the bot at 06:00 New York time on every weekday, all
year, and what it runs keeps paper mode. Every check has a world in which it fails."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path

import pytest

from harness.checks import CheckFailed, CouldNotLook
from harness.checks.rollback import check_scheduled_task
from harness.checks.scheduler import check_keeps_paper_mode, check_runs_all_day, check_starts_at
from harness.probes.scheduler import ScheduledTask, parse_task_xml, read_scheduled_task
from tests.unit.test_scheduler_probe import FIXTURES, systemd, task_xml, write

SIX = time(6)


def xml_task(**kwargs) -> ScheduledTask:
    return parse_task_xml(task_xml(**kwargs).encode("utf-16"), "task.xml")


# --- check_starts_at --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("machine_zone", ["America/New_York", "US/Eastern", "America/Toronto"])
def test_a_trigger_in_the_machine_s_eastern_time_passes(machine_zone):
    task = read_scheduled_task(str(FIXTURES / "schtasks-export.xml"))
    check_starts_at(task, SIX, machine_zone=machine_zone)


def test_a_daily_trigger_passes_and_so_does_a_cron_line_in_new_york(tmp_path):
    check_starts_at(xml_task(schedule="<ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>"), SIX,
                    machine_zone="America/New_York")
    cron = write(tmp_path / "cron", "CRON_TZ=America/New_York\n0 6 * * mon-fri cd /bot && python -m src.main\n")
    check_starts_at(read_scheduled_task(str(cron)), SIX, machine_zone="America/New_York")


def test_a_trigger_without_zone_on_an_unknown_machine_is_operator_to_confirm():
    with pytest.raises(CouldNotLook, match="--bot-log-tz"):
        check_starts_at(xml_task(), SIX, machine_zone=None)


def test_a_fixed_offset_is_wrong_half_the_year():
    with pytest.raises(CheckFailed, match="daylight saving") as failed:
        check_starts_at(xml_task(start="2026-01-05T06:00:00-05:00"), SIX, machine_zone="America/New_York")
    assert "at 06:00 on" in failed.value.message and "at 07:00 on" in failed.value.message


def test_a_machine_in_another_zone_names_the_new_york_time():
    with pytest.raises(CheckFailed) as failed:
        check_starts_at(xml_task(), SIX, machine_zone="Europe/London")
    assert "at 01:00 on" in failed.value.message and "Europe/London" in failed.value.message


def test_a_systemd_timer_in_utc_fails(tmp_path):
    task = read_scheduled_task(str(systemd(tmp_path, "Mon..Fri *-*-* 11:00:00 UTC")))
    with pytest.raises(CheckFailed, match="at 07:00 on"):
        check_starts_at(task, SIX, machine_zone="America/New_York")


def test_a_systemd_timer_in_new_york_passes_and_one_not_seen_enabled_is_operator_to_confirm(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    check_starts_at(read_scheduled_task(str(systemd(tmp_path / "a"))), SIX, machine_zone=None)
    with pytest.raises(CouldNotLook, match="systemctl is-enabled"):
        check_starts_at(read_scheduled_task(str(systemd(tmp_path / "b", enabled=False))), SIX, machine_zone=None)


@pytest.mark.parametrize(("kwargs", "says"), [
    (dict(enabled="false"), "is disabled"),
    (dict(trigger_enabled="false"), "is disabled"),
    (dict(days=("Monday", "Tuesday", "Wednesday", "Thursday")), "not at all on"),
    (dict(start="2026-01-05T07:00:00"), "at 07:00 on"),
    (dict(schedule="<ScheduleByDay><DaysInterval>2</DaysInterval></ScheduleByDay>"), "every 2 days"),
    (dict(schedule="<ScheduleByMonth><DaysOfMonth><Day>1</Day></DaysOfMonth></ScheduleByMonth>"), "monthly"),
])
def test_a_task_that_does_not_start_at_six_on_every_weekday_fails(kwargs, says):
    with pytest.raises(CheckFailed, match=says):
        check_starts_at(xml_task(**kwargs), SIX, machine_zone="America/New_York")


def test_a_zone_the_scheduler_does_not_know_fails(tmp_path):
    task = read_scheduled_task(str(systemd(tmp_path, "Mon..Fri 06:00 Mars/Olympus_Mons")))
    with pytest.raises(CheckFailed, match="not a time zone"):
        check_starts_at(task, SIX, machine_zone=None)


def test_a_logon_trigger_alone_never_starts_at_six():
    text = task_xml().replace("<CalendarTrigger>", "<LogonTrigger>").replace("</CalendarTrigger>", "</LogonTrigger>")
    with pytest.raises(CheckFailed, match="not started at a time of day"):
        check_starts_at(parse_task_xml(text.encode(), "t"), SIX, machine_zone="America/New_York")


def test_a_task_that_cannot_be_read_is_operator_to_confirm(tmp_path):
    with pytest.raises(CouldNotLook, match="could not be read"):
        check_starts_at(read_scheduled_task(str(tmp_path / "missing.xml")), SIX, machine_zone="America/New_York")
    with pytest.raises(CouldNotLook):
        check_keeps_paper_mode(read_scheduled_task(None), bot_dir=tmp_path, bot_env=None)


# --- check_keeps_paper_mode -------------------------------------------------------------------------------------

@pytest.fixture
def bot(tmp_path) -> Path:
    """A bot directory with its own .venv and .env."""
    root = tmp_path / "bot"
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (root / ".env").write_text("DRY_RUN=false\nPAPER_TRADING=true\n", encoding="utf-8")
    return root


def task_for(bot: Path, command: str, arguments: str = "-m src.main", directory: str | None = None) -> ScheduledTask:
    path = write(bot.parent / "task.xml", task_xml(command, arguments, str(bot) if directory is None else directory),
                 "utf-16", "\r\n")
    return read_scheduled_task(str(path), bot_dir=bot)


def check(task: ScheduledTask, bot: Path) -> None:
    check_keeps_paper_mode(task, bot_dir=bot, bot_env=bot / ".env")


def test_the_bot_s_own_python_in_its_directory_passes(bot):
    check(task_for(bot, str(bot / ".venv" / "bin" / "python")), bot)
    check(task_for(bot, ".venv/bin/python"), bot)  # relative to the working directory


def test_a_task_that_runs_no_program_fails(bot):
    task = replace(task_for(bot, str(bot / ".venv" / "bin" / "python")), actions=())  # e.g. only a COM handler
    with pytest.raises(CheckFailed, match="starts nothing") as failed:
        check(task, bot)
    assert "has no program to start" in str(failed.value)


@pytest.mark.parametrize(("arguments", "title", "critical"), [
    ('/c "set DRY_RUN=true&& {py} -m src.main"', "brings back dry-run", False),
    ("/c set DRY_RUN=false && {py} -m src.main", "unclear mode", False),  # "false " is not strictly false
    ('/c "set PAPER_TRADING=false&& {py} -m src.main"', "LIVE mode", True),
    ('/c "set PAPER_TRADING=no&& {py} -m src.main"', "may start the bot in LIVE", True),
    ('/c "set IBKR_PORT=4001&& {py} -m src.main"', "LIVE port", True),
    ('/c "set IBKR_PORT=4003&& {py} -m src.main"', "changes the bot's port", False),
    ('/c "set PYTHON_DOTENV_DISABLED=1&& {py} -m src.main"', "ignore its .env", True),
])
def test_an_environment_that_changes_the_mode_fails(bot, arguments, title, critical):
    task = task_for(bot, "cmd.exe", arguments.format(py=bot / ".venv" / "bin" / "python"))
    with pytest.raises(CheckFailed, match=title) as failed:
        check(task, bot)
    assert failed.value.critical is critical


def test_powershell_env_fails(bot):
    py = bot / ".venv" / "bin" / "python"
    task = task_for(bot, "powershell.exe", f"-NoProfile -Command \"$env:DRY_RUN='true'; & '{py}' -m src.main\"")
    with pytest.raises(CheckFailed, match="DRY_RUN=true"):
        check(task, bot)


def test_a_wrapper_that_sets_dry_run_fails_and_names_the_wrapper(bot):
    wrapper = write(bot / "start.bat", "@echo off\r\nrem Démarrage\r\nset DRY_RUN=true\r\n"
                    "call .venv\\Scripts\\activate.bat\r\npython -m src.main\r\n", "cp1252")
    with pytest.raises(CheckFailed, match=r"start\.bat"):
        check(task_for(bot, str(wrapper), ""), bot)


def test_a_wrapper_that_cannot_be_read_is_operator_to_confirm(bot):
    with pytest.raises(CouldNotLook, match="does not exist"):
        check(task_for(bot, str(bot / "gone.cmd"), ""), bot)
    (bot / "huge.ps1").write_bytes(b"#" * 300_000)
    with pytest.raises(CouldNotLook, match="larger than"):
        check(task_for(bot, "powershell", f"-File {bot / 'huge.ps1'}"), bot)


def test_a_working_directory_with_another_env_fails(bot, tmp_path):
    other = tmp_path / "old-bot"
    other.mkdir()
    (other / ".env").write_text("DRY_RUN=true\n", encoding="utf-8")
    with pytest.raises(CheckFailed, match=r"another \.env") as failed:
        check(task_for(bot, str(bot / ".venv" / "bin" / "python"), f"{bot / 'src' / 'main.py'}", str(other)), bot)
    assert str(other / ".env") in failed.value.message


def test_a_working_directory_without_env_passes_and_one_out_of_reach_is_operator_to_confirm(bot, tmp_path):
    (empty := tmp_path / "empty").mkdir()
    check(task_for(bot, str(bot / ".venv" / "bin" / "python"), str(bot / "src" / "main.py"), str(empty)), bot)
    with pytest.raises(CouldNotLook, match="cannot be looked at"):
        check(task_for(bot, str(bot / ".venv" / "bin" / "python"), "-m src.main", "D:relative"), bot)


def test_a_system_python_while_the_bot_has_a_venv_fails_naming_both(bot):
    with pytest.raises(CheckFailed, match="another python") as failed:
        check(task_for(bot, "python.exe"), bot)
    assert "python.exe" in failed.value.message and str(bot / ".venv") in failed.value.message
    with pytest.raises(CheckFailed, match="another python"):
        check(task_for(bot, "/usr/bin/python3"), bot)


def test_an_activated_venv_or_poetry_is_the_bot_s_python(bot):
    wrapper = write(bot / "start.sh", f"#!/bin/sh\ncd {bot}\n. .venv/bin/activate\nexec python -m src.main\n")
    check(task_for(bot, "/bin/sh", str(wrapper)), bot)
    (bot / "pyproject.toml").write_text("[tool.poetry]\nname = 'bot'\n", encoding="utf-8")
    check(task_for(bot, "poetry", "run python -m src.main"), bot)
    with pytest.raises(CheckFailed, match="pipenv run"):
        check(task_for(bot, "pipenv", "run python -m src.main"), bot)


def test_a_poetry_bot_run_by_a_system_python_fails(tmp_path):
    root = tmp_path / "bot"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.poetry]\nname = 'bot'\n", encoding="utf-8")
    with pytest.raises(CheckFailed, match="Poetry"):
        check(task_for(root, "python"), root)


def test_a_bot_without_an_environment_of_its_own_takes_any_python(tmp_path):
    root = tmp_path / "bot"
    root.mkdir()
    check(task_for(root, "python"), root)


def test_no_python_seen_or_no_bot_dir_is_operator_to_confirm(bot):
    with pytest.raises(CouldNotLook, match="no python is seen"):
        check(task_for(bot, str(bot / "trading-bot.exe"), ""), bot)
    with pytest.raises(CouldNotLook, match="--bot-dir"):
        check_keeps_paper_mode(task_for(bot, "python"), bot_dir=None, bot_env=None)
    task = read_scheduled_task(str(FIXTURES / "schtasks-export.xml"))  # read without the bot directory
    with pytest.raises(CouldNotLook, match="was not read"):
        check_keeps_paper_mode(task, bot_dir=bot, bot_env=None)


def test_a_task_without_working_directory_is_operator_to_confirm(bot):
    with pytest.raises(CouldNotLook, match="no working directory"):
        check(task_for(bot, str(bot / ".venv" / "bin" / "python"), directory=""), bot)


def test_a_cron_line_with_dry_run_fails(bot, tmp_path):
    cron = write(tmp_path / "cron.txt", f"0 6 * * 1-5 cd {bot} && DRY_RUN=true {bot}/.venv/bin/python -m src.main\n")
    with pytest.raises(CheckFailed, match="brings back dry-run"):
        check(read_scheduled_task(str(cron), bot_dir=bot), bot)
    cron = write(tmp_path / "cron.txt", f"DRY_RUN=true\n0 6 * * 1-5 cd {bot} && {bot}/.venv/bin/python -m src.main\n")
    with pytest.raises(CheckFailed, match="brings back dry-run"):
        check(read_scheduled_task(str(cron), bot_dir=bot), bot)
    cron = write(tmp_path / "cron.txt", f"0 6 * * 1-5 cd {bot} && {bot}/.venv/bin/python -m src.main\n")
    check(read_scheduled_task(str(cron), bot_dir=bot), bot)


def test_a_systemd_service_with_environment_fails(bot, tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    service = (f"[Service]\nWorkingDirectory={bot}\nEnvironment=PAPER_TRADING=false\n"
               f"ExecStart={bot}/.venv/bin/python -m src.main\n")
    task = read_scheduled_task(str(systemd(units, service=service)), bot_dir=bot)
    with pytest.raises(CheckFailed, match="LIVE mode") as failed:
        check(task, bot)
    assert failed.value.critical


def test_the_rollback_check_does_not_call_an_unseen_timer_disabled(tmp_path):
    with pytest.raises(CouldNotLook, match="is-enabled"):
        check_scheduled_task(read_scheduled_task(str(systemd(tmp_path, enabled=False))), tmp_path)


def test_windows_variable_names_are_case_insensitive_and_posix_ones_are_not(bot, tmp_path):
    task = task_for(bot, "cmd.exe", f'/c "set dry_run=true&& {bot / ".venv" / "bin" / "python"} -m src.main"')
    with pytest.raises(CheckFailed, match="dry-run"):
        check(task, bot)
    cron = write(tmp_path / "cron.txt", f"0 6 * * 1-5 cd {bot} && dry_run=true {bot}/.venv/bin/python -m src.main\n")
    check(read_scheduled_task(str(cron), bot_dir=bot), bot)  # the bot reads DRY_RUN, not dry_run


def test_a_python_inside_the_bot_directory_needs_no_more_facts(bot):
    task = read_scheduled_task(str(write(bot.parent / "t.xml", task_xml(str(bot / ".venv" / "bin" / "python"),
                                                                       "-m src.main", str(bot)))))
    assert task.bot_python is None
    check(task, bot)


# --- random delays and time limits ------------------------------------------------------------------------------

def test_a_random_delay_fails(tmp_path):
    text = task_xml().replace("</StartBoundary>", "</StartBoundary><RandomDelay>PT30M</RandomDelay>")
    task = parse_task_xml(text.encode("utf-16"), "t")
    assert task.triggers[0].random_delay == timedelta(minutes=30)
    with pytest.raises(CheckFailed, match="random time up to 0:30:00"):
        check_starts_at(task, SIX, machine_zone="America/New_York")
    timer = systemd(tmp_path)
    timer.write_text(timer.read_text(encoding="utf-8").replace("Persistent=true", "RandomizedDelaySec=5min"),
                     encoding="utf-8")
    with pytest.raises(CheckFailed, match="random time up to 0:05:00"):
        check_starts_at(read_scheduled_task(str(timer)), SIX, machine_zone=None)


def test_a_random_delay_that_cannot_be_read_is_operator_to_confirm_not_no_delay(tmp_path):
    text = task_xml().replace("</StartBoundary>", "</StartBoundary><RandomDelay>half an hour</RandomDelay>")
    task = parse_task_xml(text.encode("utf-16"), "t")
    assert task.triggers[0].random_delay == timedelta(0) and task.triggers[0].random_delay_unread == "half an hour"
    with pytest.raises(CouldNotLook, match=r"random delay 'half an hour' .* cannot be read"):
        check_starts_at(task, SIX, machine_zone="America/New_York")
    timer = systemd(tmp_path)
    timer.write_text(timer.read_text(encoding="utf-8").replace("Persistent=true", "RandomizedDelaySec=5 moons"),
                     encoding="utf-8")
    with pytest.raises(CouldNotLook, match="'5 moons'"):
        check_starts_at(read_scheduled_task(str(timer)), SIX, machine_zone=None)


def test_the_default_three_day_limit_passes_and_a_short_one_fails(tmp_path):
    task = read_scheduled_task(str(FIXTURES / "schtasks-export.xml"))
    assert task.time_limit is None and task.runs_logged_off is False  # PT0S; InteractiveToken
    with pytest.raises(CouldNotLook, match="logged on"):
        check_runs_all_day(task, start=SIX, until=time(16, 30))
    default = parse_task_xml(task_xml().encode("utf-16"), "t")  # no ExecutionTimeLimit: Task Scheduler's PT72H
    assert default.time_limit == timedelta(hours=72)
    check_runs_all_day(default, start=SIX, until=time(16, 30))
    short = task_xml().replace("<Settings>", "<Settings><ExecutionTimeLimit>PT8H</ExecutionTimeLimit>")
    with pytest.raises(CheckFailed, match="stopped at 14:00, before 16:30"):
        check_runs_all_day(parse_task_xml(short.encode("utf-16"), "t"), start=SIX, until=time(16, 30))
    service = "[Service]\nRuntimeMaxSec=2h\nExecStart=/usr/bin/python3 -m src.main\n"
    with pytest.raises(CheckFailed, match="stopped at 08:00"):
        check_runs_all_day(read_scheduled_task(str(systemd(tmp_path, service=service))), start=SIX,
                           until=time(16, 30))
    with pytest.raises(CouldNotLook):
        check_runs_all_day(read_scheduled_task(None), start=SIX, until=time(16, 30))


def test_a_time_limit_that_cannot_be_read_is_operator_to_confirm_not_no_limit(tmp_path):
    unreadable = task_xml().replace("<Settings>", "<Settings><ExecutionTimeLimit>8 hours</ExecutionTimeLimit>")
    task = parse_task_xml(unreadable.encode("utf-16"), "t")
    assert task.time_limit is None and task.time_limit_unread == "8 hours"
    with pytest.raises(CouldNotLook, match=r"time limit '8 hours' .* cannot be read"):
        check_runs_all_day(task, start=SIX, until=time(16, 30))
    service = "[Service]\nRuntimeMaxSec=8 fortnights\nExecStart=/usr/bin/python3 -m src.main\n"
    with pytest.raises(CouldNotLook, match="'8 fortnights'"):
        check_runs_all_day(read_scheduled_task(str(systemd(tmp_path, service=service))), start=SIX,
                           until=time(16, 30))
    service = "[Service]\nRuntimeMaxSec=infinity\nExecStart=/usr/bin/python3 -m src.main\n"
    (tmp_path / "infinite").mkdir()
    check_runs_all_day(read_scheduled_task(str(systemd(tmp_path / "infinite", service=service))), start=SIX,
                       until=time(16, 30))


def test_a_relative_bot_dir_is_the_same_bot(bot, monkeypatch):
    monkeypatch.chdir(bot.parent)
    wrapper = write(bot / "start.sh", f"cd {bot}\n. .venv/bin/activate\npython -m src.main\n")
    for command, arguments in ((str(bot / ".venv" / "bin" / "python"), "-m src.main"), ("/bin/sh", str(wrapper))):
        task = read_scheduled_task(str(write(bot.parent / "t.xml", task_xml(command, arguments, str(bot)))),
                                   bot_dir=Path("bot"))
        check_keeps_paper_mode(task, bot_dir=Path("bot"), bot_env=Path("bot") / ".env")
    with pytest.raises(CheckFailed, match="another python"):
        check_keeps_paper_mode(read_scheduled_task(str(write(bot.parent / "t.xml", task_xml("python", "-m src.main",
                                                                                           str(bot)))),
                                                   bot_dir=Path("bot")), bot_dir=Path("bot"), bot_env=None)
