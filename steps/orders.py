"""Steps for the order-routing feature (Step 4): each reads facts through a probe, records them, runs one check."""

from __future__ import annotations

import pytest
from harness.steps.common import gateway_facts
from pytest_bdd import given, then

from harness.actions import test_order as test_orders
from harness.checks import orders as checks
from harness.core import names
from harness.probes import bot_log as bot_logs
from harness.probes import market


@given("the bot's orders from its newest start", target_fixture="bot_log")
def bot_log(world, newest_start, evidence):
    checks.require_started(newest_start)
    switched, _basis = world.switch_search_start()
    activity = bot_logs.bot_activity(newest_start, switched, world.log_tz())
    evidence.record("bot orders (newest startup block)", {
        "startup": activity.where, "started_at": activity.since, "orders": activity.orders,
        "gateway connection established": activity.connected_claim.where if activity.connected_claim else None,
        "log times read as": newest_start.zone, "lines capped": newest_start.block.lines_capped,
        "logged by earlier starts since the switch": activity.earlier})
    return activity


@given("the paper gateway since the bot's newest start", target_fixture="paper")
def paper_since_start(world, paper_gateway, bot_log, evidence):
    return gateway_facts(world, paper_gateway, evidence, names.PAPER_GATEWAY, bot_log.since)


@given("the live gateway as the harness sees it", target_fixture="live")
def live(live_gateway, evidence):
    # Every execution the live gateway returned: the check keeps those since the start and the bot's own.
    if live_gateway is None:
        return None
    evidence.record(names.LIVE_GATEWAY, live_gateway)
    return live_gateway


@pytest.fixture
def reconciliation(world, env, paper, bot_log, evidence):
    """The bot's logged orders against the paper account, once per scenario that needs it."""
    result = checks.reconcile_with_paper(bot_log.orders, paper, world.why_no_gateway, env.int_value("IBKR_CLIENT_ID"),
                                         bot_log.earlier)
    evidence.record("reconciliation", result)
    return result


@then("the gateway has seen the bot's client id since its newest start")
def bot_connected(world, env, paper, bot_log, evidence) -> None:
    evidence.note(checks.check_bot_connected_since_start(bot_log, env.int_value("IBKR_CLIENT_ID"), paper,
                                                         world.why_no_gateway))


@then("every logged order is in the paper account and no unknown order is")
def orders_in_paper(paper, bot_log, reconciliation, evidence) -> None:
    for note in checks.check_orders_in_paper(bot_log.orders, reconciliation, paper):
        evidence.note(note)


@then("the live account has no open order and no execution since the bot started")
def no_live_orders(live, env, bot_log, evidence) -> None:
    refs = sorted({o.ref for o in bot_log.orders.orders})
    evidence.note(checks.check_no_live_orders(live, bot_log.since, env.int_value("IBKR_CLIENT_ID"), refs))


@then("rejected orders are listed and fail unless rejections are expected")
def rejections(world, bot_log, evidence) -> None:
    for note in checks.check_rejections(bot_log.orders, world.settings.expect_rejections):
        evidence.note(note)


@then("orders placed outside regular hours are reported pending until the open")
def pending_outside_hours(paper, reconciliation, evidence) -> None:
    for note in checks.check_pending_outside_hours(reconciliation, market.session_at, paper.observed_at):
        evidence.note(note)


@then("positions and orders are within MAX_POSITION_PCT of net liquidation")
def position_sizes(world, env, paper, bot_log, evidence) -> None:
    facts = checks.require_readable(paper, world.why_no_gateway)
    for note in checks.check_position_sizes(env.values.get("MAX_POSITION_PCT"), facts, bot_log.orders):
        evidence.note(note)


@then("the daily loss is within MAX_DAILY_LOSS_PCT")
def daily_loss(world, env, paper, evidence) -> None:
    facts = checks.require_readable(paper, world.why_no_gateway)
    for note in checks.check_daily_loss(env.values.get("MAX_DAILY_LOSS_PCT"), facts):
        evidence.note(note)


@then("a paper test order is placed and cancelled only after proving paper")
def paper_test_order(world, env, paper, evidence) -> None:
    settings = world.settings
    if not settings.place_test_order:
        checks.check_test_order(False, None)
    facts = checks.require_readable(paper, world.why_no_gateway)
    result = test_orders.place_test_order(facts.host, facts.port, settings.client_id + 1, env.values,
                                          facts.accounts, timeout=settings.timeout)
    evidence.record("paper test order", result)
    evidence.note(checks.check_test_order(True, result))
