"""Each faulty world of the order-routing edge cases fails (or, when the harness cannot look, skips) exactly the
right scenarios of features/03_order_routing.feature and the gateway part of features/00_preflight.feature;
the clean world is green. These run the operator's own command against the embedded world."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.runner import Run, run_features

ROUTING = ("features/03_order_routing.feature",)
PREFLIGHT = ("features/00_preflight.feature",)

PAPER_ONLY = "test_the_gateway_is_logged_into_paper_accounts_only"
CONNECTED = "test_the_bot_is_connected_to_the_gateway"
RECONCILED = "test_every_order_the_bot_logged_is_in_the_paper_account"
NO_LIVE = "test_no_order_reached_the_live_account"
FUNDS = "test_no_order_was_rejected_for_insufficient_funds"
PENDING = "test_orders_placed_outside_regular_hours_are_pending_until_the_open"
SIZES = "test_positions_and_orders_are_within_max_position_pct"
DAILY_LOSS = "test_the_daily_loss_is_within_max_daily_loss_pct"
TEST_ORDER = "test_a_paper_test_order_is_placed_and_cancelled"
ROUTING_ALL = {PAPER_ONLY, CONNECTED, RECONCILED, NO_LIVE, FUNDS, PENDING, SIZES, DAILY_LOSS, TEST_ORDER}
ALWAYS_SKIPPED = {TEST_ORDER}  # the test order is opt-in

ANSWERS = "test_the_paper_gateway_answers_on_the_configured_port"
PRE_PAPER = "test_every_account_on_the_paper_gateway_is_a_paper_account"
SUMMARY = "test_the_paper_account_summary_answers"
NO_POSITIONS = "test_zero_open_positions_and_zero_open_orders_before_the_switch"
PREFLIGHT_GATEWAY = {ANSWERS, PRE_PAPER, SUMMARY, NO_POSITIONS}


def run(tmp_path: Path, paths, *args: str, **env: str) -> Run:
    result = run_features(tmp_path, "--evidence-dir", str(tmp_path / "evidence"), *args, env=env, paths=paths)
    assert result.outcomes, result.output[-3000:]
    return result


def mine(result: Run, names: set[str]) -> tuple[set[str], set[str], set[str]]:
    return result.failed() & names, result.skipped() & names, result.passed() & names


def notes(tmp_path: Path, scenario_test: str) -> list[str]:
    rows = [json.loads(line) for line in (tmp_path / "evidence" / "evidence.jsonl").read_text().splitlines()]
    return [r["facts"] for row in rows if row["nodeid"].endswith(scenario_test)
            for r in row["records"] if r["name"] == "note"]


def test_clean_world_is_green(tmp_path):
    result = run(tmp_path, ROUTING)
    failed, skipped, passed = mine(result, ROUTING_ALL)
    assert failed == set(), result.output[-3000:]
    assert skipped == ALWAYS_SKIPPED
    assert passed == ROUTING_ALL - ALWAYS_SKIPPED
    assert "operator to confirm" in result.outcomes[TEST_ORDER].message
    [loss_note] = notes(tmp_path, DAILY_LOSS)
    assert loss_note.startswith("DU****567: daily P&L +0.00, no loss") and "MAX_DAILY_LOSS_PCT=2%" in loss_note
    assert any("U****321" in n and "no open order" in n for n in notes(tmp_path, NO_LIVE))
    statuses = notes(tmp_path, RECONCILED)
    assert len(statuses) == 3 and all(("submitted" in s or "pending" in s or "filled" in s) for s in statuses)
    assert "DU1234567" not in (tmp_path / "evidence" / "evidence.jsonl").read_text()


def test_place_test_order_in_the_clean_world(tmp_path):
    result = run(tmp_path, ROUTING, "--place-test-order")
    assert result.outcomes[TEST_ORDER].outcome == "passed", result.outcomes[TEST_ORDER].message
    assert any("cancelled" in n and "harness-test-order" in n for n in notes(tmp_path, TEST_ORDER))
    assert result.failed() & ROUTING_ALL == set()  # the test order (client id 918) is not "unknown" to the bot


def test_daily_loss_over_the_limit_fails_only_that_scenario(tmp_path):
    result = run(tmp_path, ROUTING, HARNESS_EMBEDDED_FAULTS="daily-loss")
    failed, skipped, passed = mine(result, ROUTING_ALL)
    assert failed == {DAILY_LOSS}, result.output[-3000:]
    assert skipped == ALWAYS_SKIPPED and passed == ROUTING_ALL - ALWAYS_SKIPPED - {DAILY_LOSS}
    message = result.outcomes[DAILY_LOSS].message
    assert "Daily loss over MAX_DAILY_LOSS_PCT" in message
    assert "DU****567: daily loss 50,000.00 is 5.00% of net liquidation" in message
    assert "MAX_DAILY_LOSS_PCT=2%" in message and "DU1234567" not in message


def test_gateway_on_a_live_account_is_critical(tmp_path):
    result = run(tmp_path, ROUTING, "--place-test-order", HARNESS_EMBEDDED_FAULTS="gateway-live-account")
    failed, _, _ = mine(result, ROUTING_ALL)
    assert failed == {PAPER_ONLY, RECONCILED, TEST_ORDER}, result.output[-3000:]
    for name in (PAPER_ONLY, RECONCILED):
        message = result.outcomes[name].message
        assert "Wrong account, halt the bot" in message and "CRITICAL" in message and "U****678" in message
        assert "U2345678" not in message
    assert "paper not proven" in result.outcomes[TEST_ORDER].message


def test_low_buying_power_lists_the_201_rejections(tmp_path):
    result = run(tmp_path, ROUTING, HARNESS_EMBEDDED_FAULTS="low-buying-power")
    failed, _, _ = mine(result, ROUTING_ALL)
    # 1 share at 1.00 is 200% of a 0.50 net liquidation: the size check is right to fail as well.
    assert failed == {FUNDS, SIZES}, result.output[-3000:]
    message = result.outcomes[FUNDS].message
    assert "3 orders rejected (insufficient funds" in message and "error 201" in message
    assert "reset the paper account's virtual capital" in message
    assert all(f"id={n}" in message for n in (3, 4, 5))


def test_low_buying_power_passes_with_expect_rejections(tmp_path):
    result = run(tmp_path, ROUTING, "--expect-rejections", HARNESS_EMBEDDED_FAULTS="low-buying-power")
    failed, _, _ = mine(result, ROUTING_ALL)
    assert failed == {SIZES}, result.output[-3000:]
    assert result.outcomes[FUNDS].outcome == "passed"
    assert any("expected (--expect-rejections)" in n for n in notes(tmp_path, FUNDS))


def test_live_account_activity_is_critical(tmp_path):
    result = run(tmp_path, ROUTING, HARNESS_EMBEDDED_FAULTS="live-account-activity")
    failed, _, _ = mine(result, ROUTING_ALL)
    assert failed == {NO_LIVE}, result.output[-3000:]
    message = result.outcomes[NO_LIVE].message
    assert "ORDERS IN THE LIVE ACCOUNT" in message and "CRITICAL" in message and "U****321" in message


def test_market_closed_orders_are_pending_and_green(tmp_path):
    result = run(tmp_path, ROUTING, HARNESS_EMBEDDED_FAULTS="market-closed")
    failed, _, _ = mine(result, ROUTING_ALL)
    assert failed == set(), result.output[-3000:]
    assert result.outcomes[PENDING].outcome == "passed"
    pending = [n for n in notes(tmp_path, PENDING) if "pending" in n]
    assert len(pending) == 3, notes(tmp_path, PENDING)  # expected-pending, or still pending in session: reported


def test_gateway_down_is_never_green(tmp_path):
    result = run(tmp_path, ROUTING, HARNESS_EMBEDDED_FAULTS="gateway-down")
    failed, skipped, passed = mine(result, ROUTING_ALL)
    assert failed == {CONNECTED}, result.output[-3000:]
    assert passed == {NO_LIVE}  # the live gateway is up and clean
    assert skipped == ROUTING_ALL - {CONNECTED, NO_LIVE}
    assert "connection refused" in result.outcomes[PAPER_ONLY].message


def test_gateway_down_in_preflight(tmp_path):
    result = run(tmp_path, PREFLIGHT, "--phase", "preflight", HARNESS_EMBEDDED_FAULTS="gateway-down")
    failed, skipped, _ = mine(result, PREFLIGHT_GATEWAY)
    assert failed == {ANSWERS}, result.output[-3000:]
    assert "gateway down at" in result.outcomes[ANSWERS].message
    assert skipped == PREFLIGHT_GATEWAY - {ANSWERS}


@pytest.mark.parametrize(("faults", "failing"), [("", set()), ("open-positions", {NO_POSITIONS}),
                                                   ("gateway-live-account", {PRE_PAPER})])
def test_preflight_gateway_worlds(tmp_path, faults, failing):
    result = run(tmp_path, PREFLIGHT, "--phase", "preflight", HARNESS_EMBEDDED_FAULTS=faults)
    failed, _, passed = mine(result, PREFLIGHT_GATEWAY)
    assert failed == failing, result.output[-3000:]
    assert passed == PREFLIGHT_GATEWAY - failing
    if NO_POSITIONS in failing:
        assert "position 10 SPY" in result.outcomes[NO_POSITIONS].message


@pytest.mark.parametrize(("declared", "failing"), [("SPY:10", set()), ("SPY:5", {NO_POSITIONS}),
                                                   ("SPY:10;AAPL:3", {NO_POSITIONS})])
def test_declared_positions_must_be_held_exactly(tmp_path, declared, failing):
    result = run(tmp_path, PREFLIGHT, "--phase", "preflight", "--declared-positions", declared,
                 HARNESS_EMBEDDED_FAULTS="open-positions")
    failed, _, _ = mine(result, PREFLIGHT_GATEWAY)
    assert failed == failing, result.output[-3000:]


def test_logged_order_missing_from_the_paper_account_fails(tmp_path):
    result = run(tmp_path, ROUTING, BOT_FAULTS="phantom-order")
    failed, _, _ = mine(result, ROUTING_ALL)
    assert failed == {RECONCILED}, result.output[-3000:]
    assert "DIA" in result.outcomes[RECONCILED].message


def test_unknown_order_from_the_bots_client_id_fails(tmp_path):
    result = run(tmp_path, ROUTING, HARNESS_EMBEDDED_FAULTS="unknown-bot-order")
    failed, _, _ = mine(result, ROUTING_ALL)
    assert RECONCILED in failed, result.output[-3000:]
    assert "TSLA" in result.outcomes[RECONCILED].message


def test_oversized_orders_fail_sizes_and_funds(tmp_path):
    result = run(tmp_path, ROUTING, BOT_FAULTS="oversized-orders")
    failed, _, _ = mine(result, ROUTING_ALL)
    assert failed == {FUNDS, SIZES}, result.output[-3000:]
    assert "MAX_POSITION_PCT" in result.outcomes[SIZES].message
    assert "100000 SPY" in result.outcomes[SIZES].message


def test_no_orders_is_never_green_for_reconciliation(tmp_path):
    result = run(tmp_path, ROUTING, BOT_FAULTS="no-orders")
    failed, skipped, _ = mine(result, ROUTING_ALL)
    assert failed == set()
    assert {RECONCILED, FUNDS, PENDING} <= skipped
    assert "test gameplan" in result.outcomes[RECONCILED].message


# -- "The bot is connected to the gateway": only the gateway can say so, never the bot's log line alone --------
def _old_bot_dir(tmp_path: Path):
    """A bot directory whose newest start was two days ago: it says it connected and submitted order id 3."""
    from datetime import datetime, timedelta

    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(tmp_path / "bot", git=False)
    at = datetime.now() - timedelta(days=2)
    lines = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at localhost:4002",
             "Gateway connection established", "Paper trading mode ACTIVE", "Bot initialized successfully",
             "Order submitted: id=3 ref=strategy-A BUY 1 SPY @ 1.00"]
    bot.log_file.write_text("".join(f"{at:%Y-%m-%d %H:%M:%S},000 INFO bot: {text}\n" for text in lines),
                            encoding="utf-8")
    return bot


def _run_against(tmp_path: Path, bot, gateway: str) -> Run:
    return run(tmp_path, ROUTING, "--live-gateway", "--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
               "--gateway", gateway)


def test_bot_connected_needs_the_gateway_when_the_bot_placed_nothing(tmp_path):
    """The stand-in bot connects and logs it, but runs no gameplan: nothing at the gateway shows its client id."""
    result = run(tmp_path, ROUTING, BOT_FAULTS="no-orders")
    assert result.outcomes[CONNECTED].outcome == "skipped", result.outcomes[CONNECTED]
    message = result.outcomes[CONNECTED].message
    assert "operator to confirm" in message and "client id 1" in message and "not proof" in message


def test_bot_connected_from_a_two_day_old_log_with_the_gateway_down_is_not_green(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run_against(tmp_path, _old_bot_dir(tmp_path), f"127.0.0.1:{port}")
    assert result.outcomes[CONNECTED].outcome == "skipped", result.outcomes[CONNECTED]
    assert "operator to confirm" in result.outcomes[CONNECTED].message


def test_bot_connected_only_when_the_gateway_holds_the_bots_order_since_its_start(tmp_path):
    """A gateway that is up but never saw the bot: "operator to confirm". Once it holds the order the bot logged
    (client id 1, order id 3), the gateway itself shows the bot was connected after its start: pass."""
    from harness.fakes.tws import FakeGateway, OrderRecord, example_world_path, load_world

    bot = _old_bot_dir(tmp_path)
    with FakeGateway(load_world(example_world_path("paper"))) as gateway:
        host, port = gateway.address
        (tmp_path / "unseen").mkdir()
        unseen = _run_against(tmp_path / "unseen", bot, f"{host}:{port}")
        assert unseen.outcomes[CONNECTED].outcome == "skipped", unseen.outcomes[CONNECTED]
        assert "shows no order or execution from client id 1" in unseen.outcomes[CONNECTED].message

        gateway.update_world(lambda world: world.open_orders.append(OrderRecord(
            order_id=3, perm_id=7_000_003, client_id=1, account=world.accounts[0].account_id, symbol="SPY",
            action="BUY", quantity=1, limit_price=1.0, order_ref="strategy-A")))
        (tmp_path / "seen").mkdir()
        seen = _run_against(tmp_path / "seen", bot, f"{host}:{port}")
    assert seen.outcomes[CONNECTED].outcome == "passed", seen.outcomes[CONNECTED]
    [note] = notes(tmp_path / "seen", CONNECTED)
    assert "client id 1" in note and "open order id 3" in note
