"""The stand-in bot keeps the contract the features check: the seed's startup lines, its Discord
notification, orders logged with their ids, a reconnect after the gateway's daily restart, and faults that
do what they say. It runs as a real process against the fake gateway and the fake Discord."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from harness.fakes.botdir import make_bot_dir
from harness.fakes.discord import FakeDiscord
from harness.fakes.tws import FakeGateway, always_closed, example_world_path, load_world
from harness.probes.market import NEW_YORK


@pytest.fixture
def world(tmp_path):
    paper = load_world(example_world_path("paper"))
    paper.session_open = always_closed
    with FakeGateway(paper, host="127.0.0.1", port=0) as gateway, FakeDiscord() as discord:
        bot = make_bot_dir(tmp_path / "bot", webhook_url=discord.webhook_url, gateway_host="127.0.0.1")
        env_text = bot.env_file.read_text().replace("IBKR_PORT=4002", f"IBKR_PORT={gateway.port}")
        bot.env_file.write_text(env_text)
        yield bot, gateway, discord


def start_bot(bot, *faults: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "harness.fakes.bot", "--bot-dir", str(bot.root), "--run-for", "30"]
    for fault in faults:
        args += ["--fault", fault]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_log(path: Path, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {path} within {timeout}s:\n{content[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=15)


def test_startup_lines_discord_and_orders(world):
    bot, gateway, discord = world
    process = start_bot(bot)
    try:
        log = wait_for_log(bot.log_file, "Gameplan complete")
        message = discord.wait_for_message("PAPER TRADING", timeout=10)
    finally:
        stop(process)
    expected = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at",
                "Gateway connection established", "Paper trading mode ACTIVE", "Bot initialized successfully"]
    positions = [log.index(line) for line in expected]
    assert positions == sorted(positions)
    assert "Live trading mode" not in log
    assert message["content"].startswith("Bot started in PAPER TRADING mode at ")
    assert {(o.client_id, o.symbol) for o in gateway.orders_received} == {(1, "SPY"), (1, "QQQ"), (1, "IWM")}
    assert log.count("Order submitted: id=") == 3
    assert "Shutting down: clean shutdown complete" in bot.log_file.read_text()


def test_reconnects_after_the_daily_restart(world):
    bot, gateway, _ = world
    process = start_bot(bot)
    try:
        wait_for_log(bot.log_file, "Gameplan complete")
        gateway.restart(down_for=1.0)
        log = wait_for_log(bot.log_file, "Gateway connection re-established", timeout=30)
    finally:
        stop(process)
    assert log.index("Gateway disconnected") < log.index("Gateway connection re-established")


def test_no_reconnect_fault_gives_up(world):
    bot, gateway, _ = world
    process = start_bot(bot, "no-reconnect")
    try:
        wait_for_log(bot.log_file, "Gameplan complete")
        gateway.restart(down_for=1.0)
        wait_for_log(bot.log_file, "not reconnecting")
        assert process.wait(timeout=15) == 3
    finally:
        if process.poll() is None:
            stop(process)


def test_crash_fault_logs_a_traceback(world):
    bot, _, _ = world
    process = start_bot(bot, "crash")
    assert process.wait(timeout=30) == 1
    log = bot.log_file.read_text()
    assert "Traceback (most recent call last)" in log and "crash fault" in log


def test_dry_run_bot_sends_no_order(world):
    bot, gateway, discord = world
    bot.env_file.write_text(bot.env_file.read_text().replace("DRY_RUN=false", "DRY_RUN=true").replace(
        "PAPER_TRADING=true", "PAPER_TRADING=false"))
    process = start_bot(bot)
    try:
        log = wait_for_log(bot.log_file, "Gameplan complete")
        message = discord.wait_for_message("DRY-RUN", timeout=10)
    finally:
        stop(process)
    assert "DRY_RUN mode active" in log and "Signal (dry-run, not sent)" in log
    assert gateway.orders_received == []
    assert "DRY-RUN" in message["content"]


# --- the bot on the world's clock (the embedded first day) -------------------------------------------------------

DAY = datetime(2026, 11, 23, tzinfo=NEW_YORK)  # a Monday


def set_clock(clock: Path, instant: datetime) -> None:
    clock.write_text(instant.isoformat() + "\n", encoding="utf-8")


def wait_seen(clock: Path, instant: datetime, *states: str, timeout: float = 20.0) -> str:
    """Until the bot says it acted on `instant` (in one of `states`, when given); returns its state."""
    seen = clock.with_name(clock.name + ".seen")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            at, state = seen.read_text(encoding="utf-8").split()
        except (OSError, ValueError):
            at, state = "", ""
        if at and datetime.fromisoformat(at) >= instant and (not states or state in states):
            return state
        time.sleep(0.005)
    raise AssertionError(f"the bot did not act on {instant} ({states}) within {timeout}s")


def start_on_clock(bot, clock: Path, *faults: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "harness.fakes.bot", "--bot-dir", str(bot.root), "--clock-file", str(clock),
            "--log-zone", "America/New_York", "--heartbeat-minutes", "10"]
    for fault in faults:
        args += ["--fault", fault]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def lines_at(log: str, stamp: str) -> list[str]:
    return [line.split(" bot: ", 1)[1] for line in log.splitlines() if line.startswith(stamp)]


def test_a_bot_on_the_worlds_clock_stamps_its_lines_and_beats_with_it(world, tmp_path):
    bot, _gateway, discord = world
    clock = tmp_path / "clock.txt"
    set_clock(clock, DAY.replace(hour=6))
    process = start_on_clock(bot, clock)
    try:
        wait_for_log(bot.log_file, "Gameplan complete")
        for minute in (10, 20, 25, 30, 45):
            set_clock(clock, DAY.replace(hour=6, minute=minute))
            wait_seen(clock, DAY.replace(hour=6, minute=minute))
        message = discord.wait_for_message("PAPER TRADING", timeout=10)
    finally:
        stop(process)
    log = bot.log_file.read_text(encoding="utf-8")
    started = lines_at(log, "2026-11-23 06:00:00,000 INFO")
    assert started[:2] == ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
                           f"Connecting to IBKR Gateway at 127.0.0.1:{_gateway.port}"]
    assert "Gameplan complete: 3 orders submitted" in started
    beats = [line[11:16] for line in log.splitlines() if "Heartbeat: running, gateway connected" in line]
    assert beats == ["06:00", "06:10", "06:20", "06:30", "06:45"]  # every 10 minutes of the clock, none at 06:25
    assert "2026-11-23 06:00:00 EST" in message["content"]  # its notification says the world's time too


def test_on_the_worlds_clock_a_lost_gateway_is_retried_until_it_comes_back(world, tmp_path):
    bot, gateway, _ = world
    clock = tmp_path / "clock.txt"
    set_clock(clock, DAY.replace(hour=16, minute=20))
    process = start_on_clock(bot, clock)
    try:
        wait_for_log(bot.log_file, "Gameplan complete")
        set_clock(clock, DAY.replace(hour=16, minute=30))
        wait_seen(clock, DAY.replace(hour=16, minute=30))
        gateway.go_down()
        wait_seen(clock, DAY.replace(hour=16, minute=30), "disconnected", "connecting")
        for minute in (31, 32, 33):  # the clock moves on while the gateway is away; the bot keeps trying
            set_clock(clock, DAY.replace(hour=16, minute=minute))
            assert wait_seen(clock, DAY.replace(hour=16, minute=minute)) == "connecting"
        assert gateway.come_up()
        wait_seen(clock, DAY.replace(hour=16, minute=33), "connected")
        assert gateway.connected_client_ids == [1]
    finally:
        stop(process)
    log = bot.log_file.read_text(encoding="utf-8")
    assert lines_at(log, "2026-11-23 16:30:00,000 WARNING") == ["Gateway disconnected",
                                                                "Connect attempt 1 failed: ConnectionRefusedError"]
    assert lines_at(log, "2026-11-23 16:31:00,000 WARNING") == ["Connect attempt 2 failed: ConnectionRefusedError"]
    assert "Gateway connection re-established" in lines_at(log, "2026-11-23 16:33:00,000 INFO")


def test_on_the_worlds_clock_no_reconnect_gives_up_and_runs_on(world, tmp_path):
    bot, gateway, _ = world
    clock = tmp_path / "clock.txt"
    set_clock(clock, DAY.replace(hour=16, minute=30))
    process = start_on_clock(bot, clock, "no-reconnect")
    try:
        wait_for_log(bot.log_file, "Gameplan complete")
        gateway.go_down()
        wait_seen(clock, DAY.replace(hour=16, minute=30), "disconnected")
        gateway.come_up()
        set_clock(clock, DAY.replace(hour=16, minute=40))
        assert wait_seen(clock, DAY.replace(hour=16, minute=40)) == "disconnected"
        assert process.poll() is None and gateway.connected_client_ids == []
    finally:
        stop(process)
    log = bot.log_file.read_text(encoding="utf-8")
    assert "Gateway connection lost; not reconnecting" in lines_at(log, "2026-11-23 16:30:00,000 WARNING")
    assert "Heartbeat: running, gateway disconnected" in lines_at(log, "2026-11-23 16:40:00,000 INFO")
    assert "re-established" not in log


def test_crash_at_noon_raises_when_the_clock_reaches_noon(world, tmp_path):
    bot, _, _ = world
    clock = tmp_path / "clock.txt"
    set_clock(clock, DAY.replace(hour=11, minute=50))
    process = start_on_clock(bot, clock, "crash-at-noon")
    try:
        wait_for_log(bot.log_file, "Gameplan complete")
        assert process.poll() is None  # not before noon
        set_clock(clock, DAY.replace(hour=12))
        assert process.wait(timeout=20) == 1
    finally:
        if process.poll() is None:
            stop(process)
    log = bot.log_file.read_text(encoding="utf-8")
    assert lines_at(log, "2026-11-23 12:00:00,000 ERROR") == ["Unhandled error; the bot stops"]
    assert "Traceback (most recent call last)" in log and "crash-at-noon fault" in log


def test_the_bot_stops_when_the_process_that_started_it_is_killed(world):
    """A world killed outright (a demo step past its timeout, a SIGTERM'd watch) never tears its bot down: the bot
    must not outlive it, retrying a gateway that no longer exists."""
    import psutil

    bot, _gateway, _discord = world
    starter = ("import subprocess, sys, time\n"
               f"bot = subprocess.Popen([sys.executable, '-m', 'harness.fakes.bot', '--bot-dir', {str(bot.root)!r}],"
               " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
               "print(bot.pid, flush=True)\n"
               "time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(parent.stdout.readline()))
    try:
        wait_for_log(bot.log_file, "Gameplan complete")
        parent.kill()
        parent.wait(timeout=15)
        gone, _alive = psutil.wait_procs([child], timeout=20)
        assert gone, "the stand-in bot outlived the process that started it"
    finally:
        if child.is_running():
            child.kill()
        parent.stdout.close()
