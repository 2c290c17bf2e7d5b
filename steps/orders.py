"""Steps for order routing, accounts and funds: each reads facts through a probe, records them, runs one check."""

from __future__ import annotations

from pytest_bdd import given, then

from harness.actions import test_order as test_orders
from harness.checks import CouldNotLook
from harness.checks import orders as checks
from harness.probes import logs, market, reconcile
from harness.probes.gateway_session import executions_since


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


@given("the bot's orders from its newest start", target_fixture="bot_log")
def bot_log(world, evidence):
    spec = world.bot_log_spec()
    if spec is None:
        raise CouldNotLook("no bot log to read: give --bot-log or --bot-dir")
    settings = world.settings
    files = logs.find_log_files(spec, base_dir=world.bot_dir)
    block = logs.newest_startup_block(files, settings.log_startup, tz=world.log_tz()) if files else None
    if block is None:
        raise CouldNotLook(f"no startup block found in {spec}: has the bot been started since the switch?")
    found = reconcile.parse_bot_orders(block.lines)
    # Only says whether the bot CLAIMS a connection (a missing claim can fail "the bot is connected"); it never
    # makes that check pass.
    established = next((line for line in block.lines
                        if "gateway connection established" in logs.message_text(line.text).lower()), None)
    zone = logs.log_zone_text(settings.bot_log_tz, settings.sources.get("bot_log_tz"))
    facts = {"startup": f"{block.path}:{block.first_lineno}", "started_at": block.started_at, "orders": found,
             "gateway connection established": established.where if established else None,
             "log times read as": zone, "lines capped": block.lines_capped}
    evidence.record("bot orders (newest startup block)", facts)
    return {"since": block.started_at, "orders": found, "where": facts["startup"], "established": established,
            "zone": zone}


def _snapshot(world, session_facts, evidence, name: str, since=None):
    """The session's facts of a gateway (read once per run), executions narrowed to `since`."""
    if session_facts is None:
        raise CouldNotLook(world.why_no_gateway)
    facts = executions_since(session_facts, since)
    evidence.record(name, facts)
    return facts


@given("the paper gateway as the harness sees it", target_fixture="paper")
def paper(world, paper_gateway, evidence):
    return _snapshot(world, paper_gateway, evidence, "paper gateway")


@given("the paper gateway since the bot's newest start", target_fixture="paper")
def paper_since_start(world, paper_gateway, bot_log, evidence):
    return _snapshot(world, paper_gateway, evidence, "paper gateway", bot_log["since"])


@given("the live gateway as the harness sees it", target_fixture="live")
def live(live_gateway, evidence):
    # Every execution the live gateway returned: the check keeps those since the start and the bot's own.
    if live_gateway is None:
        return None
    evidence.record("live gateway (read-only)", live_gateway)
    return live_gateway


@then("the gateway answers")
def gateway_answers(world, paper, evidence) -> None:
    evidence.note(checks.check_gateway_answers(paper, world.why_no_gateway))


@then("every managed account is a paper account")
def accounts_paper(world, paper, evidence) -> None:
    facts = checks.require_readable(paper, world.why_no_gateway)
    evidence.note(checks.check_accounts_paper(facts, paper_trading=world.settings.phase != "preflight"))


@then("the account summary shows cash, buying power and net liquidation")
def account_summary(world, paper, evidence) -> None:
    for note in checks.check_account_summary(checks.require_readable(paper, world.why_no_gateway)):
        evidence.note(note)


@then("the paper account has no open position and no open order")
def no_positions(world, paper, evidence) -> None:
    facts = checks.require_readable(paper, world.why_no_gateway)
    note = checks.check_no_positions_or_orders(facts, world.settings.declared_positions)
    if note:
        evidence.note(note)


@then("the gateway has seen the bot's client id since its newest start")
def bot_connected(world, env, paper, bot_log, evidence) -> None:
    line = bot_log["established"]
    ids = [order.order_id for order in bot_log["orders"].orders]
    evidence.note(checks.check_bot_connected(
        _int(env.values.get("IBKR_CLIENT_ID")), paper, world.why_no_gateway, bot_log["since"], ids,
        line.where if line is not None else None, bot_log["where"], bot_log["zone"]))


@then("every logged order is in the paper account and no unknown order is")
def orders_in_paper(world, env, paper, bot_log, evidence) -> None:
    facts = checks.require_readable(paper, world.why_no_gateway)
    client_id = _int(env.values.get("IBKR_CLIENT_ID"))
    if client_id is None:
        raise CouldNotLook("IBKR_CLIENT_ID is not an integer in the bot's .env: the bot's orders cannot be told")
    found = bot_log["orders"]
    result = reconcile.reconcile(found.orders, reconcile.broker_orders(facts), client_id, found.rejections)
    evidence.record("reconciliation", result)
    for note in checks.check_orders_in_paper(found, result, facts):
        evidence.note(note)


@then("the live account has no open order and no execution since the bot started")
def no_live_orders(live, env, bot_log, evidence) -> None:
    refs = sorted({o.ref for o in bot_log["orders"].orders})
    evidence.note(checks.check_no_live_orders(live, bot_log["since"], _int(env.values.get("IBKR_CLIENT_ID")), refs))


@then("rejected orders are listed and fail unless rejections are expected")
def rejections(world, bot_log, evidence) -> None:
    for note in checks.check_rejections(bot_log["orders"], world.settings.expect_rejections):
        evidence.note(note)


@then("orders placed outside regular hours are reported pending until the open")
def pending_outside_hours(world, env, paper, bot_log, evidence) -> None:
    facts = checks.require_readable(paper, world.why_no_gateway)
    client_id = _int(env.values.get("IBKR_CLIENT_ID")) or 0
    found = bot_log["orders"]
    result = reconcile.reconcile(found.orders, reconcile.broker_orders(facts), client_id, found.rejections)
    for note in checks.check_pending_outside_hours(result, market.session_at, facts.observed_at):
        evidence.note(note)


@then("positions and orders are within MAX_POSITION_PCT of net liquidation")
def position_sizes(world, env, paper, bot_log, evidence) -> None:
    facts = checks.require_readable(paper, world.why_no_gateway)
    for note in checks.check_position_sizes(env.values.get("MAX_POSITION_PCT"), facts, bot_log["orders"]):
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
