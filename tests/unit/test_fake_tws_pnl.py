"""reqPnL / cancelPnL against the fake: the real, unpatched ib_async reads the account's daily P&L."""

from __future__ import annotations

import math

import pytest
from ib_async import IB, LimitOrder, Stock
from ib_async.util import UNSET_DOUBLE

from harness.fakes.tws import Account, FakeGateway, encoder, world_from_dict
from tests.unit import tws_fixtures
from tests.unit.test_fake_tws_protocol import VERSIONS, decode
from tests.unit.tws_fixtures import paper_world, wait_for

# Fixtures by name (pytest looks them up in the module namespace).
gateway = tws_fixtures.gateway
connect = tws_fixtures.connect
ib_log_guard = tws_fixtures.ib_log_guard

ACCOUNT = "DU1234567"


@pytest.mark.parametrize("version", VERSIONS)
def test_pnl_message_decodes_at_every_version(version: int) -> None:
    assert decode(encoder.pnl(7, -1234.5, 10.0, -3.25), version) == [("pnl", (7, -1234.5, 10.0, -3.25))]
    [(_, (_, daily, unrealized, realized))] = decode(encoder.pnl(7, None, None, 0.0), version)
    assert daily == UNSET_DOUBLE and unrealized == UNSET_DOUBLE and realized == 0.0


@pytest.mark.parametrize("max_version", [157, 178])
@pytest.mark.parametrize("readonly", [True, False])
def test_req_pnl_reports_the_world_and_pushes_updates(max_version: int, readonly: bool, ib_log_guard) -> None:
    world = paper_world(accounts=[Account(ACCOUNT, daily_pnl=-2500.0, unrealized_pnl=-2000.0, realized_pnl=-500.0)])
    with FakeGateway(world, max_version=max_version) as fake:
        ib = IB()
        try:
            ib.connect(fake.host, fake.port, clientId=1, readonly=readonly, timeout=2)
            assert ib.client.serverVersion() == max_version
            pnl = ib.reqPnL(ACCOUNT)
            wait_for(lambda: not math.isnan(pnl.dailyPnL), what="first pnl")
            assert (pnl.account, pnl.dailyPnL, pnl.unrealizedPnL, pnl.realizedPnL) == (
                ACCOUNT, -2500.0, -2000.0, -500.0)
            assert ib.pnl(ACCOUNT) == [pnl]
            fake.set_pnl(ACCOUNT, daily_pnl=125.0, unrealized_pnl=None, realized_pnl=125.0)
            wait_for(lambda: pnl.dailyPnL == 125.0, what="pushed pnl")
            assert pnl.unrealizedPnL == UNSET_DOUBLE and pnl.realizedPnL == 125.0
            [request] = fake.requests_named("reqPnL")
            assert request.fields[2:] == (ACCOUNT, "")
            ib.cancelPnL(ACCOUNT)
            wait_for(lambda: fake.requests_named("cancelPnL"), what="cancelPnL received")
            assert ib.pnl() == []
        finally:
            ib.disconnect()
        fake.check()


def test_cancel_pnl_ends_the_subscription_at_the_gateway(gateway, connect) -> None:
    ib = connect(client_id=1, readonly=True)
    received: list[float] = []
    ib.pnlEvent += lambda p: received.append(p.dailyPnL)
    ib.reqPnL(ACCOUNT)
    wait_for(lambda: received == [0.0], what="first pnl")
    ib.cancelPnL(ACCOUNT)
    wait_for(lambda: gateway.requests_named("cancelPnL"), what="cancelPnL received")
    # Subscribe again: only the new subscription is pushed to (once), the cancelled one is gone.
    ib.reqPnL(ACCOUNT)
    wait_for(lambda: len(received) == 2, what="second subscription's first pnl")
    gateway.set_pnl(ACCOUNT, daily_pnl=-1.0)
    wait_for(lambda: len(received) == 3, what="pushed pnl")
    ib.sleep(0.2)
    assert received == [0.0, 0.0, -1.0]


def test_fill_pushes_the_worlds_pnl_to_subscribers(gateway, connect) -> None:
    ib = connect(client_id=1)
    received: list[tuple[float, float, float]] = []
    # ib_async updates one PnL object in place: keep the values each pnl message brought, as decoded.
    ib.pnlEvent += lambda p: received.append((p.dailyPnL, p.unrealizedPnL, p.realizedPnL))
    gateway.set_pnl(ACCOUNT, daily_pnl=-2500.0, unrealized_pnl=-2000.0, realized_pnl=-500.0)
    ib.reqPnL(ACCOUNT)
    wait_for(lambda: received, what="first pnl")
    # Changed without a push: only the fill can bring these values to the client.
    gateway.update_world(lambda w: setattr(w.account(ACCOUNT), "daily_pnl", 42.5))
    gateway.update_world(lambda w: setattr(w.account(ACCOUNT), "realized_pnl", None))
    trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 1, 200.0))
    wait_for(lambda: trade.isDone() and len(received) >= 2, what="fill and pushed pnl")
    ib.sleep(0.1)
    assert trade.orderStatus.status == "Filled"
    assert received == [(-2500.0, -2000.0, -500.0), (42.5, -2000.0, UNSET_DOUBLE)]


def test_unknown_account_gets_error_321_on_the_request(gateway, connect, ib_log_guard) -> None:
    ib_log_guard.allow(321)
    ib = connect(client_id=1, readonly=True)
    errors: list[tuple[int, int, str]] = []
    ib.errorEvent += lambda req_id, code, message, contract: errors.append((req_id, code, message))
    pnl = ib.reqPnL("DU9999999")
    req_id = ib.wrapper.pnlKey2ReqId[("DU9999999", "")]
    wait_for(lambda: errors, what="error 321")
    assert errors == [(req_id, 321, "Error validating request.-'cq' : cause - Invalid account code 'DU9999999'.")]
    ib.sleep(0.1)
    assert math.isnan(pnl.dailyPnL)
    ib.cancelPnL("DU9999999")


def test_silent_pnl_fault_accepts_but_never_answers(gateway, connect) -> None:
    gateway.set_faults(silent_pnl=True)
    ib = connect(client_id=1, readonly=True)
    pnl = ib.reqPnL(ACCOUNT)
    wait_for(lambda: gateway.requests_named("reqPnL"), what="reqPnL received")
    ib.sleep(0.2)
    assert math.isnan(pnl.dailyPnL)
    ib.cancelPnL(ACCOUNT)


def test_world_toml_pnl_keys() -> None:
    world = world_from_dict({"accounts": [
        {"id": "DU1", "daily_pnl": -50_000, "unrealized_pnl": "unset", "realized_pnl": 12.5},
        {"id": "DU2"},
    ]})
    first, second = world.accounts
    assert (first.daily_pnl, first.unrealized_pnl, first.realized_pnl) == (-50_000.0, None, 12.5)
    assert (second.daily_pnl, second.unrealized_pnl, second.realized_pnl) == (0.0, 0.0, 0.0)
