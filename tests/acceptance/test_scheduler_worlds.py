"""The scheduler's whole definition, read as the scheduler reads it: each world is a task file (Task Scheduler's
XML, a systemd timer and its drop-ins, a crontab) written the way an operator's machine has it, read by the harness's
probe and judged by its checks; each must fail (or be left to the operator) for exactly what it gets wrong."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone

import pytest

from harness.checks import CheckFailed, CouldNotLook
from harness.checks.scheduler import check_keeps_paper_mode, check_runs_all_day, check_starts_at
from harness.probes.scheduler import parse_task_xml, read_scheduled_task
from tests.acceptance.matrix import ChainFault
from tests.unit.test_scheduler_probe import systemd, task_xml, write

SIX = time(6, 0)
HERE = "test_scheduler_worlds.py::"
CHAIN_MATRIX = [
    ChainFault("an expired trigger", "Task Scheduler: the trigger's EndBoundary has passed", "the 06:00 check fails: "
               "it fires no more", HERE + "test_a_trigger_outside_its_boundaries_fires_no_more_or_not_yet"),
    ChainFault("a trigger not started yet", "Task Scheduler: the trigger's StartBoundary is next June", "the 06:00 "
               "check fails: it has not fired yet", HERE + "test_a_trigger_outside_its_boundaries_fires_no_more_or_not_"
               "yet"),
    ChainFault("a lax systemd timer", "`AccuracySec=2h` (systemd may fire two hours late)", "fails like a random "
               "delay; `AccuracySec=30s` passes", HERE + "test_a_systemd_timer_allowed_to_fire_two_hours_late_fails_"
               "like_a_random_delay"),
    ChainFault("CRON_TZ on an unknown cron", "`CRON_TZ=America/New_York` on a machine in UTC (or of unknown zone)",
               "operator to confirm: cronie honours it, Debian's and Ubuntu's cron ignore it",
               HERE + "test_cron_tz_is_honoured_by_one_cron_and_ignored_by_another_so_it_is_for_the_operator"),
    ChainFault("DRY_RUN assigned, then exported", "`cd /bot && DRY_RUN=true; export DRY_RUN; python -m src.main`",
               "keeps-paper-mode fails: DRY_RUN reaches the bot", HERE + "test_a_cron_line_of_several_statements_that_"
               "exports_dry_run_does_not_keep_paper_mode"),
    ChainFault("DRY_RUN under set -a", "`set -a; DRY_RUN=true; python -m src.main`", "keeps-paper-mode fails",
               HERE + "test_a_cron_line_of_several_statements_that_exports_dry_run_does_not_keep_paper_mode"),
    ChainFault("a timeout wrapper", "`timeout -k 30 4h python -m src.main`", "runs-past-the-restart fails (stopped "
               "at 10:00); `timeout 2d` passes; `timeout $LIMIT` is operator to confirm",
               HERE + "test_a_bot_run_under_timeout_is_stopped_before_the_gateways_restart"),
    ChainFault("a systemd drop-in", "`bot.service.d/override.conf` sets Environment=DRY_RUN=true; "
               "`bot.timer.d/50-later.conf` moves OnCalendar= to 07:00",
               "keeps-paper-mode fails; the 06:00 check fails",
               HERE + "test_systemd_drop_ins_are_read_in_order_after_the_unit"),
]


def test_cron_tz_is_honoured_by_one_cron_and_ignored_by_another_so_it_is_for_the_operator(tmp_path):
    """cronie reads CRON_TZ=; Debian's and Ubuntu's cron ignore it and fire in the machine's zone (UTC here):
    which one runs the crontab decides whether 06:00 is New York's, so it is never passed on the variable alone."""
    cron = write(tmp_path / "cron", "CRON_TZ=America/New_York\n0 6 * * mon-fri cd /bot && python -m src.main\n")
    with pytest.raises(CouldNotLook, match=r"CRON_TZ=America/New_York, which cronie .* Debian's and Ubuntu's cron "
                                           "ignore"):
        check_starts_at(read_scheduled_task(str(cron)), SIX, machine_zone="UTC")
    with pytest.raises(CouldNotLook, match="CRON_TZ"):
        check_starts_at(read_scheduled_task(str(cron)), SIX, machine_zone=None)


@pytest.mark.parametrize(("boundary", "says"), [
    ("<EndBoundary>2026-06-30T23:59:59</EndBoundary>", "expired at 2026-06-30T23:59:59 (EndBoundary)"),
    ("", "starts only at 2027-06-01T06:00:00 (StartBoundary)"),
], ids=["ended", "not-yet-started"])
def test_a_trigger_outside_its_boundaries_fires_no_more_or_not_yet(monkeypatch, boundary, says):
    """On 2026-12-07: a trigger whose end boundary has passed fires no more; one whose start boundary is next
    June has not fired yet. Either way the bot is not started at 06:00 now."""
    from harness.core import clock

    for name, value in clock.pinned_environ(datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)).items():
        monkeypatch.setenv(name, value)
    start = "2026-01-05T06:00:00" if boundary else "2027-06-01T06:00:00"
    text = task_xml(start=start).replace("</StartBoundary>", "</StartBoundary>" + boundary)
    task = parse_task_xml(text.encode("utf-16"), "t")
    with pytest.raises(CheckFailed, match=re.escape(says)):
        check_starts_at(task, SIX, machine_zone="America/New_York")
    check_starts_at(parse_task_xml(task_xml().encode("utf-16"), "t"), SIX, machine_zone="America/New_York")


def test_a_systemd_timer_allowed_to_fire_two_hours_late_fails_like_a_random_delay(tmp_path):
    """AccuracySec=2h: systemd may fire the 06:00 timer as late as 08:00 to coalesce wake-ups."""
    timer = systemd(tmp_path)
    timer.write_text(timer.read_text(encoding="utf-8").replace("Persistent=true", "AccuracySec=2h"), encoding="utf-8")
    with pytest.raises(CheckFailed, match="random time up to 2:00:00 later"):
        check_starts_at(read_scheduled_task(str(timer)), SIX, machine_zone=None)
    timer.write_text(timer.read_text(encoding="utf-8").replace("AccuracySec=2h", "AccuracySec=30s"), encoding="utf-8")
    check_starts_at(read_scheduled_task(str(timer)), SIX, machine_zone=None)  # within the default: fine


@pytest.mark.parametrize("line", [
    "0 6 * * 1-5 cd /bot && DRY_RUN=true; export DRY_RUN; python -m src.main",
    "0 6 * * 1-5 cd /bot; set -a; DRY_RUN=true; python -m src.main",
], ids=["assigned-then-exported", "set-a"])
def test_a_cron_line_of_several_statements_that_exports_dry_run_does_not_keep_paper_mode(tmp_path, line):
    """The shell runs each statement: a variable assigned, then exported (or assigned under `set -a`), reaches
    the bot's environment and wins over its .env."""
    cron = write(tmp_path / "cron", line + "\n")
    task = read_scheduled_task(str(cron))
    assert ("DRY_RUN", "true") in task.actions[0].environment
    with pytest.raises(CheckFailed, match="DRY_RUN"):
        check_keeps_paper_mode(task, bot_dir=None, bot_env=None)


def test_a_bot_run_under_timeout_is_stopped_before_the_gateways_restart(tmp_path):
    cron = write(tmp_path / "cron", "0 6 * * 1-5 cd /bot && timeout -k 30 4h python -m src.main\n")
    task = read_scheduled_task(str(cron))
    assert task.actions[0].time_limit == timedelta(hours=4) and task.actions[0].interpreter
    with pytest.raises(CheckFailed, match=r"after 4:00:00 \(the `timeout` its command line runs the bot under\): "
                                          r"started at 06:00 the bot is stopped at 10:00"):
        check_runs_all_day(task, start=SIX, until=time(16, 30))
    long = read_scheduled_task(str(write(tmp_path / "cron2", "0 6 * * 1-5 timeout 2d python -m src.main\n")))
    check_runs_all_day(long, start=SIX, until=time(16, 30))
    odd = read_scheduled_task(str(write(tmp_path / "cron3", "0 6 * * 1-5 timeout $LIMIT python -m src.main\n")))
    with pytest.raises(CouldNotLook, match="timeout \\$LIMIT"):
        check_runs_all_day(odd, start=SIX, until=time(16, 30))


def test_systemd_drop_ins_are_read_in_order_after_the_unit(tmp_path):
    """`systemctl edit bot.service` writes bot.service.d/override.conf: its Environment=DRY_RUN=true reaches the
    bot; a timer drop-in moving OnCalendar= to 07:00 (after resetting it) moves the start."""
    timer = systemd(tmp_path)
    (tmp_path / "bot.service.d").mkdir()
    write(tmp_path / "bot.service.d" / "override.conf", "[Service]\nEnvironment=DRY_RUN=true\n")
    task = read_scheduled_task(str(timer))
    assert ("DRY_RUN", "true") in task.actions[0].environment
    with pytest.raises(CheckFailed, match="DRY_RUN"):
        check_keeps_paper_mode(task, bot_dir=None, bot_env=None)
    (tmp_path / "bot.timer.d").mkdir()
    write(tmp_path / "bot.timer.d" / "50-later.conf",
          "[Timer]\nOnCalendar=\nOnCalendar=Mon..Fri *-*-* 07:00:00 America/New_York\n")
    moved = read_scheduled_task(str(timer))
    assert [t.time_of_day for t in moved.triggers] == [time(7, 0)]
    with pytest.raises(CheckFailed):
        check_starts_at(moved, SIX, machine_zone=None)
