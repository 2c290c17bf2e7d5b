"""harness.watch.rounds: one round reads the world once and runs the monitoring checks. Each check fails on a
world that is wrong for it and is "operator to confirm" where it cannot look, never passed; errors are "new"
only once; a restart during the watch fails the round.

The gateway is the fake gateway on loopback, read by the real ib_async client."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from harness.core import clock
from harness.core.redact import Secret
from harness.core.settings import GatewayAddress, Settings
from harness.fakes.tws import Account, FakeGateway, OrderRecord
from harness.watch.rounds import FAILED, PASSED, TO_CONFIRM, Round, Watcher
from harness.world import World
from tests.unit.tws_fixtures import paper_world

PAPER_ACCOUNT = "DU1234567"
SECRET = "hunter2-Watch-Pa55word"
STARTUP = ("Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at {host}:{port}",
           "Gateway connection established", "Paper trading mode ACTIVE", "Bot initialized successfully",
           "Order submitted: id=7 ref=strategy-A BUY 1 SPY @ 1.00")


def _stamp(at: datetime | None = None) -> str:
    return (at or clock.local_now().replace(tzinfo=None)).strftime("%Y-%m-%d %H:%M:%S,000")


def _log(path: Path, *texts: str, level: str = "INFO", at: datetime | None = None) -> None:
    with path.open("a", encoding="utf-8", newline="\n") as log:
        for text in texts:
            log.write(f"{_stamp(at)} {level} bot: {text}\n")


def _bot_dir(tmp_path: Path, host: str, port: int) -> Path:
    root = tmp_path / "bot"
    (root / "logs").mkdir(parents=True)
    (root / ".env").write_text(f"DRY_RUN=false\nPAPER_TRADING=true\nIBKR_HOST={host}\nIBKR_PORT={port}\n"
                               f"IBKR_CLIENT_ID=1\nIBKR_PASSWORD={SECRET}\n", encoding="utf-8", newline="\n")
    _log(root / "logs" / "bot.log", *(t.format(host=host, port=port) for t in STARTUP),
         at=clock.local_now().replace(tzinfo=None) - timedelta(seconds=5))
    return root


def _world(root: Path, gateway: GatewayAddress | None, **settings) -> World:
    chosen = Settings(bot_dir=root, timeout=3.0, **settings)
    return World(kind="live", settings=chosen, bot_dir=root, env_file=root / ".env",
                 baseline_file=root / "baseline.json", evidence_dir=root / "evidence", gateway=gateway)


def _redact(text: str) -> str:
    return text.replace(SECRET, "***")


@pytest.fixture
def gateway():
    world = paper_world(accounts=[Account(PAPER_ACCOUNT, cash=100_000.0)])
    world.prices["SPY"] = 480.0
    world.open_orders.append(OrderRecord(order_id=7, perm_id=5_000_007, client_id=1, account=PAPER_ACCOUNT,
                                         symbol="SPY", action="BUY", quantity=1, limit_price=1.0,
                                         order_ref="strategy-A"))
    with FakeGateway(world) as fake:
        yield fake


def _by_name(round_: Round) -> dict:
    return {check.name: check for check in round_.checks}


def test_a_healthy_world_passes_what_it_can_see_and_leaves_the_rest_to_the_operator(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    watcher = Watcher(_world(root, GatewayAddress(gateway.host, gateway.port)), _redact)
    checks = _by_name(watcher.run_round(1))
    assert {name: c.status for name, c in checks.items()} == {
        "log errors": PASSED, "bot alive": PASSED, "log mode": PASSED, "bot connection": PASSED,
        "paper orders": PASSED, "live account": TO_CONFIRM, "discord": TO_CONFIRM}
    assert "--live-gateway-port" in checks["live account"].message
    assert checks["bot connection"].item == "dod_orders_paper" and checks["log errors"].item == "dod_no_crashes"


def test_an_error_is_new_once_and_its_round_fails_with_the_line_redacted(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    watcher = Watcher(_world(root, GatewayAddress(gateway.host, gateway.port)), _redact)
    assert _by_name(watcher.run_round(1))["log errors"].status == PASSED
    _log(root / "logs" / "bot.log", f"order loop broke, password={SECRET}", level="ERROR")
    second = watcher.run_round(2)
    errors = _by_name(second)["log errors"]
    assert second.status == FAILED and errors.status == FAILED
    assert "since the previous round" in errors.message and "order loop broke" in errors.message
    assert SECRET not in errors.message and SECRET not in str(second.row())
    third = _by_name(watcher.run_round(3))["log errors"]
    assert third.status == PASSED, third.message  # the same error line is not new any more


def test_a_traceback_without_a_time_of_its_own_is_seen(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    watcher = Watcher(_world(root, GatewayAddress(gateway.host, gateway.port)), _redact)
    watcher.run_round(1)
    with (root / "logs" / "bot.log").open("a", encoding="utf-8") as log:
        log.write('Traceback (most recent call last):\n  File "bot.py", line 3, in run\nValueError: boom\n')
    assert _by_name(watcher.run_round(2))["log errors"].status == FAILED


def test_a_restart_during_the_watch_fails_the_round(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    watcher = Watcher(_world(root, GatewayAddress(gateway.host, gateway.port)), _redact)
    watcher.run_round(1)
    _log(root / "logs" / "bot.log", *(t.format(host=gateway.host, port=gateway.port) for t in STARTUP[:5]),
         at=clock.local_now().replace(tzinfo=None) + timedelta(seconds=1))
    _log(root / "logs" / "bot.log", "reconnect loop failed", level="ERROR",
         at=clock.local_now().replace(tzinfo=None) + timedelta(seconds=1))
    errors = _by_name(watcher.run_round(2))["log errors"]
    assert errors.status == FAILED and "started again during the watch" in errors.message
    assert "1 error line(s) since that start" in errors.message
    assert _by_name(watcher.run_round(3))["log errors"].status == PASSED  # the new start is the one watched now


@pytest.mark.parametrize(("line", "critical"), [("Live trading mode ACTIVE", True),
                                                ("DRY_RUN mode active: no orders are sent", False)])
def test_a_mode_line_since_the_start_fails_the_mode_check(tmp_path, gateway, line, critical):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    _log(root / "logs" / "bot.log", line)
    mode = _by_name(Watcher(_world(root, GatewayAddress(gateway.host, gateway.port)), _redact).run_round(1))
    assert mode["log mode"].status == FAILED and mode["log mode"].critical is critical


def test_an_order_the_gateway_never_saw_fails_paper_orders(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    _log(root / "logs" / "bot.log", "Order submitted: id=8 ref=strategy-B BUY 2 IWM @ 1.00")
    orders = _by_name(Watcher(_world(root, GatewayAddress(gateway.host, gateway.port)), _redact).run_round(1))
    assert orders["paper orders"].status == FAILED and "id=8" in orders["paper orders"].message


def test_a_client_id_that_is_not_an_integer_leaves_paper_orders_to_confirm(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    env = root / ".env"
    env.write_text(env.read_text(encoding="utf-8").replace("IBKR_CLIENT_ID=1", "IBKR_CLIENT_ID=one"),
                   encoding="utf-8", newline="\n")
    orders = _by_name(Watcher(_world(root, GatewayAddress(gateway.host, gateway.port)), _redact).run_round(1))
    assert orders["paper orders"].status == TO_CONFIRM and "IBKR_CLIENT_ID" in orders["paper orders"].message


def test_a_gateway_that_cannot_be_read_is_operator_to_confirm_never_passed(tmp_path, gateway):
    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    address = GatewayAddress(gateway.host, gateway.port)
    gateway.stop()
    checks = _by_name(Watcher(_world(root, address), _redact).run_round(1))
    assert checks["bot connection"].status == TO_CONFIRM and checks["paper orders"].status == TO_CONFIRM
    assert checks["log errors"].status == PASSED


def test_a_bot_that_never_connected_fails_the_connection_check(tmp_path, gateway):
    root = tmp_path / "bot"
    (root / "logs").mkdir(parents=True)
    (root / ".env").write_text("IBKR_CLIENT_ID=1\n", encoding="utf-8")
    _log(root / "logs" / "bot.log", STARTUP[0], "Connecting to IBKR Gateway at localhost:4002")
    address = GatewayAddress(gateway.host, gateway.port)
    gateway.stop()
    checks = _by_name(Watcher(_world(root, address), _redact).run_round(1))
    assert checks["bot connection"].status == FAILED


def test_no_log_at_all_is_operator_to_confirm(tmp_path):
    world = _world(tmp_path, None, bot_log=str(tmp_path / "nowhere" / "*.log"))
    checks = _by_name(Watcher(replace(world, bot_dir=None), _redact).run_round(1))
    assert checks["log errors"].status == TO_CONFIRM and checks["log mode"].status == TO_CONFIRM


def test_discord_saying_the_wrong_mode_fails_and_an_unread_channel_is_to_confirm(tmp_path, gateway):
    from harness.fakes.discord import FakeDiscord

    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    with FakeDiscord() as fake:
        world = with_discord(_world(root, GatewayAddress(gateway.host, gateway.port)), fake)
        watcher = Watcher(world, _redact)
        assert _by_name(watcher.run_round(1))["discord"].status == PASSED
        fake.post_as_webhook("Bot started in LIVE mode at 10:00")
        discord = _by_name(watcher.run_round(2))["discord"]
        assert discord.status == FAILED and discord.critical
        wrong = replace(world, discord_token=Secret.of("not-a-token", "DISCORD_BOT_TOKEN"))
        assert _by_name(Watcher(wrong, _redact).run_round(1))["discord"].status == TO_CONFIRM


def test_round_status_is_the_worst_of_its_checks():
    from harness.watch.rounds import CheckOutcome

    def round_of(*statuses: str) -> Round:
        return Round(1, clock.now(), tuple(CheckOutcome(f"c{n}", "dod_no_crashes", s, "") for n, s in
                                           enumerate(statuses)))

    assert round_of(PASSED, PASSED).status == PASSED
    assert round_of(PASSED, TO_CONFIRM).status == TO_CONFIRM
    assert round_of(TO_CONFIRM, FAILED).status == FAILED
    assert round_of().status == TO_CONFIRM  # a round with no check saw nothing


def test_a_harness_error_while_reading_fails_every_check_of_the_round(tmp_path, monkeypatch):
    watcher = Watcher(_world(tmp_path, None), _redact)

    def broken():
        raise RuntimeError(f"bug near {SECRET}")

    monkeypatch.setattr(watcher, "read", broken)
    round_ = watcher.run_round(1)
    assert round_.status == FAILED and all(c.status == FAILED for c in round_.checks)
    assert all("harness error" in c.message and SECRET not in c.message for c in round_.checks)


def test_a_gateway_that_accepts_and_never_answers_ends_the_round_to_confirm(tmp_path, gateway):
    import threading

    root = _bot_dir(tmp_path, gateway.host, gateway.port)
    gateway.set_faults(silent_handshake=True)
    world = _world(root, GatewayAddress(gateway.host, gateway.port))
    world.settings = replace(world.settings, timeout=1.0)
    done: list[Round] = []
    reader = threading.Thread(target=lambda: done.append(Watcher(world, _redact).run_round(1)), daemon=True)
    reader.start()
    reader.join(timeout=120)  # a guard against a hang, not a measurement: the round waits --timeout (1 s)
    assert done, "the round did not end"
    checks = _by_name(done[0])
    assert checks["bot connection"].status == TO_CONFIRM and checks["paper orders"].status == TO_CONFIRM


def with_discord(world: World, fake) -> World:
    """`world` reading the fake Discord's channel with its bot token."""
    return replace(world, discord_api=fake.api_base, discord_channel=fake.channel_id,
                   discord_token=Secret.of(fake.bot_token, "DISCORD_BOT_TOKEN"))
