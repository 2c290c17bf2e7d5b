"""The real, unpatched ib_async (and IB's own ibapi) against the fake over loopback: sync, trading, faults."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from ib_async import IB, ExecutionFilter, LimitOrder, MarketOrder, Stock

from harness.core import clock
from harness.fakes.tws import Account, Execution, FakeGateway, OrderRecord, Position, load_world
from harness.fakes.tws.world import example_world_path, regular_hours
from tests.unit import tws_fixtures
from tests.unit.tws_fixtures import SESSION_CLOSED_AT, SESSION_OPEN_AT, WAIT, paper_world, wait_for

# Fixtures by name (pytest looks them up in the module namespace).
gateway = tws_fixtures.gateway
connect = tws_fixtures.connect
ib_log_guard = tws_fixtures.ib_log_guard

AAPL = Stock("AAPL", "SMART", "USD")


def rich_world():
    world = paper_world()
    account = world.account_ids[0]
    world.positions.append(Position(account, "MSFT", 5, 400.0))
    world.open_orders.append(
        OrderRecord(
            order_id=3,
            perm_id=555,
            client_id=1,
            account=account,
            symbol="SPY",
            action="BUY",
            quantity=1,
            order_type="LMT",
            limit_price=1.0,
        )
    )
    old = clock.now() - timedelta(days=2)
    recent = clock.now() - timedelta(minutes=5)
    world.executions += [
        Execution("e-old", 1, 444, 1, account, "MSFT", "BOT", 5, 400.0, old, commission=1.0),
        Execution("e-new", 2, 445, 1, account, "AAPL", "SLD", 2, 190.0, recent, commission=1.5),
    ]
    world.completed_orders.append(
        OrderRecord(
            order_id=2,
            perm_id=445,
            client_id=1,
            account=account,
            symbol="AAPL",
            action="SELL",
            quantity=2,
            status="Filled",
            filled=2,
            completed_at=recent,
            completed_status="Filled",
        )
    )
    return world


@pytest.mark.parametrize("readonly", [False, True])
def test_connect_syncs_everything(readonly: bool, ib_log_guard) -> None:
    with FakeGateway(rich_world()) as fake:
        ib = IB()
        try:
            ib.connect(fake.host, fake.port, clientId=1, readonly=readonly, timeout=2, raiseSyncErrors=True)
            assert ib.managedAccounts() == ["DU1234567"]
            assert ib.client.serverVersion() == 178
            assert [(p.contract.symbol, p.position) for p in ib.positions()] == [("MSFT", 5.0)]
            assert {v.tag for v in ib.accountValues()} >= {"NetLiquidation", "TotalCashValue", "BuyingPower"}
            assert [p.contract.symbol for p in ib.portfolio()] == ["MSFT"]
            assert {f.execution.execId for f in ib.fills()} == {"e-old", "e-new"}
            if not readonly:
                assert [t.order.permId for t in ib.openTrades()] == [555]
            names = [r.name for r in fake.requests]
            assert "startApi" in names and "reqPositions" in names and "reqExecutions" in names
            assert ("reqCompletedOrders" in names) is not readonly
        finally:
            ib.disconnect()
        fake.check()


def test_account_summary_and_reads(ib_log_guard) -> None:
    with FakeGateway(rich_world()) as fake:
        ib = IB()
        try:
            ib.connect(fake.host, fake.port, clientId=2, readonly=True, timeout=2)
            summary = {(v.tag, v.currency): v.value for v in ib.accountSummary()}
            assert summary[("TotalCashValue", "USD")] == "1000000.00"
            assert summary[("BuyingPower", "USD")] == "4000000.00"
            assert float(summary[("NetLiquidation", "USD")]) == pytest.approx(1_000_000 + 5 * 410.0)
            assert [t.order.permId for t in ib.reqAllOpenOrders()] == [555]
            since = (clock.now() - timedelta(hours=1)).strftime("%Y%m%d-%H:%M:%S")
            assert [f.execution.execId for f in ib.reqExecutions(ExecutionFilter(time=since))] == ["e-new"]
            completed = ib.reqCompletedOrders(apiOnly=False)
            assert [(t.order.permId, t.orderStatus.status) for t in completed] == [(445, "Filled")]
            assert ib.reqCurrentTime().year >= 2025
        finally:
            ib.disconnect()
        fake.check()


def test_place_order_fills_with_commission(gateway, connect) -> None:
    ib = connect(client_id=1)
    trade = ib.placeOrder(AAPL, LimitOrder("BUY", 10, 200.0))
    wait_for(lambda: trade.isDone() and trade.fills and trade.fills[0].commissionReport.execId, what="fill")
    assert trade.orderStatus.status == "Filled"
    assert trade.orderStatus.avgFillPrice == 190.0
    assert trade.fills[0].commissionReport.commission == 1.0
    wait_for(lambda: ib.positions(), what="position update")
    assert [(p.contract.symbol, p.position) for p in ib.positions()] == [("AAPL", 10.0)]
    [received] = gateway.orders_received
    assert (
        received.client_id,
        received.symbol,
        received.action,
        received.quantity,
        received.order_type,
        received.limit_price,
        received.outcome,
    ) == (1, "AAPL", "BUY", 10.0, "LMT", 200.0, "Filled")
    assert gateway.world.accounts[0].cash == pytest.approx(1_000_000 - 1900.0 - 1.0)


def test_order_outside_the_session_rests_presubmitted_then_fills(ib_log_guard) -> None:
    world = paper_world(session_open=regular_hours)
    world.clock.set(SESSION_CLOSED_AT)
    with FakeGateway(world) as fake:
        ib = IB()
        try:
            ib.connect(fake.host, fake.port, clientId=1, timeout=2)
            trade = ib.placeOrder(AAPL, MarketOrder("BUY", 5))
            wait_for(lambda: trade.orderStatus.status == "PreSubmitted", what="PreSubmitted")
            ib.sleep(0.1)
            assert trade.orderStatus.status == "PreSubmitted"
            fake.advance_clock(SESSION_OPEN_AT - SESSION_CLOSED_AT)
            wait_for(lambda: trade.orderStatus.status == "Filled", what="fill after the open")
            ib_log_guard.allow(2109)
            outside = ib.placeOrder(AAPL, MarketOrder("BUY", 1, outsideRth=True))
            wait_for(lambda: outside.isDone(), what="MKT fill in session")
            fake.set_clock(SESSION_CLOSED_AT + timedelta(days=1))
            late = ib.placeOrder(AAPL, MarketOrder("BUY", 1, outsideRth=True))
            wait_for(lambda: 2109 in [e.errorCode for e in late.log], what="2109")
            assert late.orderStatus.status in ("PreSubmitted", "ValidationError")
        finally:
            ib.disconnect()
        fake.check()
        assert [o.outcome for o in fake.orders_received] == ["Filled", "Filled", "PreSubmitted"]


def test_order_over_buying_power_is_rejected_201(gateway, connect, ib_log_guard) -> None:
    ib_log_guard.allow(201)
    ib = connect()
    trade = ib.placeOrder(AAPL, LimitOrder("BUY", 100_000, 190.0))
    wait_for(lambda: trade.isDone(), what="rejection")
    assert trade.orderStatus.status == "Cancelled"
    assert [e.errorCode for e in trade.log if e.errorCode] == [201]
    assert gateway.orders_received[0].outcome == "rejected 201"


def test_cancel_and_global_cancel(gateway, connect, ib_log_guard) -> None:
    ib_log_guard.allow(202)
    ib = connect()
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    resting = [ib.placeOrder(AAPL, LimitOrder("BUY", 1, 100.0 + i)) for i in range(3)]
    wait_for(lambda: all(t.orderStatus.status == "Submitted" for t in resting), what="resting orders")
    ib.cancelOrder(resting[0].order)
    wait_for(lambda: resting[0].orderStatus.status == "Cancelled", what="cancel")
    wait_for(lambda: codes == [202], what="error 202")
    ib.reqGlobalCancel()
    wait_for(lambda: all(t.orderStatus.status == "Cancelled" for t in resting), what="global cancel")
    assert gateway.world.open_orders == []
    assert [r.name for r in gateway.requests].count("reqGlobalCancel") == 1


def test_read_only_api_answers_321(ib_log_guard) -> None:
    ib_log_guard.allow(321)
    with FakeGateway(paper_world(read_only=True)) as fake:
        ib = IB()
        try:
            ib.connect(fake.host, fake.port, clientId=1, timeout=2)
            trade = ib.placeOrder(AAPL, LimitOrder("BUY", 1, 190.0))
            wait_for(lambda: trade.log and trade.log[-1].errorCode == 321, what="321")
            assert fake.world.executions == []
        finally:
            ib.disconnect()
        assert fake.orders_received[0].outcome == "rejected 321 (read-only API)"


def test_client_id_in_use_326(gateway, connect, ib_log_guard) -> None:
    ib_log_guard.allow(326)
    connect(client_id=5)
    second = IB()
    codes: list[int] = []
    second.errorEvent += lambda req_id, code, *rest: codes.append(code)
    with pytest.raises((TimeoutError, asyncio.TimeoutError, ConnectionError)):
        second.connect(gateway.host, gateway.port, clientId=5, timeout=0.5)
    assert codes == [326]
    assert gateway.connected_client_ids == [5]


def test_connectivity_blip_1100_1102_keeps_the_socket(gateway, connect, ib_log_guard) -> None:
    ib_log_guard.allow(1100, 1102)
    ib = connect()
    codes: list[int] = []
    ib.errorEvent += lambda req_id, code, *rest: codes.append(code)
    gateway.connectivity_blip(restored_after=0.05)
    wait_for(lambda: codes == [1100, 1102], what="1100 then 1102")
    assert ib.isConnected()
    wait_for(
        lambda: len(gateway.requests_named("reqAccountSummary")) == 1, what="ib_async's resubscribe on 1102"
    )


def test_restart_disconnects_and_reconnect_works_after_down_for(gateway, connect, ib_log_guard) -> None:
    ib_log_guard.allow(patterns=("Peer closed",))
    ib = connect()
    lost: list[bool] = []
    ib.disconnectedEvent += lambda: lost.append(True)
    gateway.restart(down_for=0.3)
    wait_for(lambda: lost, what="disconnectedEvent")
    again = IB()
    with pytest.raises(ConnectionRefusedError):
        again.connect(gateway.host, gateway.port, clientId=1, timeout=1)
    assert gateway.wait_up(WAIT)
    again.connect(gateway.host, gateway.port, clientId=1, timeout=2)
    assert again.managedAccounts() == ["DU1234567"]
    again.disconnect()


def test_scheduled_daily_restart_fires_when_the_clock_passes(gateway, connect) -> None:
    from datetime import time

    gateway.set_clock(datetime(2025, 1, 8, 23, 44, 59, tzinfo=SESSION_OPEN_AT.tzinfo))
    gateway.schedule_daily_restart(time(23, 45), down_for=0.2)
    ib = connect()
    lost: list[bool] = []
    ib.disconnectedEvent += lambda: lost.append(True)
    gateway.advance_clock(2)
    wait_for(lambda: lost, what="scheduled restart")
    assert gateway.wait_up(WAIT)


def test_drop_mid_sync_fails_connect_cleanly(gateway, ib_log_guard) -> None:
    ib_log_guard.allow(patterns=("request timed out", "Peer closed"))
    gateway.set_faults(drop_mid_sync=True)
    ib = IB()
    with pytest.raises(ConnectionError):
        ib.connect(gateway.host, gateway.port, clientId=1, timeout=1)
    gateway.clear_faults()
    ib.connect(gateway.host, gateway.port, clientId=1, timeout=2)
    ib.disconnect()


def test_silent_handshake_makes_connect_time_out(gateway, ib_log_guard) -> None:
    gateway.set_faults(silent_handshake=True)
    ib = IB()
    with pytest.raises((TimeoutError, asyncio.TimeoutError)):
        ib.connect(gateway.host, gateway.port, clientId=1, timeout=0.3)


def test_slow_answers_are_slow_but_correct(gateway, connect) -> None:
    ib = connect()
    gateway.set_faults(answer_delay=0.2)
    ib.RequestTimeout = 0.05
    with pytest.raises((TimeoutError, asyncio.TimeoutError)):
        ib.reqAllOpenOrders()
    ib.RequestTimeout = WAIT
    assert ib.reqPositions() == []


def test_two_gateways_side_by_side(gateway, connect) -> None:
    with FakeGateway(load_world(example_world_path("live"))) as live:
        paper_ib = connect(client_id=1)
        live_ib = connect(client_id=1, fake=live, readonly=True)
        assert paper_ib.managedAccounts() == ["DU1234567"]
        assert live_ib.managedAccounts() == ["U7654321"]
        assert [p.contract.symbol for p in live_ib.positions()] == ["AAPL"]
        assert live.orders_received == []
        live.check()


def test_multi_account_world_and_unknown_requests_are_recorded(ib_log_guard) -> None:
    world = paper_world(accounts=[Account("DU1000001"), Account("DU1000002", cash=5.0)])
    with FakeGateway(world) as fake:
        ib = IB()
        try:
            ib.connect(fake.host, fake.port, clientId=1, timeout=2, raiseSyncErrors=True)
            assert ib.managedAccounts() == ["DU1000001", "DU1000002"]
            ib.RequestTimeout = WAIT
            ib_log_guard.allow(322)
            assert ib.reqFundamentalData(AAPL, "ReportSnapshot") == []  # not served: error 322 at once, no hang
        finally:
            ib.disconnect()
        assert [u.msg_id for u in fake.unexpected] == [52]
        with pytest.raises(AssertionError, match="reqFundamentalData"):
            fake.check()
        fake.check(allow_unexpected=True)


def test_reset_restores_the_initial_world(gateway, connect) -> None:
    ib = connect()
    trade = ib.placeOrder(AAPL, LimitOrder("BUY", 1, 200.0))
    wait_for(lambda: trade.isDone(), what="fill")
    gateway.reset()
    assert gateway.world.positions == [] and gateway.orders_received == [] and gateway.requests == []


def _ibapi_client():
    """IB's own client library (`ibapi`, server versions 100..157): a second implementation of the protocol, in
    ib_async's environment without touching it (ib_insync would overwrite ib_async's `eventkit` package)."""
    import threading

    from ibapi.client import EClient
    from ibapi.wrapper import EWrapper

    class Client(EWrapper, EClient):
        def __init__(self) -> None:
            EWrapper.__init__(self)
            EClient.__init__(self, self)
            self.accounts = ""
            self.positions: list[tuple[str, str, float]] = []
            self.exec_ids: list[str] = []
            self.open_orders: list[tuple[int, str, str]] = []
            self.errors: list[tuple[int, int, str]] = []
            self.ready, self.positions_done = threading.Event(), threading.Event()
            self.executions_done, self.orders_done = threading.Event(), threading.Event()

        def managedAccounts(self, accountsList: str) -> None:
            self.accounts = accountsList

        def nextValidId(self, orderId: int) -> None:
            self.ready.set()

        def position(self, account, contract, position, avgCost) -> None:
            self.positions.append((account, contract.symbol, float(position)))

        def positionEnd(self) -> None:
            self.positions_done.set()

        def execDetails(self, reqId, contract, execution) -> None:
            self.exec_ids.append(execution.execId)

        def execDetailsEnd(self, reqId) -> None:
            self.executions_done.set()

        def openOrder(self, orderId, contract, order, orderState) -> None:
            self.open_orders.append((orderId, contract.symbol, order.action))

        def openOrderEnd(self) -> None:
            self.orders_done.set()

        def error(self, reqId, errorCode, errorString) -> None:
            self.errors.append((reqId, errorCode, errorString))

    return Client()


def test_ibs_own_ibapi_client_reads_accounts_positions_executions_and_orders() -> None:
    import threading

    from ibapi.execution import ExecutionFilter as IbapiExecutionFilter  # in the test extras: never a skip

    with FakeGateway(rich_world()) as fake:
        client = _ibapi_client()
        client.connect(fake.host, fake.port, clientId=9)
        reader = threading.Thread(target=client.run, name="ibapi-reader", daemon=True)
        reader.start()
        try:
            assert client.ready.wait(WAIT), client.errors
            assert client.serverVersion() == 157  # ibapi 9.81's maximum: the fake's oldest field layout
            assert client.accounts == "DU1234567"
            client.reqPositions()
            assert client.positions_done.wait(WAIT)
            assert client.positions == [("DU1234567", "MSFT", 5.0)]
            client.reqExecutions(1, IbapiExecutionFilter())
            assert client.executions_done.wait(WAIT)
            assert set(client.exec_ids) == {"e-old", "e-new"}
            client.reqAllOpenOrders()
            assert client.orders_done.wait(WAIT)
            assert client.open_orders == [(3, "SPY", "BUY")]
            assert {code for _, code, _ in client.errors} <= {2104, 2106, 2158}  # farm notices only
        finally:
            client.disconnect()
            reader.join(WAIT)
        assert not reader.is_alive()
        fake.check()
