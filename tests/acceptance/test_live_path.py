"""The operator's path (`--live-gateway`) against a world the test starts itself: the same checks, reached
only through the addresses and paths an operator gives. Nothing in harness/ is told it talks to fakes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.core import clock
from harness.fakes.botdir import BotDir, make_bot_dir
from harness.fakes.embedded import LIVE_PORT, PAPER_PORT, embedded_world
from tests.acceptance.matrix import Fault
from tests.acceptance.runner import run_features


def test_live_gateway_path_is_green_against_a_healthy_world(tmp_path):
    with embedded_world(tmp_path / "world") as world:
        run = run_features(
            tmp_path,
            "--live-gateway",
            "--bot-dir", str(world.bot.root),
            "--baseline", str(world.bot.baseline_file),
            "--gateway", f"{world.host}:{PAPER_PORT}",
            "--live-gateway-port", str(LIVE_PORT),
            "--discord-api", world.discord.api_base,
            "--discord-channel", str(world.discord.channel_id),
            "--bot-environ", str(world.bot_environ),
            "--evidence-dir", str(tmp_path / "evidence"),
            env={"DISCORD_BOT_TOKEN": world.discord.bot_token},
        )
    assert run.failed() == set(), run.output[-4000:]
    skipped = {name: o.message for name, o in run.outcomes.items() if o.outcome == "skipped"}
    assert set(skipped) == HEALTHY.skips, skipped
    assert len(run.passed()) >= 25


def test_live_path_without_a_discord_token_is_operator_to_confirm(tmp_path):
    with embedded_world(tmp_path / "world") as world:
        run = run_features(
            tmp_path,
            "--live-gateway", "--bot-dir", str(world.bot.root), "--baseline", str(world.bot.baseline_file),
            "--gateway", f"{world.host}:{PAPER_PORT}", "--discord-api", world.discord.api_base,
            "--discord-channel", str(world.discord.channel_id), "--evidence-dir", str(tmp_path / "evidence"),
            paths=("features/02_startup.feature",),
        )
    for name in NO_TOKEN.skips:
        assert run.outcomes[name].outcome == "skipped", run.outcomes[name]
        assert "DISCORD_BOT_TOKEN" in run.outcomes[name].message


# --- a gateway that is down or silent: one bounded attempt per run, INCOMPLETE, never green -------------------

GATEWAY_ITEMS = ("dod_orders_paper", "dod_no_live_orders")
GATEWAY_DOWN_OR_SILENT = Fault(
    "paper and live gateways down or silent", "nothing listens on the gateway ports, or a server accepts and never "
    "answers", set(), "test_live_path.py::test_a_down_or_silent_gateway_is_incomplete_after_one_bounded_attempt",
    skips={"test_the_gateway_is_logged_into_paper_accounts_only",
           "test_every_order_the_bot_logged_is_in_the_paper_account"})
NO_TOKEN = Fault("no Discord token", "DISCORD_BOT_TOKEN is not set in the operator's shell", set(),
                 "test_live_path.py::test_live_path_without_a_discord_token_is_operator_to_confirm",
                 skips={"test_discord_announces_paper_trading_mode",
                        "test_discord_does_not_announce_dryrun_or_live_mode"}, others_may_fail=True)
READ_ONLY_API = Fault("read-only API", "the paper gateway's API is read-only (error 321); run with "
                      "`--place-test-order`", {"test_a_paper_test_order_is_placed_and_cancelled"},
                      "test_live_path.py::test_a_test_order_on_a_read_only_api_names_the_setting",
                      others_may_fail=True)
HEALTHY = Fault("healthy world", "nothing", set(),
                "test_live_path.py::test_live_gateway_path_is_green_against_a_healthy_world",
                skips={"test_a_paper_test_order_is_placed_and_cancelled"})
MATRIX = [
    HEALTHY,
    NO_TOKEN,
    GATEWAY_DOWN_OR_SILENT,
    READ_ONLY_API,
]


def _bot_dir_after_a_start(root: Path) -> BotDir:
    """A switched bot directory whose log holds a paper startup block, so feature 03 reaches the gateway."""
    bot = make_bot_dir(root)
    stamp = clock.local_now().replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
    lines = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at localhost:4002",
             "Gateway connection established", "Paper trading mode ACTIVE", "Bot initialized successfully",
             "Order submitted: id=1 ref=strategy-A BUY 1 SPY @ 1.00"]
    with bot.log_file.open("a", encoding="utf-8") as log:
        log.writelines(f"{stamp},000 INFO bot: {text}\n" for text in lines)
    return bot


@contextmanager
def _silent_gateway() -> Iterator[int]:
    """A loopback server that accepts every connection and never sends a byte."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for connection in held:
            connection.close()
        server.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: nothing listens there


@contextmanager
def _nothing_listening() -> Iterator[int]:
    yield _free_port()


# The timeout each attempt waits: short, so the silent gateway costs seconds. One attempt per run (counted below)
# is what bounds the run: with the default 10 s it was 91 s against a silent gateway, 10 s per scenario.
SHORT_TIMEOUT = "2"


@pytest.mark.parametrize("gateway", [_nothing_listening, _silent_gateway], ids=["nothing listening", "silent"])
def test_a_down_or_silent_gateway_is_incomplete_after_one_bounded_attempt(tmp_path, gateway):
    """Was: `16 passed, 12 skipped`, exit 0, and 91 s against a silent gateway (10 s per scenario). Both the
    paper and the live gateway are down or silent here: each costs one bounded attempt per run."""
    bot = _bot_dir_after_a_start(tmp_path / "bot")
    with gateway() as port, gateway() as live_port:
        run = run_features(tmp_path, "--live-gateway", "--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
                           "--gateway", f"127.0.0.1:{port}", "--live-gateway-port", str(live_port),
                           "--evidence-dir", str(tmp_path / "evidence"), "--network-timeout", SHORT_TIMEOUT, timeout=40)
    assert run.code == 6, run.output[-4000:]  # INCOMPLETE: never 0, and nothing failed in this world
    assert run.failed() == set(), run.output[-4000:]
    for name in GATEWAY_DOWN_OR_SILENT.skips:
        assert run.outcomes[name].outcome == "skipped", run.outcomes[name]
        assert f"127.0.0.1:{port}" in run.outcomes[name].message
    incomplete = next(line for line in run.output.splitlines() if line.startswith("INCOMPLETE"))
    for item in GATEWAY_ITEMS:
        assert item in incomplete, incomplete
    # One attempt per run, said on the terminal while it waits: not one per scenario.
    assert run.output.count(f"harness: connecting to the paper gateway 127.0.0.1:{port}") == 1, run.output[-4000:]
    assert run.output.count(f"harness: connecting to the live gateway 127.0.0.1:{live_port}") == 1
    assert f"timeout {SHORT_TIMEOUT} s" in run.output
    assert f"127.0.0.1:{live_port}" in run.outcomes["test_no_order_reached_the_live_account"].message
    assert "it is not tried again in this run" in run.output


def test_a_test_order_on_a_read_only_api_names_the_setting(tmp_path):
    """Error 321 was listed as a code but never named: the operator saw 'no order status within 10s'."""
    with embedded_world(tmp_path / "world") as world:
        world.gateway.set_read_only(True)
        run = run_features(
            tmp_path, "--live-gateway", "--bot-dir", str(world.bot.root), "--baseline", str(world.bot.baseline_file),
            "--gateway", f"{world.host}:{PAPER_PORT}", "--evidence-dir", str(tmp_path / "evidence"),
            "--place-test-order", paths=("features/03_order_routing.feature",),
        )
    assert READ_ONLY_API.fails <= run.failed()
    order = run.outcomes["test_a_paper_test_order_is_placed_and_cancelled"]
    assert "read-only API: enable writes in the gateway's API settings" in order.message
    assert "Read-Only API" in order.message  # where the setting is
    assert run.code == 1
