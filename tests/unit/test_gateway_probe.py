"""The read-only probe against the fake: facts for a healthy paper world, a live world, and every fault."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
from ib_async import IB, LimitOrder, Stock

from harness.core import clock
from harness.core.ibkr import account_is_paper, accounts_all_paper, port_is_paper
from harness.fakes.tws import Account, FakeGateway, load_world
from harness.fakes.tws.world import example_world_path
from harness.probes.gateway import AccountPnL, GatewayFacts, GatewayProbe, probe_gateway
from tests.unit import tws_fixtures
from tests.unit.tws_fixtures import paper_world, wait_for

# Fixtures by name (pytest looks them up in the module namespace).
gateway = tws_fixtures.gateway
ib_log_guard = tws_fixtures.ib_log_guard

FAST = {"connect_timeout": 1.0, "request_timeout": 1.0}


def test_paper_and_live_tables() -> None:
    assert [account_is_paper(a) for a in ("DU1234567", "DF123", "DI9", "U1234567", "F12", "I55", "XYZ")] == [
        True,
        True,
        True,
        False,
        False,
        False,
        None,
    ]
    assert accounts_all_paper(["DU1", "DU2"]) is True
    assert accounts_all_paper(["DU1", "U2"]) is False
    assert accounts_all_paper([]) is None
    assert (
        port_is_paper(4002),
        port_is_paper(7497),
        port_is_paper(4001),
        port_is_paper(7496),
        port_is_paper(5555),
    ) == (True, True, False, False, None)


def test_paper_world_facts(gateway) -> None:
    ib = IB()
    ib.connect(gateway.host, gateway.port, clientId=1, timeout=2)
    trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 10, 200.0))
    resting = ib.placeOrder(Stock("MSFT", "SMART", "USD"), LimitOrder("BUY", 1, 1.0))
    wait_for(
        lambda: trade.isDone() and resting.orderStatus.status == "Submitted", what="fill and resting order"
    )
    ib.disconnect()
    since = clock.now() - timedelta(minutes=5)
    facts = probe_gateway(gateway.host, gateway.port, executions_since=since, **FAST)
    assert facts.ok and facts.problem is None
    assert (facts.reachable, facts.handshake_ok, facts.server_version) == (True, True, 178)
    assert facts.accounts == ("DU1234567",) and facts.all_paper is True and facts.paper_port is None
    assert [(p.symbol, p.quantity) for p in facts.positions] == [("AAPL", 10.0)]
    assert [(o.symbol, o.status, o.client_id) for o in facts.open_orders] == [("MSFT", "Submitted", 1)]
    assert [(e.symbol, e.side, e.shares, e.commission) for e in facts.executions] == [
        ("AAPL", "BOT", 10.0, 1.0)
    ]
    assert [(c.symbol, c.status) for c in facts.completed_orders] == [("AAPL", "Filled")]
    [funds] = facts.account_summary
    assert funds.cash == pytest.approx(1_000_000 - 1901.0) and funds.net_liquidation is not None
    assert {2104, 2106, 2158} <= set(facts.error_codes)
    assert gateway.orders_received[-1].client_id == 1  # only the bot's orders: the probe never places one
    assert all(
        r.name not in ("placeOrder", "cancelOrder", "reqGlobalCancel")
        for r in gateway.requests
        if r.client_id == 917
    )


def test_live_world_is_not_all_paper(ib_log_guard) -> None:
    with FakeGateway(load_world(example_world_path("live"))) as live:
        facts = probe_gateway(live.host, live.port, **FAST)
        assert facts.ok and facts.accounts == ("U7654321",) and facts.all_paper is False
        assert live.orders_received == []


def test_gateway_down_is_a_fact_not_an_exception() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    facts = probe_gateway("127.0.0.1", port, **FAST)
    assert (facts.reachable, facts.handshake_ok) == (False, False)
    assert facts.problem == f"connection refused at 127.0.0.1:{port}"


def test_client_id_in_use(gateway, ib_log_guard) -> None:
    gateway.occupy_client_id(917)
    facts = probe_gateway(gateway.host, gateway.port, **FAST)
    assert facts.problem == f"client id 917 already in use at {gateway.host}:{gateway.port}"
    assert 326 in facts.error_codes and not facts.handshake_ok


def test_handshake_that_never_answers_times_out(gateway) -> None:
    gateway.set_faults(silent_handshake=True)
    facts = probe_gateway(gateway.host, gateway.port, connect_timeout=0.3, request_timeout=0.3)
    assert facts.reachable and not facts.handshake_ok
    assert facts.problem == f"handshake timed out after 0.3s at {gateway.host}:{gateway.port}"


def test_slow_answers_give_a_timeout_fact(gateway) -> None:
    with GatewayProbe(gateway.host, gateway.port, connect_timeout=1.0, request_timeout=0.2) as probe:
        assert probe.open().ok
        gateway.set_faults(answer_delay=0.5)
        facts = probe.snapshot()
        assert facts.problem == "positions request timed out after 0.2s; remaining reads skipped"


def test_mid_sync_drop_is_a_fact(gateway) -> None:
    gateway.set_faults(drop_mid_sync=True)
    # Generous timeouts (the drop comes within milliseconds) so a loaded machine cannot turn it into a timeout.
    facts = probe_gateway(gateway.host, gateway.port, connect_timeout=10.0, request_timeout=10.0)
    # The API was up (managed accounts and an order id arrived); the fake closed the socket on the probe's
    # one sync request, reqPositions: a lost connection, reported as such.
    assert facts.problem == f"connection lost while syncing with {gateway.host}:{gateway.port}"
    assert (facts.reachable, facts.handshake_ok, facts.ok) == (True, False, False)
    assert [r.name for r in gateway.requests] == ["startApi", "reqPositions"]


def test_one_probe_survives_a_restart(gateway) -> None:
    with GatewayProbe(gateway.host, gateway.port, **FAST) as probe:
        assert probe.open().ok
        gateway.restart(down_for=5.0)
        wait_for(lambda: not probe.connected, what="probe notices the restart")
        down = probe.snapshot()
        assert down.problem == f"connection refused at {gateway.host}:{gateway.port}"
        gateway.drop_connections()
    with GatewayProbe(gateway.host, gateway.port, **FAST) as probe:
        gateway.restart(down_for=0.2)
        assert gateway.wait_up(3.0)
        facts = probe.snapshot()
        assert facts.ok and facts.accounts == ("DU1234567",)


def test_problem_text_masks_account_ids() -> None:
    from harness.probes.gateway import GatewayProbe as Probe

    probe = Probe("127.0.0.1", 1)
    facts: GatewayFacts = probe._facts("account DU1234567 refused")
    assert facts.problem == "account DU****567 refused"


def test_daily_pnl_is_read_per_account_and_cancelled(ib_log_guard) -> None:
    world = paper_world(accounts=[Account("DU1000001", daily_pnl=-1500.0, unrealized_pnl=-1000.0, realized_pnl=-500.0),
                                  Account("DU1000002", daily_pnl=20.0, unrealized_pnl=None, realized_pnl=None)])
    with FakeGateway(world) as fake:
        facts = probe_gateway(fake.host, fake.port, **FAST)
        assert facts.ok, facts.problem
        assert facts.pnl == (AccountPnL("DU1000001", -1500.0, -1000.0, -500.0),
                             AccountPnL("DU1000002", 20.0, None, None))
        # The cancels are the probe's last messages before it disconnects: the fake may still be reading them.
        deadline = time.monotonic() + 10
        while True:
            probe_requests = [r.name for r in fake.requests if r.client_id == 917]
            if probe_requests.count("cancelPnL") >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        assert probe_requests.count("reqPnL") == 2 and probe_requests.count("cancelPnL") == 2
        fake.check()


def test_pnl_without_an_answer_is_a_problem_for_that_read_only(gateway) -> None:
    gateway.set_faults(silent_pnl=True)
    with GatewayProbe(gateway.host, gateway.port, connect_timeout=1.0, request_timeout=0.3) as probe:
        assert probe.open().ok
        started = time.monotonic()
        facts = probe.snapshot()
        assert time.monotonic() - started < 2.0
    assert facts.ok and facts.problem is None
    assert facts.account_summary and facts.account_summary[0].net_liquidation is not None
    assert facts.pnl == (AccountPnL("DU1234567", problem="reqPnL: no pnl update within 0.3s"),)
    assert [r.name for r in gateway.requests if r.client_id == 917][-1] == "cancelPnL"


def test_pnl_error_is_a_problem_for_that_account_only(ib_log_guard) -> None:
    ib_log_guard.allow(321)
    world = paper_world(accounts=[Account("DU1000001", daily_pnl=-7.0), Account("DU1000002")])
    with FakeGateway(world) as fake, GatewayProbe(fake.host, fake.port, **FAST) as probe:
        assert probe.open().accounts == ("DU1000001", "DU1000002")
        fake.update_world(lambda w: w.accounts.pop())  # the gateway no longer manages the second account
        facts = probe.snapshot()
        assert facts.ok and facts.problem is None and 321 in facts.error_codes
        first, second = facts.pnl
        assert first == AccountPnL("DU1000001", -7.0, 0.0, 0.0)
        assert second.daily_pnl is None and second.problem is not None
        assert second.problem == (
            "reqPnL: error 321: Error validating request.-'cq' : cause - Invalid account code 'DU****002'."
        )


def test_slow_gateway_skips_the_pnl_reads(gateway) -> None:
    with GatewayProbe(gateway.host, gateway.port, connect_timeout=1.0, request_timeout=0.2) as probe:
        assert probe.open().ok
        gateway.set_faults(answer_delay=0.5)
        facts = probe.snapshot()
    assert facts.pnl == () and "remaining reads skipped" in (facts.problem or "")
