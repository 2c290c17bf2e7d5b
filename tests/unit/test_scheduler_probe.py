"""The scheduler probe: Task Scheduler XML (as schtasks writes it), systemd timers, crontabs, and what their
actions run (shells, wrappers, environment). Facts only; every fault of the world is one clear problem."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.redact import MASK
from harness.probes.scheduler import (
    CRON,
    MAX_TASK_BYTES,
    MAX_WRAPPER_BYTES,
    SYSTEMD,
    TASK_SCHEDULER,
    parse_task_file,
    parse_task_xml,
    read_bot_python,
    read_scheduled_task,
)

FIXTURES = Path(__file__).parent / "fixtures" / "scheduler"
WEEKDAYS5 = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


def task_xml(command: str = "python.exe", arguments: str = "-m src.main", directory: str = "",
             *, start: str = "2026-01-05T06:00:00", days: tuple[str, ...] = WEEKDAYS5, schedule: str = "",
             enabled: str = "true", trigger_enabled: str = "true") -> str:
    """A task as schtasks exports it (the text; tests choose the bytes)."""
    from xml.sax.saxutils import escape

    by = schedule or ("<ScheduleByWeek><DaysOfWeek>" + "".join(f"<{d} />" for d in days) +
                      "</DaysOfWeek><WeeksInterval>1</WeeksInterval></ScheduleByWeek>")
    folder = f"<WorkingDirectory>{escape(directory)}</WorkingDirectory>" if directory else ""
    return ('<?xml version="1.0" encoding="UTF-16"?>\n'
            '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
            "  <RegistrationInfo><URI>\\TradingBot</URI></RegistrationInfo>\n"
            f"  <Triggers><CalendarTrigger><StartBoundary>{start}</StartBoundary><Enabled>{trigger_enabled}"
            f"</Enabled>{by}</CalendarTrigger></Triggers>\n"
            f"  <Settings><Enabled>{enabled}</Enabled></Settings>\n"
            f"  <Actions Context=\"Author\"><Exec><Command>{escape(command)}</Command>"
            f"<Arguments>{escape(arguments)}</Arguments>{folder}</Exec></Actions>\n"
            "</Task>\n")


def write(path: Path, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# --- Task Scheduler XML: encodings and triggers ----------------------------------------------------------------

def test_a_schtasks_export_utf16_with_bom_and_crlf_is_read_whole():
    task = read_scheduled_task(str(FIXTURES / "schtasks-export.xml"))
    assert task.looked and task.kind == TASK_SCHEDULER and task.name == "\\TradingBot" and task.enabled
    (trigger,) = task.triggers
    assert (trigger.time_of_day, trigger.zone, trigger.days, trigger.irregular) == (time(6), None, WEEKDAYS5, "")
    (action,) = task.actions
    assert action.command == "C:\\trading-bot\\.venv\\Scripts\\python.exe" and action.arguments == "-m src.main"
    assert action.working_directory == action.directory == "C:\\trading-bot"
    assert action.interpreter == "C:\\trading-bot\\.venv\\Scripts\\python.exe" and action.environment == ()


@pytest.mark.parametrize(("encoding", "newline"), [
    ("utf-16", "\r\n"),  # BOM, as schtasks writes it
    ("utf-16-le", "\r\n"),  # no BOM
    ("utf-16-be", "\n"),
    ("utf-8-sig", "\r\n"),
    ("utf-8", "\n"),
])
def test_every_encoding_windows_writes_gives_the_same_facts(tmp_path, encoding, newline):
    text = task_xml() if encoding.startswith("utf-16") else task_xml().replace("UTF-16", "UTF-8")
    task = read_scheduled_task(str(write(tmp_path / "task.xml", text, encoding, newline)))
    assert task.looked, task.problem
    assert task.triggers[0].time_of_day == time(6) and task.triggers[0].days == WEEKDAYS5
    assert task.actions[0].interpreter == "python.exe"


@pytest.mark.parametrize(("start", "at", "zone"), [
    ("2026-01-05T06:00:00", time(6), None),  # no zone: the machine's local time
    ("2026-01-05T06:00:00-05:00", time(6), "-05:00"),  # "Synchronize across time zones"
    ("2026-01-05T11:00:00Z", time(11), "+00:00"),
    ("2026-01-05T06:30:00.1234567+0100", time(6, 30), "+01:00"),
    ("not a time", None, None),
])
def test_start_boundary_gives_the_time_of_day_and_its_zone(start, at, zone):
    trigger = parse_task_xml(task_xml(start=start).encode("utf-16"), "t").triggers[0]
    assert (trigger.time_of_day, trigger.zone) == (at, zone)


@pytest.mark.parametrize(("schedule", "days", "irregular"), [
    ("<ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>", (), ""),
    ("<ScheduleByDay><DaysInterval>2</DaysInterval></ScheduleByDay>", (), "every 2 days"),
    ("<ScheduleByWeek><DaysOfWeek><Monday /></DaysOfWeek><WeeksInterval>2</WeeksInterval></ScheduleByWeek>",
     ("Monday",), "every 2 weeks"),
    ("<ScheduleByMonth><DaysOfMonth><Day>1</Day></DaysOfMonth></ScheduleByMonth>", (), "monthly"),
])
def test_calendar_schedules(schedule, days, irregular):
    trigger = parse_task_xml(task_xml(schedule=schedule).encode("utf-8"), "t").triggers[0]
    assert (trigger.days, trigger.irregular) == (days, irregular)


def test_disabled_flags_are_read():
    task = parse_task_xml(task_xml(enabled="false", trigger_enabled="false").encode("utf-16"), "t")
    assert task.enabled is False and task.triggers[0].enabled is False


# --- what an action sets: cmd, PowerShell, wrappers -----------------------------------------------------------

@pytest.mark.parametrize(("command", "arguments", "environment", "interpreter", "directory"), [
    ("cmd", '/c "set DRY_RUN=true&& python -m src.main"', [("DRY_RUN", "true")], "python", ""),
    # cmd keeps the space before && in the value
    ("cmd.exe", "/c set DRY_RUN=true && python -m src.main", [("DRY_RUN", "true ")], "python", ""),
    ("C:\\Windows\\System32\\cmd.exe", '/s /c "cd /d C:\\bot && set "PAPER_TRADING=false" && py -3 -m src.main"',
     [("PAPER_TRADING", "false")], "py", "C:\\bot"),
    ("powershell.exe", "-NoProfile -Command \"$env:DRY_RUN='true'; $env:IBKR_PORT = 4001; "
     "Set-Location C:\\bot; & C:\\bot\\.venv\\Scripts\\python.exe -m src.main\"",
     [("DRY_RUN", "true"), ("IBKR_PORT", "4001")], "C:\\bot\\.venv\\Scripts\\python.exe", "C:\\bot"),
    ("pwsh", "-c \"Set-Item Env:PAPER_TRADING 'false'; python -m src.main\"", [("PAPER_TRADING", "false")],
     "python", ""),
    ('"C:\\Program Files\\Python311\\python.exe"', "-m src.main", [], "C:\\Program Files\\Python311\\python.exe", ""),
    ("poetry", "run python -m src.main", [], "poetry run", ""),
])
def test_the_environment_a_command_line_sets(command, arguments, environment, interpreter, directory):
    task = parse_task_xml(task_xml(command, arguments).encode("utf-16"), "t")
    (action,) = task.actions
    assert list(action.environment) == environment
    assert action.interpreter == interpreter and action.directory == directory


def test_secret_values_set_by_the_task_are_masked():
    arguments = '/c "set DISCORD_BOT_TOKEN=MTIzNDU2Nzg5.abcdefghijkl&& set DRY_RUN=false&& python -m src.main"'
    task = parse_task_xml(task_xml("cmd", arguments).encode("utf-16"), "t")
    assert task.actions[0].environment == (("DISCORD_BOT_TOKEN", MASK), ("DRY_RUN", "false"))
    assert "MTIzNDU2Nzg5" not in repr(task)
    hook = "https://discord.com/api/webhooks/123456789/abcdefghijklmnopqrstuvwxyz"
    task = parse_task_xml(task_xml("cmd", f'/c "set NOTIFY={hook}&& python -m src.main"').encode(), "t")
    assert task.actions[0].environment == (("NOTIFY", MASK),) and "abcdefghijklmnop" not in repr(task)


def test_a_cp1252_bat_wrapper_is_followed(tmp_path):
    bot = tmp_path / "bot"
    (bot / ".venv" / "Scripts").mkdir(parents=True)
    wrapper = write(tmp_path / "start.bat", "@echo off\nREM démarrage du bot à 6h\nsetlocal\n"
                    f"cd /d {bot}\nset DRY_RUN=true\ncall .venv\\Scripts\\activate.bat\npython -m src.main\n",
                    "cp1252", "\r\n")
    task = parse_task_xml(task_xml(str(wrapper), "").encode("utf-16"), "t")
    (action,) = task.actions
    assert action.wrapper == str(wrapper) and action.wrapper_problem is None
    assert action.environment == (("DRY_RUN", "true"),) and action.directory == str(bot)
    assert action.interpreter == "python" and action.activated.replace("\\", "/") == f"{bot}/.venv"


def test_a_utf16_ps1_wrapper_run_with_file_is_followed(tmp_path):
    wrapper = write(tmp_path / "start bot.ps1", "# start\n$env:PAPER_TRADING = \"false\"\npython -m src.main\n",
                    "utf-16", "\r\n")
    task = parse_task_xml(task_xml("powershell.exe", f'-ExecutionPolicy Bypass -File "{wrapper}"').encode(), "t")
    assert task.actions[0].environment == (("PAPER_TRADING", "false"),)
    assert task.actions[0].wrapper == str(wrapper)


def test_a_relative_wrapper_is_found_in_the_working_directory(tmp_path):
    write(tmp_path / "run.cmd", "set DRY_RUN=true\r\npython -m src.main\r\n")
    task = parse_task_xml(task_xml("run.cmd", "", str(tmp_path)).encode(), "t")
    assert task.actions[0].environment == (("DRY_RUN", "true"),)


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_bytes(b"x" * (MAX_WRAPPER_BYTES + 1)), "larger than"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: p.write_bytes(b"\x00\x01\x02garbage\x00" * 10), "binary"),
])
def test_a_wrapper_that_cannot_be_read_is_one_problem(tmp_path, make, says):
    wrapper = tmp_path / "start.bat"
    make(wrapper)
    (action,) = parse_task_xml(task_xml(str(wrapper), "").encode(), "t").actions
    assert says in action.wrapper_problem and action.wrapper == str(wrapper)


def test_a_wrapper_that_is_not_on_this_machine_is_a_problem_not_a_guess():
    (action,) = parse_task_xml(task_xml("C:\\nowhere-bot\\start.bat", "").encode(), "t").actions
    assert "start.bat" in action.wrapper_problem  # "not a path on this machine" off Windows, else "does not exist"


def test_the_directory_env_is_looked_at(tmp_path):
    (tmp_path / ".env").write_text("DRY_RUN=true\n", encoding="utf-8")
    (action,) = parse_task_xml(task_xml(directory=str(tmp_path)).encode(), "t").actions
    assert action.directory_env == str(tmp_path / ".env")
    (empty := tmp_path / "empty").mkdir()
    assert parse_task_xml(task_xml(directory=str(empty)).encode(), "t").actions[0].directory_env == ""
    assert parse_task_xml(task_xml(directory="relative").encode(), "t").actions[0].directory_env is None


# --- systemd --------------------------------------------------------------------------------------------------

def systemd(tmp_path: Path, calendar: str = "Mon..Fri *-*-* 06:00:00 America/New_York",
            service: str | None = None, enabled: bool = True) -> Path:
    timer = write(tmp_path / "bot.timer", f"[Unit]\nDescription=bot\n\n[Timer]\nOnCalendar={calendar}\n"
                  "Persistent=true\n\n[Install]\nWantedBy=timers.target\n")
    default = (f"[Service]\nType=simple\nWorkingDirectory={tmp_path}\nEnvironment=\"LOG_LEVEL=INFO\" "
               f"PYTHONUNBUFFERED=1\nEnvironmentFile=-{tmp_path}/bot.env\n"
               f"ExecStart={tmp_path}/.venv/bin/python -m src.main\n")
    write(tmp_path / "bot.service", service if service is not None else default)
    if enabled:
        (tmp_path / "timers.target.wants").mkdir()
        (tmp_path / "timers.target.wants" / "bot.timer").write_text("", encoding="utf-8")
    return timer


def test_a_systemd_timer_and_its_service(tmp_path):
    write(tmp_path / "bot.env", "DRY_RUN=true\n# a comment\nexport DISCORD_WEBHOOK_URL=\"https://x\"\n")
    task = read_scheduled_task(str(systemd(tmp_path)))
    assert task.looked and task.kind == SYSTEMD and task.enabled is True and task.name == "bot.timer"
    (trigger,) = task.triggers
    assert (trigger.time_of_day, trigger.zone, trigger.days) == (time(6), "America/New_York", WEEKDAYS5)
    (action,) = task.actions
    assert action.directory == str(tmp_path) and action.interpreter == f"{tmp_path}/.venv/bin/python"
    assert dict(action.environment) == {"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", "DRY_RUN": "true",
                                        "DISCORD_WEBHOOK_URL": MASK}


@pytest.mark.parametrize(("calendar", "at", "zone", "days", "irregular"), [
    ("*-*-* 06:00", time(6), None, (), ""),
    ("Mon,Tue,Wed..Fri 06:00:00", time(6), None, WEEKDAYS5, ""),
    ("daily", time(0), None, (), ""),
    ("Sat,Sun 11:00 UTC", time(11), "UTC", ("Saturday", "Sunday"), ""),
    ("*-*-01 06:00:00", time(6), None, (), "only on dates *-*-01"),
])
def test_on_calendar_expressions(tmp_path, calendar, at, zone, days, irregular):
    (trigger,) = read_scheduled_task(str(systemd(tmp_path, calendar))).triggers
    assert (trigger.time_of_day, trigger.zone, trigger.days, trigger.irregular) == (at, zone, days, irregular)


def test_on_calendar_every_few_minutes_is_not_a_start_time(tmp_path):
    (trigger,) = read_scheduled_task(str(systemd(tmp_path, "*:0/5"))).triggers
    assert trigger.time_of_day is None and "times a day" in trigger.irregular


def test_a_timer_not_seen_enabled_is_unknown_not_enabled(tmp_path):
    task = read_scheduled_task(str(systemd(tmp_path, enabled=False)))
    assert task.looked and task.enabled is None and "systemctl is-enabled" in task.notes[0]


def test_a_bash_c_service_and_a_missing_service(tmp_path):
    service = "[Service]\nExecStart=/bin/bash -c 'cd /srv/bot && DRY_RUN=true exec python3 -m src.main'\n"
    (action,) = read_scheduled_task(str(systemd(tmp_path, service=service))).actions
    assert action.environment == (("DRY_RUN", "true"),) and action.directory == "/srv/bot"
    assert action.interpreter == "python3"
    (tmp_path / "bot.service").unlink()
    task = read_scheduled_task(str(tmp_path / "bot.timer"))
    assert not task.looked and "bot.service" in task.problem and "does not exist" in task.problem


# --- cron -----------------------------------------------------------------------------------------------------

def test_a_crontab_line_with_cron_tz(tmp_path):
    crontab = write(tmp_path / "cron.txt", "# m h  dom mon dow   command\nSHELL=/bin/bash\n"
                    "CRON_TZ=America/New_York\nMAILTO=\"\"\n0 3 * * * /usr/bin/backup.sh --all\n"
                    "0 6 * * 1-5 cd /bot && DRY_RUN=true /bot/.venv/bin/python -m src.main >> bot.log 2>&1\n"
                    "# 30 6 * * mon-fri cd /bot && /bot/.venv/bin/python -m src.main\n", newline="\r\n")
    task = read_scheduled_task(str(crontab))
    assert task.looked and task.kind == CRON and task.enabled
    assert [(t.time_of_day, t.zone, t.days, t.enabled) for t in task.triggers] == [
        (time(6), "America/New_York", WEEKDAYS5, True), (time(6, 30), "America/New_York", WEEKDAYS5, False)]
    (action,) = task.actions
    assert dict(action.environment) == {"SHELL": "/bin/bash", "MAILTO": "", "DRY_RUN": "true"}
    assert action.directory == "/bot" and action.interpreter == "/bot/.venv/bin/python"
    assert "left out" in task.notes[0]


@pytest.mark.parametrize(("line", "times", "days", "irregular"), [
    ("0 6,18 * * *", [time(6), time(18)], (), ""),
    ("0 6 * * 0,6", [time(6)], ("Saturday", "Sunday"), ""),
    ("0 6 * * 7", [time(6)], ("Sunday",), ""),
    ("0 6 1 * *", [time(6)], (), "only on some dates (1 *)"),
    ("@daily", [time(0)], (), ""),
    ("@reboot", [None], (), "@reboot"),
    ("*/5 * * * *", [None], (), "288 times a day"),
])
def test_cron_schedules(tmp_path, line, times, days, irregular):
    task = read_scheduled_task(str(write(tmp_path / "c", f"{line} python -m src.main\n")))
    assert [t.time_of_day for t in task.triggers] == times
    assert all(t.days == days and t.irregular == irregular for t in task.triggers)


# --- files that are not a task ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "says"), [
    (lambda p: None, "not a file"),
    (lambda p: p.write_bytes(b"<" * (MAX_TASK_BYTES + 1)), "larger than"),
    (lambda p: p.write_bytes(b""), "holds no crontab line"),
    (lambda p: p.write_bytes(bytes(range(256)) * 4), "binary"),
    (lambda p: p.write_bytes("just some notes\r\nabout the bot\r\n".encode("utf-16")), "holds no crontab line"),
    (lambda p: p.write_bytes(b"\xff\xfe<\x00T\x00"), "is not a task's XML"),
    (lambda p: p.write_bytes(b"[Timer]\nOnCalendar=06:00\n"), "cannot be read"),
])
def test_a_file_that_is_not_a_task_is_one_clear_problem(tmp_path, make, says):
    path = tmp_path / "task.xml"
    make(path)
    task = read_scheduled_task(str(path))
    assert not task.looked and says in task.problem and "Traceback" not in task.problem


def test_the_bot_directory_s_own_python(tmp_path):
    assert read_bot_python(tmp_path).venv == "" and not read_bot_python(tmp_path).poetry
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname = 'bot'\n", encoding="utf-8")
    found = read_bot_python(tmp_path)
    assert found.venv == str(tmp_path / ".venv") and found.poetry
    task = read_scheduled_task(str(FIXTURES / "schtasks-export.xml"), bot_dir=tmp_path)
    assert task.bot_python == found


_PIECES = ["0", "6", "*", "1-5", "*/5", "mon-fri", "@daily", "@reboot", "cd", "/bot", "&&", "DRY_RUN=true", "python",
           "-m", "src.main", "\n", "\r\n", "CRON_TZ=Foo", "#", "bash", "-c", "'", '"', "start.sh", "cmd", "/c", "set",
           "[Timer]", "OnCalendar=", "Mon..Fri", "06:00", "UTC", "..", "[Service]", "ExecStart=", "Environment=",
           "$env:X='1';", "&", "|", "%", "\\", "\x00", "é"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.lists(st.sampled_from(_PIECES), max_size=40).map(" ".join)
                 .map(lambda text: text.encode("utf-8"))))
def test_no_input_makes_the_probe_raise(data):
    task = parse_task_file(data, Path("no-such-dir") / "bot.timer")
    assert task.looked or task.problem


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["cmd", "/c", '"', "set", "DRY_RUN=true", "&&", "python", "powershell", "-Command",
                                 "-File", "$env:A='b';", "x.bat", "call", "cd", "/d", "start", "'", "pushd", ";",
                                 "poetry", "run", "\\", "bash", "-c"]), max_size=16).map(" ".join))
def test_no_command_line_makes_the_probe_raise(arguments):
    task = parse_task_xml(task_xml("cmd.exe", arguments).encode("utf-16"), "t")
    assert task.looked and len(task.actions) == 1


@pytest.mark.parametrize(("script", "environment"), [
    ("if not defined DRY_RUN set DRY_RUN=true\r\npython -m src.main\r\n", [("DRY_RUN", "true")]),
    ('if "%PAPER_TRADING%"=="" (set PAPER_TRADING=false)\r\npython -m src.main\r\n', [("PAPER_TRADING", "false")]),
    ("remote-start.exe\r\nREM set DRY_RUN=true\r\n:: set DRY_RUN=true\r\necho set DRY_RUN=true\r\n", []),
])
def test_bat_conditions_and_comments(tmp_path, script, environment):
    wrapper = write(tmp_path / "start.bat", script)
    (action,) = parse_task_xml(task_xml(str(wrapper), "").encode(), "t").actions
    assert list(action.environment) == environment


def test_powershell_set_environment_variable(tmp_path):
    wrapper = write(tmp_path / "start.ps1", "[System.Environment]::SetEnvironmentVariable('DRY_RUN', 'true')\n"
                    "python -m src.main\n")
    (action,) = parse_task_xml(task_xml("pwsh", f"-File {wrapper}").encode(), "t").actions
    assert action.environment == (("DRY_RUN", "true"),)


def test_a_shell_wrapper_that_sources_an_env_file(tmp_path):
    write(tmp_path / "dry.env", "DRY_RUN=true\nexport PAPER_TRADING='false'\n")
    wrapper = write(tmp_path / "start.sh", f"#!/bin/sh\ncd {tmp_path}\nset -a\n. ./dry.env\nset +a\n"
                    "nohup python3 -m src.main &\n")
    crontab = write(tmp_path / "cron.txt", f"0 6 * * 1-5 /bin/sh {wrapper}\n")
    (action,) = read_scheduled_task(str(crontab)).actions
    assert action.environment == (("DRY_RUN", "true"), ("PAPER_TRADING", "false"))
    assert action.interpreter == "python3" and action.wrapper == str(wrapper)
    write(tmp_path / "start.sh", f"cd {tmp_path}\n. ./missing.env\npython3 -m src.main\n")
    (action,) = read_scheduled_task(str(crontab)).actions
    assert "missing.env" in action.wrapper_problem


def test_cron_percent_and_the_system_crontab_user_field(tmp_path):
    crontab = write(tmp_path / "cron.txt", "0 6 * * 1-5 cd /bot && python -m src.main > log_$(date +\\%F).txt%in\n")
    (action,) = read_scheduled_task(str(crontab)).actions
    assert action.directory == "/bot" and action.interpreter == "python"
    (folder := tmp_path / "cron.d").mkdir()
    system = write(folder / "bot", "0 6 * * 1-5 trader cd /bot && DRY_RUN=true python -m src.main\n")
    (action,) = read_scheduled_task(str(system)).actions
    assert action.directory == "/bot" and action.environment == (("DRY_RUN", "true"),)


@pytest.mark.parametrize(("name", "script"), [
    ("start.bat", "cd /d %~dp0\r\npython -m src.main\r\n"),
    ("start.ps1", "Set-Location $PSScriptRoot\r\npython -m src.main\r\n"),
    ("start.sh", 'cd "$(dirname "$0")"\npython -m src.main\n'),
])
def test_a_wrapper_that_changes_to_its_own_folder(tmp_path, name, script):
    (folder := tmp_path / "bot dir").mkdir()
    wrapper = write(folder / name, script)
    command, arguments = (("powershell", f'-File "{wrapper}"') if name.endswith(".ps1") else
                          ("bash", f'"{wrapper}"') if name.endswith(".sh") else (str(wrapper), ""))
    (action,) = parse_task_xml(task_xml(command, arguments).encode(), "t").actions
    assert Path(action.directory) == folder and action.interpreter == "python"


def test_single_quotes_are_not_quotes_to_cmd():
    (action,) = parse_task_xml(task_xml("cmd", "/c echo it's 6 & set DRY_RUN=true& python -m src.main").encode(),
                               "t").actions
    assert action.environment == (("DRY_RUN", "true"),)
