"""The fake's wire format against ib_async's own Decoder (the spec), plus framing, worlds and negotiation."""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from typing import Any

import pytest
from ib_async.decoder import Decoder

from harness.fakes.tws import FakeGateway, FramingError, encoder, load_world
from harness.fakes.tws.framing import FrameReader, client_hello, pack, parse_version_range, split_fields
from harness.fakes.tws.world import Execution, OrderRecord, Position, example_world_path, regular_hours
from tests.unit.tws_fixtures import paper_world

VERSIONS = (157, 176, 178)
AT = datetime(2025, 1, 8, 15, 0, 1, tzinfo=timezone.utc)


class RecordingWrapper:
    """Stands in for ib_async's Wrapper: records every callback the Decoder makes."""

    defaultTimezone = timezone.utc

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))


def decode(fields: list[str], server_version: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Run fields through ib_async's Decoder exactly as the client would; a decode failure fails the test."""
    wrapper = RecordingWrapper()
    decoder = Decoder(wrapper, server_version)  # type: ignore[arg-type]
    msg_id = int(fields[0])
    decoder.handlers[msg_id](fields)  # not interpret(): that would swallow and log the exception
    return wrapper.calls


def order(**changes: Any) -> OrderRecord:
    base = OrderRecord(
        order_id=7,
        perm_id=1000007,
        client_id=3,
        account="DU1234567",
        symbol="AAPL",
        action="BUY",
        quantity=10.0,
        order_type="LMT",
        limit_price=190.5,
        tif="DAY",
        outside_rth=True,
        order_ref="bot-1",
        status="Submitted",
        completed_at=AT,
        completed_status="Filled",
    )
    for key, value in changes.items():
        setattr(base, key, value)
    return base


EXECUTION = Execution(
    exec_id="0000f4ke.1.01.01",
    order_id=7,
    perm_id=1000007,
    client_id=3,
    account="DU1234567",
    symbol="AAPL",
    side="BOT",
    shares=10.0,
    price=190.25,
    time=AT,
    commission=1.25,
    order_ref="bot-1",
)
POSITION = Position(account="DU1234567", symbol="AAPL", quantity=10.0, avg_cost=180.5)


def test_exact_count_messages_have_exact_field_counts() -> None:
    assert len(encoder.position(POSITION)) == 16
    assert len(encoder.update_portfolio(POSITION, 190.0)) == 20
    assert len(encoder.commission_report(EXECUTION)) == 8
    assert len(encoder.position_multi(1, POSITION)) == 18
    assert len(encoder.managed_accounts(["DU1"])) == 3
    assert len(encoder.next_valid_id(1)) == 3


@pytest.mark.parametrize(
    ("version", "open_count", "completed_count", "exec_count"), [(157, 120, 92, 31), (178, 127, 96, 32)]
)
def test_long_messages_have_the_documented_field_counts(
    version: int, open_count: int, completed_count: int, exec_count: int
) -> None:
    assert len(encoder.open_order(version, order())) == open_count
    assert len(encoder.completed_order(version, order(status="Filled", filled=10.0))) == completed_count
    assert len(encoder.exec_details(version, -1, EXECUTION)) == exec_count


@pytest.mark.parametrize("version", VERSIONS)
def test_position_and_portfolio_decode_to_the_same_values(version: int) -> None:
    [(name, (account, contract, quantity, avg_cost))] = decode(encoder.position(POSITION), version)
    assert (name, account, contract.symbol, contract.secType, contract.conId, quantity, avg_cost) == (
        "position",
        "DU1234567",
        "AAPL",
        "STK",
        POSITION.con_id,
        10.0,
        180.5,
    )
    [(name, args)] = decode(encoder.update_portfolio(POSITION, 190.0), version)
    assert name == "updatePortfolio"
    assert args[1:] == (10.0, 190.0, 1900.0, 180.5, pytest.approx(95.0), 0.0, "DU1234567")


@pytest.mark.parametrize("version", VERSIONS)
def test_commission_report_decodes(version: int) -> None:
    [(name, (report,))] = decode(encoder.commission_report(EXECUTION), version)
    assert (name, report.execId, report.commission, report.currency, report.realizedPNL) == (
        "commissionReport",
        "0000f4ke.1.01.01",
        1.25,
        "USD",
        0.0,
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_open_order_decodes_every_field_the_harness_reads(version: int) -> None:
    [(name, (order_id, contract, ib_order, state))] = decode(encoder.open_order(version, order()), version)
    assert name == "openOrder"
    assert (order_id, contract.symbol, contract.conId) == (7, "AAPL", order().con_id)
    assert (ib_order.action, ib_order.totalQuantity, ib_order.orderType, ib_order.lmtPrice, ib_order.tif) == (
        "BUY",
        10.0,
        "LMT",
        190.5,
        "DAY",
    )
    assert (ib_order.account, ib_order.clientId, ib_order.permId, ib_order.outsideRth, ib_order.orderRef) == (
        "DU1234567",
        3,
        1000007,
        True,
        "bot-1",
    )
    assert state.status == "Submitted"


@pytest.mark.parametrize("version", VERSIONS)
def test_completed_order_decodes(version: int) -> None:
    completed = order(status="Filled", filled=10.0)
    [(name, (contract, ib_order, state))] = decode(encoder.completed_order(version, completed), version)
    assert (name, contract.symbol, ib_order.permId, ib_order.filledQuantity, state.status) == (
        "completedOrder",
        "AAPL",
        1000007,
        10.0,
        "Filled",
    )
    assert state.completedStatus == "Filled"
    assert state.completedTime.startswith("20250108 10:00:01")


@pytest.mark.parametrize("version", VERSIONS)
def test_exec_details_decodes_with_its_time_zone(version: int) -> None:
    [(name, (req_id, contract, execution))] = decode(encoder.exec_details(version, -1, EXECUTION), version)
    assert (name, req_id, contract.symbol, execution.execId, execution.side) == (
        "execDetails",
        -1,
        "AAPL",
        "0000f4ke.1.01.01",
        "BOT",
    )
    assert (execution.shares, execution.price, execution.permId, execution.clientId) == (
        10.0,
        190.25,
        1000007,
        3,
    )
    assert execution.time == AT


@pytest.mark.parametrize("version", VERSIONS)
def test_simple_messages_decode(version: int) -> None:
    now = datetime(2025, 1, 8, 15, 0, tzinfo=timezone.utc)
    cases = [
        (encoder.error(version, 7, 201, "Order rejected - reason:x"), "error"),
        (
            encoder.order_status(order(status="Filled", filled=10.0, avg_fill_price=190.25), 190.25),
            "orderStatus",
        ),
        (encoder.account_summary(4, "DU1", "NetLiquidation", "1000.00", "USD"), "accountSummary"),
        (encoder.account_summary_end(4), "accountSummaryEnd"),
        (encoder.update_account_value("NetLiquidation", "1.00", "USD", "DU1"), "updateAccountValue"),
        (encoder.update_account_time(now), "updateAccountTime"),
        (encoder.account_download_end("DU1"), "accountDownloadEnd"),
        (encoder.account_update_multi(2, "DU1", "NetLiquidation", "1.00", "USD"), "accountUpdateMulti"),
        (encoder.account_update_multi_end(2), "accountUpdateMultiEnd"),
        (encoder.position_end(), "positionEnd"),
        (encoder.open_order_end(), "openOrderEnd"),
        (encoder.exec_details_end(5), "execDetailsEnd"),
        (encoder.completed_orders_end(), "completedOrdersEnd"),
        (encoder.current_time(now), "currentTime"),
        (encoder.next_valid_id(3), "nextValidId"),
        (encoder.managed_accounts(["DU1", "DU2"]), "managedAccounts"),
        (encoder.position_multi(1, POSITION), "positionMulti"),
        (encoder.position_multi_end(1), "positionMultiEnd"),
    ]
    for fields, expected in cases:
        calls = decode(fields, version)
        assert [name for name, _ in calls] == [expected], fields
    [(_, status_args)] = decode(
        encoder.order_status(order(status="Filled", filled=10.0, avg_fill_price=190.25), 190.25), version
    )
    assert status_args[:5] == (7, "Filled", 10.0, 0.0, 190.25) and status_args[8] == 3
    [(_, error_args)] = decode(encoder.error(version, 7, 201, "Order rejected - reason:x"), version)
    assert error_args[:3] == (7, 201, "Order rejected - reason:x")
    [(_, (epoch,))] = decode(encoder.current_time(now), version)
    assert epoch == int(now.timestamp())


def test_framing_round_trip_and_partial_feeds() -> None:
    frame = pack(["15", "1", "DU1,DU2"]) + pack([9, 1, 42]) + pack([True, None, 1.5])
    reader = FrameReader()
    payloads = [p for i in range(len(frame)) for p in reader.feed(frame[i : i + 1])]
    assert [split_fields(p) for p in payloads] == [["15", "1", "DU1,DU2"], ["9", "1", "42"], ["1", "", "1.5"]]


def test_framing_rejects_garbage() -> None:
    with pytest.raises(FramingError):
        FrameReader(expect_magic=True).feed(b"GET / HTTP/1.1\r\n")
    assert parse_version_range(b"v157..178 +PACEAPI") == (157, 178, "+PACEAPI")
    assert parse_version_range(b"v176") == (176, 176, "")
    with pytest.raises(FramingError):
        parse_version_range(b"hello")


def test_shipped_worlds_load() -> None:
    paper = load_world(example_world_path("paper"))
    assert paper.account_ids == ["DU1234567"] and paper.accounts[0].cash == 1_000_000.0
    assert paper.trading_mode == "paper" and paper.session_open is regular_hours
    live = load_world(example_world_path("live"))
    assert live.account_ids[0].startswith("U") and live.trading_mode == "live"
    assert [p.symbol for p in live.positions] == ["AAPL"]


def test_regular_hours_rule() -> None:
    from harness.fakes.tws.world import NEW_YORK

    assert regular_hours(datetime(2025, 1, 8, 9, 30, tzinfo=NEW_YORK))
    assert not regular_hours(datetime(2025, 1, 8, 16, 0, tzinfo=NEW_YORK))
    assert not regular_hours(datetime(2025, 1, 11, 12, 0, tzinfo=NEW_YORK))  # a Saturday


def test_refuses_to_bind_anything_but_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeGateway(paper_world(), host="0.0.0.0")


def _hello(fake: FakeGateway, low: int, high: int) -> list[str] | None:
    with socket.create_connection(fake.address, timeout=2.0) as raw:
        raw.settimeout(2.0)
        raw.sendall(client_hello(low, high))
        reader = FrameReader()
        while True:
            data = raw.recv(4096)
            if not data:
                return None
            payloads = reader.feed(data)
            if payloads:
                return split_fields(payloads[0])


def test_version_negotiation_picks_the_highest_common_version_and_refuses_old_clients() -> None:
    with FakeGateway(paper_world()) as fake:
        assert _hello(fake, 157, 178)[0] == "178"
        assert _hello(fake, 150, 176)[0] == "176"
        assert _hello(fake, 157, 200)[0] == "178"
        assert _hello(fake, 100, 150) is None  # below our minimum: the socket is closed, nothing sent
        assert [u.reason for u in fake.unexpected][-1].endswith("refused")
    with FakeGateway(paper_world(), max_version=157) as fake:
        assert _hello(fake, 157, 178)[0] == "157"
