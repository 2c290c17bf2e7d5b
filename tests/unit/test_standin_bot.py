"""The stand-in bot keeps the contract the features check: the seed's startup lines, its Discord
notification, orders logged with their ids, a reconnect after the gateway's daily restart, and faults that
do what they say. It runs as a real process against the fake gateway and the fake Discord."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.fakes.botdir import make_bot_dir
from harness.fakes.discord import FakeDiscord
from harness.fakes.tws import FakeGateway, always_closed, example_world_path, load_world


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
