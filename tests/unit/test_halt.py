"""`harness halt`: on a paper gateway it stops the bot, cancels every open order and lists the positions; an
order the gateway will not cancel is reported, never called cancelled; a LIVE gateway without the typed account
id is refused and receives nothing that changes anything; the incident it records locks the transition until it
is resolved with a note; `harness halt --drill` rehearses it all on an embedded world and locks nothing.

Real ib_async against fake gateways on loopback (their real ports, an address of their own); the "bot" is a
sleeping process whose command line holds a marker no other process has."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from datetime import datetime

import pytest

from harness import cli
from harness.actions.halt import HaltRequest, halt
from harness.cli import switch as cli_switch
from harness.evidence import incidents as incident
from harness.fakes.tws import FakeGateway, OrderRecord, Position, always_closed, example_world_path, load_world
from harness.probes.market import NEW_YORK

PAPER_ENV = {"DRY_RUN": "false", "PAPER_TRADING": "true"}
# Requests that change something at a gateway. Everything else the fake records is a read.
CHANGES = {"placeOrder", "cancelOrder", "reqGlobalCancel", "exerciseOptions", "replaceFA"}
LIVE_ACCOUNT = "U7654321"


def _world(name: str, *orders: OrderRecord, positions: tuple[Position, ...] = ()):
    world = load_world(example_world_path(name))
    world.session_open = always_closed  # resting orders stay open until cancelled
    world.prices["TSLA"] = 250.0
    account = world.accounts[0].account_id
    world.open_orders.extend(replace(o, account=account) for o in orders)
    world.positions.extend(Position(account, p.symbol, p.quantity, p.avg_cost) for p in positions)
    return world


def _order(order_id: int, symbol: str = "SPY", **changes: object) -> OrderRecord:
    values: dict[str, object] = {"action": "BUY", "quantity": 1, "limit_price": 1.0, "order_ref": "strategy-A",
                                 "client_id": 1}
    values.update(changes)
    return OrderRecord(order_id=order_id, perm_id=5_000_000 + order_id, account="", symbol=symbol,
                       **values)  # type: ignore[arg-type]


@contextmanager
def _gateway(world, port: int) -> Iterator[FakeGateway]:
    """A fake gateway of `world` on `port` (4002, 4001: the real ones) of a loopback address of its own."""
    for _ in range(8):
        host = f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(1, 254)}"
        gateway = FakeGateway(world, host=host, port=port)
        try:
            gateway.start()
        except OSError:
            continue
        try:
            gateway.set_read_only(False)
            yield gateway
        finally:
            gateway.stop()
        return
    pytest.skip(f"no free loopback address for port {port}")


@pytest.fixture
def bot_process() -> Iterator[tuple[subprocess.Popen, str]]:
    """A stand-in for the bot: sleeps, with a marker in its command line that only it has."""
    marker = f"halt-test-bot-{uuid.uuid4().hex}"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", marker])
    yield process, marker
    process.kill()
    process.wait(10)


def _request(gateway: FakeGateway, marker: str, **changes: object) -> HaltRequest:
    values: dict[str, object] = {"host": gateway.host, "port": gateway.port, "client_id": 919,
                                 "env_values": PAPER_ENV, "bot_process": marker, "wait": 3.0, "timeout": 3.0,
                                 "stop_timeout": 5.0}
    values.update(changes)
    return HaltRequest(**values)  # type: ignore[arg-type]


def _changes(gateway: FakeGateway) -> list[str]:
    return [r.name for r in gateway.requests if r.name in CHANGES]


# --- the paper gateway ------------------------------------------------------------------------------------


def test_on_paper_it_stops_the_bot_cancels_every_order_and_lists_the_positions(bot_process):
    process, marker = bot_process
    world = _world("paper", _order(11), _order(12, "TSLA", action="SELL", limit_price=900.0),
                   positions=(Position("", "SPY", 10, 480.0),))
    with _gateway(world, 4002) as gateway:
        result = halt(_request(gateway, marker))
        assert result.complete, result.outcome
        assert gateway.world.open_orders == []
        assert _changes(gateway) == ["reqGlobalCancel"] and gateway.orders_received == []
        assert [p.symbol for p in gateway.world.positions] == ["SPY"]  # listed, never closed by the harness
    assert process.wait(5) is not None
    assert [p.pid for p in result.bot.stopped] == [process.pid]
    assert len(result.open_before) == 2 and any("TSLA" in o and "DU****567" in o for o in result.open_before)
    assert result.positions == ("long 10 SPY (STK, USD) in DU****567",)
    assert any("close by hand" in line and "SPY" in line for line in result.left)
    assert any("escalate" in line for line in result.left)
    assert "DU1234567" not in json.dumps(asdict(result.record("test"))) and "DU1234567" not in repr(result)


def test_an_order_the_gateway_will_not_cancel_is_reported_never_called_cancelled(bot_process):
    _process, marker = bot_process
    # Client 919 is the halt's own: the gateway tells it why the cancel was refused (other clients hear it alone).
    world = _world("paper", _order(21), _order(22, "TSLA", cancel_rejected=True, client_id=919))
    with _gateway(world, 4002) as gateway:
        result = halt(_request(gateway, marker, wait=1.0))
        assert [o.order_id for o in gateway.world.open_orders] == [22]
    assert not result.complete and result.cancel_sent
    assert result.outcome == f"incomplete: {gateway.host}:4002: incomplete: 1 order(s) still open after 1 s"
    assert len(result.still_open) == 1 and "order 22" in result.still_open[0]
    assert not any("lists no open order" in line for line in result.done)
    assert any("still open" in line and "order 22" in line for line in result.left)
    assert any("error 161" in said for said in result.gateway_said)


@pytest.mark.parametrize(("env", "says"), [({"DRY_RUN": "true", "PAPER_TRADING": "false"}, "PAPER_TRADING='false'"),
                                            (None, "no .env given")])
def test_without_proof_of_paper_nothing_is_sent_but_the_bot_is_stopped_first(bot_process, env, says):
    process, marker = bot_process
    with _gateway(_world("paper", _order(31)), 4002) as gateway:
        result = halt(_request(gateway, marker, env_values=env))
        (refused,) = [g.refused for g in result.gateways]
        assert refused and says in refused
        assert _changes(gateway) == [] and len(gateway.world.open_orders) == 1
    assert process.wait(5) is not None  # an emergency: the bot stops whatever the gateway says
    assert not result.complete and result.outcome.startswith("incomplete: ")
    assert any("cancel by hand in the IBKR portal, it is open at" in line and "order 31" in line
               for line in result.left)


def test_a_gateway_that_does_not_answer_is_never_touched_and_the_bot_is_stopped_all_the_same(bot_process):
    process, marker = bot_process
    with _gateway(_world("paper", _order(41)), 4002) as gateway:
        gateway.set_faults(silent_handshake=True)
        result = halt(_request(gateway, marker, timeout=0.5))
        assert "does not answer as expected" in result.gateways[0].refused
        assert _changes(gateway) == []
    assert process.wait(5) is not None and result.bot.seen_stopped and not result.complete
    down = halt(_request(gateway, marker, timeout=0.5))  # stopped now: the port refuses
    assert "does not answer as expected" in down.gateways[0].refused
    assert down.bot.found_none and not down.complete  # no bot seen stopped: never "complete"
    assert any("no process of the bot" in line for line in down.left)


# --- a live gateway -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("port", [4001, 4002], ids=["live-port", "paper-port"])
@pytest.mark.parametrize("typed", [(), ("U765432",), ("7654321",), ("U****321",), ("DU1234567",), ("U7654321X",)])
def test_a_live_gateway_without_the_typed_account_is_refused_and_receives_nothing(bot_process, port, typed):
    process, marker = bot_process
    with _gateway(_world("live", _order(51)), port) as gateway:
        result = halt(_request(gateway, marker, confirm_accounts=typed, env_values=PAPER_ENV))
        (live,) = result.gateways
        assert live.refused and live.live and LIVE_ACCOUNT not in live.refused
        assert _changes(gateway) == [] and gateway.orders_received == []
        assert len(gateway.world.open_orders) == 1
    assert process.wait(5) is not None  # stopped first: it places nothing new while the operator decides
    assert not result.complete and any("it is open at" in line and "U****321" in line for line in result.left)
    assert LIVE_ACCOUNT not in repr(result) + " ".join(result.left)


def test_a_drill_never_acts_on_a_live_account_even_confirmed(bot_process):
    _process, marker = bot_process
    with _gateway(_world("live", _order(61)), 4001) as gateway:
        result = halt(_request(gateway, marker, confirm_accounts=(LIVE_ACCOUNT,), drill=True))
        assert result.refused and "a drill never acts on a live account" in result.refused
        assert _changes(gateway) == [] and result.bot is None  # a drill touches nothing on a live account


def test_a_live_gateway_with_the_typed_account_is_only_cancelled(bot_process):
    """The one test in which a live gateway receives a request that changes something: the global cancel the
    operator typed the account id for. It never receives an order, so no position is opened or closed."""
    process, marker = bot_process
    world = _world("live", _order(71), positions=(Position("", "AAPL", 5, 190.0),))
    with _gateway(world, 4001) as gateway:
        held = [(p.symbol, p.quantity) for p in gateway.world.positions]
        result = halt(_request(gateway, marker, confirm_accounts=("u7654321",), env_values=None))
        assert result.complete and result.live, result.outcome
        assert _changes(gateway) == ["reqGlobalCancel"] and gateway.orders_received == []
        assert gateway.world.open_orders == [] and [(p.symbol, p.quantity) for p in gateway.world.positions] == held
    assert process.wait(5) is not None
    assert any("verify the .env" in line for line in result.left)
    assert "long 5 AAPL (STK, USD) in U****321" in result.positions and len(result.positions) == len(held)


# --- the command, the record and the incident lock ----------------------------------------------------------


@pytest.fixture
def bot_dir(tmp_path, monkeypatch):
    for name in ("HARNESS_BOT_DIR", "HARNESS_EVIDENCE_DIR", "HARNESS_BASELINE", "HARNESS_BOT_ENV",
                 "HARNESS_EMBEDDED_FAULTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(cli_switch, "_now", lambda: datetime(2026, 2, 10, 16, 45, tzinfo=NEW_YORK))
    root = tmp_path / "bot"
    root.mkdir()
    (root / ".env").write_text("DRY_RUN=false\nPAPER_TRADING=true\nIBKR_PORT=4002\n", encoding="utf-8")
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_incident_locks_the_transition_until_it_is_resolved_with_a_note(bot_process, bot_dir, tmp_path, capsys):
    process, marker = bot_process  # it runs outside the bot's directory: named with --pid
    evidence = str(tmp_path / "ev")
    with _gateway(_world("paper", _order(81)), 4002) as gateway:
        (bot_dir / ".env").write_text(f"DRY_RUN=false\nPAPER_TRADING=true\nIBKR_HOST={gateway.host}\nIBKR_PORT=4002\n",
                                      encoding="utf-8")
        code, out, err = run(capsys, "halt", "--gateway", f"{gateway.host}:4002", "--bot-dir", str(bot_dir),
                             "--bot-process", marker, "--pid", str(process.pid), "--evidence-dir", evidence,
                             "--reason", "orders in the live account", "--wait", "3", "--network-timeout", "3")
    assert code == 0, out + err
    assert "INCIDENT: complete" in out and f"paper gateway {gateway.host}:4002" in out and "incident recorded" in out
    records, problem = incident.history(tmp_path / "ev")
    assert problem is None and [r.kind for r in records] == ["incident"]
    assert records[0].reason == "orders in the live account" and records[0].outcome == "complete"

    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot_dir), "--evidence-dir", evidence)
    assert code == 1 and "an incident is open" in err and "orders in the live account" in err
    code, _, err = run(capsys, "confirm", "dod_operator_declared", "--by", "Ann", "--evidence-dir", evidence)
    assert code == 1 and "an incident is open" in err
    code, _, err = run(capsys, "confirm", "incident_resolved", "--by", "Ann", "--evidence-dir", evidence)
    assert code == 1 and "--note" in err
    assert incident.lock_reason(tmp_path / "ev") is not None

    code, out, err = run(capsys, "confirm", "incident_resolved", "--by", "Ann", "--note",
                         "root cause: a stale .env; fixed and verified", "--evidence-dir", evidence)
    assert code == 0, err
    assert incident.lock_reason(tmp_path / "ev") is None
    code, _, err = run(capsys, "confirm", "incident_resolved", "--by", "Ann", "--note", "again",
                       "--evidence-dir", evidence)
    assert code == 1 and "no incident is open" in err
    code, _, err = run(capsys, "confirm", "dod_operator_declared", "--by", "Ann", "--evidence-dir", evidence)
    assert code == 1 and "an incident is open" not in err  # refused now only for want of a verified transition


def test_a_halt_that_could_do_nothing_says_what_is_left_exits_1_and_is_still_recorded(bot_dir, tmp_path, capsys):
    """The bot's .env says 4002 on this machine (nothing listens there here), the gateway given is a LIVE one whose
    account id was not typed, and no process of the bot is visible: nothing is done, every gateway is read, and
    what is left for the operator is listed, the live orders included."""
    with _gateway(_world("live", _order(91)), 4001) as gateway:
        code, out, err = run(capsys, "halt", "--gateway", f"{gateway.host}:4001", "--bot-dir", str(bot_dir),
                             "--bot-process", f"nothing-{uuid.uuid4().hex}", "--evidence-dir", str(tmp_path / "ev"),
                             "--network-timeout", "3")
        assert _changes(gateway) == []
    assert code == 1, out + err
    assert "INCIDENT: incomplete: the bot may still run" in out and "--confirm-account" in out
    assert f"LIVE gateway {gateway.host}:4001" in out and "the bot's .env (IBKR_HOST:IBKR_PORT)" in out
    assert "LEFT FOR YOU: cancel by hand in the IBKR portal, it is open at" in out
    assert LIVE_ACCOUNT not in out + err
    records, _ = incident.history(tmp_path / "ev")
    assert [(r.kind, r.outcome.split(":")[0]) for r in records] == [("incident", "incomplete")]
    assert incident.lock_reason(tmp_path / "ev") is not None


def test_an_unreadable_incident_log_locks_too(tmp_path):
    (tmp_path / incident.FILE_NAME).write_text("{not json", encoding="utf-8")
    reason = incident.lock_reason(tmp_path)
    assert reason and "cannot be read" in reason
    with pytest.raises(ValueError):
        incident.append(tmp_path, incident.HaltRecord(incident.DRILL, incident.now_text()))
    assert (tmp_path / incident.FILE_NAME).read_text(encoding="utf-8") == "{not json"


def test_a_drill_on_the_embedded_world_cancels_every_open_order_and_locks_nothing(tmp_path, capsys, monkeypatch):
    """`harness halt --drill` with no bot given starts an embedded world (the stand-in bot trading on paper, its
    orders resting) and rehearses the whole halt on it."""
    from harness.fakes import embedded

    for name in ("HARNESS_BOT_DIR", "HARNESS_BOT_ENV", "HARNESS_EVIDENCE_DIR", "HARNESS_EMBEDDED_FAULTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARNESS_EMBEDDED_FAULTS", "unknown-bot-order")
    seen: dict[str, object] = {}
    real = embedded.embedded_world

    @contextmanager
    def watched(root, **kwargs):
        with real(root, **kwargs) as fake:
            seen["before"] = [o.order_id for o in fake.gateway.world.open_orders]
            yield fake
            seen["after"] = fake.gateway.world.open_orders
            seen["cancels"] = [r.name for r in fake.gateway.requests if r.name in CHANGES and r.client_id != 1]
            seen["bot"] = fake.bot_process.poll()

    monkeypatch.setattr(embedded, "embedded_world", watched)
    code, out, err = run(capsys, "halt", "--drill", "--evidence-dir", str(tmp_path / "ev"), "--wait", "5")
    assert code == 0, out + err
    assert len(seen["before"]) == 4  # the stand-in bot's three resting orders and the unknown one
    assert seen["after"] == [] and seen["cancels"] == ["reqGlobalCancel"] and seen["bot"] is not None
    assert "DRILL: complete" in out and "paper gateway" in out and "close by hand" in out and "SPY" in out
    records, _ = incident.history(tmp_path / "ev")
    assert [(r.kind, r.outcome) for r in records] == [("drill", "complete")]
    assert incident.lock_reason(tmp_path / "ev") is None
