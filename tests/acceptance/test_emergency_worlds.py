"""The emergency path and the first hour (issue 19), as an operator meets them: `harness halt` stops the bot
first and reads every gateway the bot could reach, never calling a halt complete while orders may remain, and
stops only the bot's own process; each round of `harness watch` sees a dead or silent bot, a mode change written
while it runs, a rotated log (which is no restart), and never reads its own alert as the bot's.

Real ib_async against fake gateways on loopback, real processes, a real fake Discord."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest

from harness.actions.halt import halt
from harness.core import clock
from harness.core.settings import GatewayAddress
from harness.fakes.tws import FakeGateway
from harness.watch.rounds import FAILED, PASSED, Watcher
from tests.acceptance.matrix import ChainFault
from tests.unit.test_halt import LIVE_ACCOUNT, PAPER_ENV, _changes, _gateway, _order, _request, _world, bot_process
from tests.unit.test_watch_rounds import STARTUP, _bot_dir, _by_name, _log, _redact, gateway, with_discord
from tests.unit.test_watch_rounds import _world as _watch_world

__all__ = ["bot_process", "gateway"]  # the fixtures these tests use, from the unit tests' modules
HERE = "test_emergency_worlds.py::"
CHAIN_MATRIX = [
    ChainFault("the bot's .env on the live gateway", "the bot's .env says IBKR_PORT=4001 and its orders are on the "
               "live gateway; `harness halt` names the paper one", "ACCIDENTAL LIVE TRADING named; the bot stopped "
               "first; both gateways read; the live orders listed to cancel by hand; never complete (exit 1)",
               HERE + "test_a_bot_whose_env_points_at_the_live_gateway_is_named_and_its_live_orders_listed"),
    ChainFault("the live gateway beside the paper one", "`harness halt --live-gateway-port 4001 --confirm-account "
               "U...`", "both gateways cancelled; complete only then",
               HERE + "test_the_live_gateway_port_is_read_too_and_cancelled_with_the_typed_account"),
    ChainFault("another checkout's `python -m src.main`", "the same command line runs in another folder",
               "shown with --pid N, never stopped; the bot in its own folder is", HERE + "test_a_process_of_another_"
               "checkout_is_shown_never_stopped"),
    ChainFault("two matching processes, no folder given", "two processes hold --bot-process's text", "none stopped, "
               "both listed; `--pid N` stops the one named",
               HERE + "test_several_matches_and_no_directory_stop_nothing_and_are_listed"),
    ChainFault("a bot that hides its command line", "Windows: a Python process run with highest privileges",
               "operator to confirm in preflight (and `switch` refuses); never a stopped bot",
               HERE + "test_a_python_process_that_hides_its_command_line_is_never_taken_for_a_stopped_bot"),
    ChainFault("a bot killed during the watch", "`kill -9` of the bot in round 2", "round 2 fails: The bot is not "
               "running", HERE + "test_a_bot_killed_during_the_watch_fails_the_round_it_happened_in"),
    ChainFault("a silent bot", "no log line for 45 minutes", "the round fails: The bot went silent (past "
               "--heartbeat-gap)", HERE + "test_a_bot_whose_log_went_silent_past_the_heartbeat_gap_fails"),
    ChainFault("a mode change during the watch", "`Trading mode changed to LIVE (PAPER_TRADING=false reloaded)` "
               "appended", "the next round fails critically: LIVE trading mode in the log",
               HERE + "test_a_mode_change_to_live_appended_during_the_watch_fails_critically"),
    ChainFault("a rotated log", "`mv bot.log bot.log.1` and a new bot.log with a heartbeat", "no restart; an error "
               "written to the renamed file still counts", HERE + "test_a_rotated_log_is_no_restart_and_lines_after_"
               "the_rename_still_count"),
    ChainFault("the watch's own alert", "DISCORD_ALERT_WEBHOOK posts into the bot's own channel", "the alert is "
               "never read as the bot's; the bot's own LIVE message still fails",
               HERE + "test_the_watchs_own_alert_in_the_bots_channel_is_never_read_as_the_bots"),
]


# --- harness halt ---------------------------------------------------------------------------------------------------



def test_a_bot_whose_env_points_at_the_live_gateway_is_named_and_its_live_orders_listed(bot_process):
    """The seed's accidental live trading: the bot's .env says IBKR_PORT=4001 and its orders are on the live
    gateway; the operator's halt names the paper gateway. The halt stops the bot, reads both gateways, names the
    case, and never calls the halt complete while the live orders stay open."""
    process, marker = bot_process
    with _gateway(_world("paper"), 4002) as paper, _gateway(_world("live", _order(5)), 4001) as live:
        env = {**PAPER_ENV, "IBKR_HOST": live.host, "IBKR_PORT": "4001"}
        result = halt(_request(paper, marker, env_values=env))
        assert _changes(live) == [] and len(live.world.open_orders) == 1  # no typed account: nothing sent there
    assert process.wait(5) is not None
    assert [g.gateway for g in result.gateways] == [f"{paper.host}:4002", f"{live.host}:4001"]
    assert result.gateways[1].why == "the bot's .env (IBKR_HOST:IBKR_PORT)" and result.gateways[1].live
    assert any(w.startswith("ACCIDENTAL LIVE TRADING: the bot's .env says IBKR_PORT=4001") for w in result.warnings)
    assert not result.complete and "it is open at" in " ".join(result.left) and LIVE_ACCOUNT not in repr(result)


def test_the_live_gateway_port_is_read_too_and_cancelled_with_the_typed_account(bot_process):
    _process, marker = bot_process
    with _gateway(_world("paper", _order(1)), 4002) as paper:
        live = FakeGateway(_world("live", _order(2)), host=paper.host, port=4001)  # --live-gateway-port's host
        live.start()
        live.set_read_only(False)
        try:
            result = halt(_request(paper, marker, live_port=4001, confirm_accounts=(LIVE_ACCOUNT,)))
            assert live.world.open_orders == [] and paper.world.open_orders == []
        finally:
            live.stop()
    assert result.complete, result.outcome
    assert [g.why for g in result.gateways] == ["--gateway", "--live-gateway-port"]


def test_a_process_of_another_checkout_is_shown_never_stopped(tmp_path):
    from harness.actions.stop_bot import stop_bot_processes

    bot_dir, other = tmp_path / "bot", tmp_path / "other"
    bot_dir.mkdir()
    other.mkdir()
    marker = f"halt-test-bot-{uuid.uuid4().hex}"
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker], cwd=bot_dir)
    theirs = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker], cwd=other)
    try:
        result = stop_bot_processes(marker, bot_dir=bot_dir, timeout=5)
        assert [p.pid for p in result.stopped] == [ours.pid] and ours.wait(5) is not None
        assert theirs.poll() is None and [p.pid for p in result.elsewhere] == [theirs.pid]
        assert any(f"--pid {theirs.pid}" in line for line in result.left) and result.seen_stopped
        both = stop_bot_processes(marker, timeout=5)  # no directory: one match is the bot ...
        assert [p.pid for p in both.stopped] == [theirs.pid]
    finally:
        for process in (ours, theirs):
            process.kill()
            process.wait(10)


def test_several_matches_and_no_directory_stop_nothing_and_are_listed(tmp_path):
    from harness.actions.stop_bot import stop_bot_processes

    marker = f"halt-test-bot-{uuid.uuid4().hex}"
    processes = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker]) for _ in range(2)]
    try:
        result = stop_bot_processes(marker, timeout=5)
        assert all(p.poll() is None for p in processes) and not result.stopped and not result.seen_stopped
        assert sorted(p.pid for p in result.ambiguous) == sorted(p.pid for p in processes)
        assert any("several processes hold" in line and "--pid" in line for line in result.left)
        named = stop_bot_processes(marker, pid=processes[1].pid, timeout=5)
        assert [p.pid for p in named.stopped] == [processes[1].pid] and processes[0].poll() is None
    finally:
        for process in processes:
            process.kill()
            process.wait(10)


def test_a_python_process_that_hides_its_command_line_is_never_taken_for_a_stopped_bot(monkeypatch):
    """Windows: a task run "with highest privileges" hides its command line from the operator's user."""
    import psutil

    from harness.checks import CouldNotLook
    from harness.checks.preflight import check_bot_not_running
    from harness.probes import processes

    class Hidden:
        def __init__(self) -> None:
            self.info = {"pid": 4242, "cmdline": None, "name": "python.exe", "status": "running"}

    monkeypatch.setattr(psutil, "process_iter", lambda attrs: iter([Hidden()]))
    facts = processes.find_bot_processes("src.main")
    assert facts.hidden_python == (4242,) and not facts.matches
    with pytest.raises(CouldNotLook, match="4242 hide their command line"):
        check_bot_not_running(facts)


# --- harness watch --------------------------------------------------------------------------------------------------
def test_a_bot_killed_during_the_watch_fails_the_round_it_happened_in(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    marker = f"watch-test-bot-{uuid.uuid4().hex}"
    bot = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker], cwd=root)
    try:
        world = replace(_watch_world(root, GatewayAddress(gateway.host, gateway.port)), bot_process=marker,
                        process_dir=root)
        watcher = Watcher(world, _redact)
        first = _by_name(watcher.run_round(1))["bot alive"]
        assert first.status == PASSED and f"pid {bot.pid}" in first.message
        bot.kill()  # kill -9 in round 2
        bot.wait(10)
        second = watcher.run_round(2)
        alive = _by_name(second)["bot alive"]
        assert second.status == FAILED and alive.status == FAILED and "The bot is not running" in alive.message
        assert "crashed or exited during the watch" in alive.message and alive.item == "dod_no_crashes"
    finally:
        bot.kill()
        bot.wait(10)


def test_a_bot_whose_log_went_silent_past_the_heartbeat_gap_fails(tmp_path, gateway):
    root = tmp_path / "bot"
    (root / "logs").mkdir(parents=True)
    (root / ".env").write_text(f"DRY_RUN=false\nPAPER_TRADING=true\nIBKR_HOST={gateway.host}\n"
                               f"IBKR_PORT={gateway.port}\nIBKR_CLIENT_ID=1\n", encoding="utf-8")
    _log(root / "logs" / "bot.log", *(t.format(host=gateway.host, port=gateway.port) for t in STARTUP),
         at=clock.local_now().replace(tzinfo=None) - timedelta(minutes=45))
    alive = _by_name(Watcher(_watch_world(root, GatewayAddress(gateway.host, gateway.port)), _redact).run_round(1))
    assert alive["bot alive"].status == FAILED and "The bot went silent" in alive["bot alive"].message
    assert "more than the heartbeat gap of 30 min" in alive["bot alive"].message


def test_a_mode_change_to_live_appended_during_the_watch_fails_critically(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    watcher = Watcher(_watch_world(root, GatewayAddress(gateway.host, gateway.port)), _redact)
    assert _by_name(watcher.run_round(1))["log mode"].status == PASSED
    _log(root / "logs" / "bot.log", "Trading mode changed to LIVE (PAPER_TRADING=false reloaded)", level="WARNING")
    mode = _by_name(watcher.run_round(2))["log mode"]
    assert mode.status == FAILED and mode.critical and "LIVE trading mode in the log" in mode.message


def test_a_rotated_log_is_no_restart_and_lines_after_the_rename_still_count(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    watcher = Watcher(_watch_world(root, GatewayAddress(gateway.host, gateway.port)), _redact)
    assert watcher.run_round(1).status != FAILED
    log = root / "logs" / "bot.log"
    log.rename(root / "logs" / "bot.log.1")  # mv bot.log bot.log.1, as a rotating handler does
    _log(log, "Heartbeat: running, gateway connected")
    second = _by_name(watcher.run_round(2))
    assert second["log errors"].status == PASSED, second["log errors"].message
    _log(root / "logs" / "bot.log.1", "order loop broke after the rename", level="ERROR")  # the old handle
    third = _by_name(watcher.run_round(3))["log errors"]
    assert third.status == FAILED and "order loop broke after the rename" in third.message


def test_the_watchs_own_alert_in_the_bots_channel_is_never_read_as_the_bots(tmp_path, gateway):
    from harness.fakes.discord import FakeDiscord
    from harness.watch.alert import USERNAME, alert_text
    from harness.watch.rounds import CheckOutcome

    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    with FakeDiscord() as fake:
        world = with_discord(_watch_world(root, GatewayAddress(gateway.host, gateway.port)), fake)
        watcher = Watcher(world, _redact)
        assert _by_name(watcher.run_round(1))["discord"].status == PASSED
        failure = CheckOutcome("live account", "dod_no_live_orders", FAILED, "1 order in the LIVE account", True)
        fake.post_as_webhook(alert_text(1, [failure], "live"), username=USERNAME)
        assert _by_name(watcher.run_round(2))["discord"].status == PASSED
        fake.post_as_webhook("Bot started in LIVE mode at 10:00")  # the bot's own words still count
        assert _by_name(watcher.run_round(3))["discord"].status == FAILED
