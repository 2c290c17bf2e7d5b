"""The embedded world's own failures: a stand-in bot that never settles is reported at once, with what was
awaited and the bot's output, instead of a silent wait."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time as real_time
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from harness.checks import CheckFailed
from harness.checks.scheduler import check_keeps_paper_mode, check_starts_at
from harness.core import clock
from harness.fakes.botdir import make_bot_dir
from harness.fakes.embedded import BOT_READY_MARKERS, EmbeddedWorldError, _wait_until_ready, _write_scheduled_task
from harness.fakes.first_day import first_day_dates
from harness.probes.market import NEW_YORK
from harness.probes.scheduler import ScheduledTask, read_scheduled_task
from tests.unit import tws_fixtures
from tests.unit.tws_fixtures import wait_for

# Fixtures by name (pytest looks them up in the module namespace).
gateway = tws_fixtures.gateway
connect = tws_fixtures.connect
ib_log_guard = tws_fixtures.ib_log_guard


def test_a_bot_that_never_settles_is_reported_with_what_was_awaited(tmp_path):
    stdout = tmp_path / "bot-stdout.txt"
    stdout.write_text("stand-in bot: connecting...\n", encoding="utf-8")
    log_file = tmp_path / "bot.log"
    log_file.write_text("2026-11-25 06:00:00,000 INFO bot: Bot initialized successfully\n", encoding="utf-8")
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(EmbeddedWorldError) as raised:
            _wait_until_ready(silent, log_file, stdout, timeout=0.3)
    finally:
        silent.kill()
        silent.wait(timeout=10)
    message = str(raised.value)
    assert all(repr(marker) in message for marker in BOT_READY_MARKERS)
    assert "connecting..." in message and str(log_file) in message


def test_a_settled_or_exited_bot_is_ready(tmp_path):
    stdout = tmp_path / "bot-stdout.txt"
    log_file = tmp_path / "bot.log"
    log_file.write_text("... INFO bot: Waiting for a gameplan: no orders until one arrives\n", encoding="utf-8")
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _wait_until_ready(running, log_file, stdout, timeout=5)
    finally:
        running.kill()
        running.wait(timeout=10)
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait(timeout=10)
    _wait_until_ready(exited, tmp_path / "no.log", stdout, timeout=5)


# --- the gateway's restart fault, as the embedded first day uses it --------------------------------------------


def test_a_gateway_gone_down_drops_its_client_and_refuses_until_it_comes_up(gateway, connect, ib_log_guard):
    """`go_down` is IB Gateway's daily restart with no end of its own: the real ib_async client sees the disconnect,
    a new connection is refused while it lasts, and after `come_up` the client connects again."""
    from ib_async import IB

    ib_log_guard.allow(patterns=("Peer closed",))
    ib = connect()
    lost: list[bool] = []
    ib.disconnectedEvent += lambda: lost.append(True)
    gateway.go_down()
    wait_for(lambda: lost, what="disconnectedEvent")
    assert not gateway.is_up and not ib.isConnected()
    with pytest.raises(ConnectionRefusedError):
        IB().connect(gateway.host, gateway.port, clientId=1, timeout=1)
    real_time.sleep(0.3)  # refused for as long as it lasts, not for a fixed while
    assert not gateway.is_up
    assert gateway.come_up()
    ib.connect(gateway.host, gateway.port, clientId=1, timeout=2)
    assert ib.isConnected() and ib.managedAccounts() == ["DU1234567"]
    ib.disconnect()


def test_come_up_ends_a_timed_restart_early_and_twice_is_harmless(gateway):
    gateway.restart(down_for=30.0)
    assert not gateway.is_up
    assert gateway.come_up() and gateway.come_up()
    with socket.create_connection((gateway.host, gateway.port), timeout=2):
        pass


# --- the first day's dates and its scheduled task ------------------------------------------------------------------


def test_the_first_day_is_the_latest_trading_day_after_a_weekend_already_over():
    dates = first_day_dates(datetime(2026, 11, 25, 15, 0, tzinfo=NEW_YORK))
    assert (dates.switch_day, dates.first_day) == (date(2026, 11, 20), date(2026, 11, 23))  # Friday -> Monday
    assert dates.at(time(6, 0)).isoformat() == "2026-11-23T06:00:00-05:00"
    assert dates.switch_close == datetime(2026, 11, 20, 16, 0, tzinfo=NEW_YORK)
    # On the Tuesday morning the Monday's 24 hours have not been over for an hour: the Monday before it.
    assert first_day_dates(datetime(2026, 11, 24, 6, 30, tzinfo=NEW_YORK)).first_day == date(2026, 11, 16)


def test_after_a_holiday_monday_the_first_day_is_the_tuesday():
    dates = first_day_dates(datetime(2026, 5, 28, 12, 0, tzinfo=NEW_YORK))  # Memorial Day: Monday 2026-05-25
    assert (dates.switch_day, dates.first_day) == (date(2026, 5, 22), date(2026, 5, 26))
    assert dates.at(time(6, 0)).utcoffset() == timedelta(hours=-4)  # summer time


def _task(tmp_path: Path, **options) -> ScheduledTask:
    bot = make_bot_dir(tmp_path / "bot", git=False)
    return read_scheduled_task(str(_write_scheduled_task(tmp_path, bot, True, **options)))


def test_the_first_days_task_starts_the_bot_at_six_new_york_time_without_an_offset(tmp_path):
    task = _task(tmp_path, start="2026-11-23T06:00:00")
    assert task.looked and task.enabled, task.problem
    (trigger,) = task.triggers
    assert trigger.start.startswith("2026-11-23T06:00:00") and not trigger.zone
    (action,) = task.actions
    assert "DRY_RUN" not in f"{action.command} {action.arguments}"
    check_starts_at(task, time(6, 0), machine_zone="America/New_York")


def test_the_wrong_zone_task_has_a_fixed_offset_that_the_check_refuses(tmp_path):
    task = _task(tmp_path, start="2026-11-23T06:00:00-05:00")
    assert task.triggers[0].zone == "-05:00"
    with pytest.raises(CheckFailed, match="does not follow daylight saving time"):
        check_starts_at(task, time(6, 0), machine_zone="America/New_York")


def test_the_dry_run_task_sets_dry_run_in_its_action(tmp_path):
    task = _task(tmp_path, dry_run_env=True)
    (action,) = task.actions
    assert action.command == "cmd" and action.arguments.startswith('/c "set DRY_RUN=true&& "')
    with pytest.raises(CheckFailed, match="DRY_RUN"):
        check_keeps_paper_mode(task, bot_dir=tmp_path / "bot", bot_env=None)


# --- the embedded first day, read directly ------------------------------------------------------------------------


def _stamps(log: str, text: str) -> list[datetime]:
    return [datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S") for line in log.splitlines() if text in line]


@pytest.mark.parametrize("now", [
    datetime(2026, 12, 2, 12, 0, tzinfo=NEW_YORK),  # the switch after Black Friday's 13:00 early close
    datetime(2027, 3, 17, 9, 0, tzinfo=NEW_YORK),  # the switch on Friday in winter time, the first day in summer time
], ids=["after-an-early-close", "across-the-spring-dst-change"])
def test_the_clean_first_day_is_over_in_its_log_with_the_restart_and_the_reconnection(tmp_path, monkeypatch, now):
    """What the probes will read: the switch's evening (the operator's hour by hand from 65 minutes after that
    day's close), the 06:00 start, a heartbeat every 10 minutes, the 16:30 restart and the reconnection 2 minutes
    later, the day lived to 06:00 next day; the baseline before the switch; the task at 06:00 machine (New York)
    time. The bot still runs, connected to the fake gateway."""
    from harness.evidence.baseline import load_baseline
    from harness.fakes.embedded import embedded_world

    for name, value in clock.pinned_environ(now).items():
        monkeypatch.setenv(name, value)
    started = real_time.monotonic()
    with embedded_world(tmp_path, phase="first-day", environ={}) as world:
        lived_in = real_time.monotonic() - started
        log = world.bot.log_file.read_text(encoding="utf-8")
        assert world.bot_process.poll() is None and world.gateway.connected_client_ids == [1]
        baseline, _ = load_baseline(world.bot.baseline_file)
        task = read_scheduled_task(str(world.scheduled_task))
    dates = first_day_dates(now)
    day = datetime.combine(dates.first_day, time(0, 0))
    starts = _stamps(log, "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true")
    by_hand = (dates.switch_close + timedelta(minutes=65)).replace(tzinfo=None)  # the log's New York wall time
    assert starts == [by_hand, day.replace(hour=6)]
    assert datetime.fromisoformat(baseline.taken_at) == dates.switch_close + timedelta(minutes=50)
    assert _stamps(log, "Gateway disconnected") == [day.replace(hour=16, minute=30)]
    assert _stamps(log, "Gateway connection re-established") == [day.replace(hour=16, minute=32)]
    beats = [at for at in _stamps(log, "Heartbeat: running") if at >= day]
    assert beats[0] == day.replace(hour=6) and beats[-1] == day + timedelta(days=1, hours=6)
    assert max(b - a for a, b in pairwise(beats)) <= timedelta(minutes=10)
    assert "Traceback" not in log and " ERROR " not in log
    assert task.triggers[0].start == f"{dates.first_day}T06:00:00"
    print(f"the first day lived in {lived_in:.2f} s")  # a figure for the record, never asserted


@pytest.mark.parametrize(("phase", "knobs", "says"), [
    ("transition", "first-day-crash-at-noon", "break(s) the first day only: run with --phase first-day"),
    ("first-day", "gateway-down", "first-day-relogin-missed is the first day with its gateway down"),
])
def test_a_knob_for_another_phase_is_one_clear_message(tmp_path, phase, knobs, says):
    from harness.fakes.embedded import embedded_world

    environ = {"HARNESS_EMBEDDED_FAULTS": knobs}
    with pytest.raises(EmbeddedWorldError, match=re.escape(says)), embedded_world(tmp_path, phase=phase,
                                                                                   environ=environ):
        pass
