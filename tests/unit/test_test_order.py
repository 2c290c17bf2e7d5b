"""harness.actions.test_order: the proof of paper refuses unless all three hold, and the fake LIVE gateway never
receives an order from the harness whatever the configuration (real ib_async against fakes on loopback)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.actions.test_order import ORDER_REF, place_test_order, prove_paper
from harness.fakes.tws import FakeGateway, example_world_path, load_world

PAPER_IDS = ["DU1234567", "DF123456", "DI7654321", "du7654321"]
LIVE_IDS = ["U7654321", "F1234567", "I2345678", "U2345678"]
ODD_IDS = ["X1234567", "", "DEMO"]
PORTS = [4001, 4002, 7496, 7497, 4003, 0]
FLAGS = [None, "", "true", "TRUE", " true ", "false", "False", "ture", "1", "yes"]


def _expected(accounts, port, paper, dry) -> bool:
    return (bool(accounts) and all(a.upper().startswith(("DU", "DF", "DI")) for a in accounts)
            and port in (4002, 7497) and (paper or "").strip().lower() == "true"
            and (dry or "").strip().lower() == "false")


@settings(max_examples=400, deadline=None)
@given(accounts=st.lists(st.sampled_from(PAPER_IDS + LIVE_IDS + ODD_IDS), max_size=4),
       port=st.sampled_from(PORTS), paper=st.sampled_from(FLAGS), dry=st.sampled_from(FLAGS))
def test_proof_refuses_unless_all_three_hold(accounts, port, paper, dry):
    env = {k: v for k, v in (("PAPER_TRADING", paper), ("DRY_RUN", dry)) if v is not None}
    ok, reason = prove_paper(accounts, port, env)
    assert ok is _expected(accounts, port, paper, dry), reason
    assert reason
    for account in accounts:
        if len(account) > 6:
            assert account not in reason  # account ids are masked


def _gateways(world_name: str, ports=(4002, 4001)):
    """Fake gateways of one world on the real paper/live ports of a loopback address of their own."""
    for _ in range(8):
        host = f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(1, 254)}"
        started = []
        try:
            for port in ports:
                started.append(FakeGateway(load_world(example_world_path(world_name)), host=host, port=port).start())
            return host, started
        except OSError:
            for gateway in started:
                gateway.stop()
    pytest.skip("no free loopback address for ports 4002/4001")


@pytest.fixture(scope="module")
def live_fakes():
    """The LIVE world (U7654321), made writable so a harness order would be accepted and recorded."""
    host, gateways = _gateways("live")
    for gateway in gateways:
        gateway.set_read_only(False)
    yield host, gateways
    for gateway in gateways:
        gateway.stop()


PAPER_ENV = {"PAPER_TRADING": "true", "DRY_RUN": "false"}
CONFIGURATIONS = [  # (env, accounts the read-only probe claimed): the last ones lie, as stale facts would
    (PAPER_ENV, ["U7654321"]),
    ({"PAPER_TRADING": "false", "DRY_RUN": "false"}, ["U7654321"]),
    ({"PAPER_TRADING": "true", "DRY_RUN": "true"}, ["DU1234567"]),
    ({}, ["DU1234567"]),
    (PAPER_ENV, []),
    (PAPER_ENV, ["DU1234567"]),
    (PAPER_ENV, ["DF123456", "DI7654321"]),
]


@pytest.mark.parametrize("port_index", [0, 1], ids=["on-4002", "on-4001"])
@pytest.mark.parametrize(("env", "claimed"), CONFIGURATIONS)
def test_the_live_gateway_never_receives_an_order(live_fakes, port_index, env, claimed):
    host, gateways = live_fakes
    gateway = gateways[port_index]
    result = place_test_order(host, gateway.port, 918, env, claimed, timeout=3.0)
    assert not result.placed
    assert result.refused or result.problem
    assert gateway.orders_received == []
    assert all(g.orders_received == [] for g in gateways)


def test_on_a_paper_gateway_the_order_is_placed_and_cancelled():
    host, (gateway,) = _gateways("paper", ports=(4002,))
    try:
        result = place_test_order(host, 4002, 918, PAPER_ENV, ["DU1234567"], timeout=5.0)
        assert result.ok, result
        assert result.cancelled and "Cancelled" in result.statuses and result.account == "DU****567"
        (received,) = gateway.orders_received
        assert (received.client_id, received.symbol, received.action, received.quantity, received.limit_price,
                received.order_ref, received.tif) == (918, "SPY", "BUY", 1, 1.0, ORDER_REF, "DAY")
        assert received.outcome == "Cancelled"
        assert gateway.world.open_orders == []
    finally:
        gateway.stop()


def test_refused_before_connecting_when_the_port_is_live():
    result = place_test_order("127.0.0.1", 4001, 918, PAPER_ENV, ["DU1234567"], timeout=1.0)
    assert result.refused and "port 4001" in result.refused and not result.placed


def test_unreachable_gateway_is_a_problem_not_a_hang():
    host, (gateway,) = _gateways("paper", ports=(7497,))
    gateway.stop()
    result = place_test_order(host, 7497, 918, PAPER_ENV, ["DU1234567"], timeout=1.0)
    assert not result.placed and result.problem and "cannot connect" in result.problem
