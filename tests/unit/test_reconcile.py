"""harness.probes.reconcile: parsing the bot's order lines and reconciling them with the account (pure, no I/O)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from harness.checks import CheckFailed, CouldNotLook
from harness.checks import orders as checks
from harness.probes.gateway import (
    AccountFunds,
    AccountPnL,
    CompletedOrderFact,
    ExecutionFact,
    GatewayFacts,
    OrderFact,
)
from harness.probes.reconcile import (
    ORDER_SUBMITTED,
    BrokerOrder,
    broker_orders,
    parse_bot_orders,
    reconcile,
)

LOG = [
    "2026-11-25 14:27:20,932 INFO bot: Order submitted: id=3 ref=strategy-A BUY 1 SPY @ 1.00",
    "2026-11-25 14:27:20,940 INFO bot: Order submitted: id=4 ref=strategy-A BUY 1 QQQ @ 1.00",
    "2026-11-25 14:27:20,950 INFO bot: Order submitted: id=5 ref=strategy-B SELL 2 IWM @ 210.50",
    "2026-11-25 14:27:21,950 INFO bot: Order status: id=3 PreSubmitted",
    "2026-11-25 14:27:21,951 INFO bot: Order status: id=5 Cancelled",
    "2026-11-25 14:27:21,952 INFO bot: Order rejected: id=5 code=201 reason=Order rejected - reason:YOUR ORDER IS "
    "NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR BUYING POWER OF [0.50 USD] MUST EXCEED ...",
    "2026-11-25 14:27:22,000 INFO bot: Gameplan complete: 3 orders submitted",
]


def order(order_id, symbol, action="BUY", qty=1.0, status="Submitted", client_id=1, ref="strategy-A",
          account="DU1234567") -> OrderFact:
    return OrderFact(order_id=order_id, perm_id=1000 + order_id, client_id=client_id, account=account, symbol=symbol,
                     action=action, quantity=qty, order_type="LMT", limit_price=1.0, order_ref=ref, status=status)


def test_the_order_line_pattern_has_named_groups():
    found = ORDER_SUBMITTED.search(LOG[2])
    assert found.groupdict() == {"order_id": "5", "ref": "strategy-B", "side": "SELL", "quantity": "2",
                                 "symbol": "IWM", "price": "210.50"}
    assert ORDER_SUBMITTED.search("Order submitted: id=9 ref= BUY 3 AAPL")["price"] is None


def test_parse_orders_rejections_and_statuses():
    parsed = parse_bot_orders(LOG)
    assert [(o.order_id, o.side, o.quantity, o.symbol, o.price) for o in parsed.orders] == [
        (3, "BUY", 1.0, "SPY", 1.0), (4, "BUY", 1.0, "QQQ", 1.0), (5, "SELL", 2.0, "IWM", 210.5)]
    assert parsed.status_of(3) == "PreSubmitted" and parsed.status_of(4) is None
    (rejection,) = parsed.rejections
    assert rejection.order_id == 5 and rejection.code == 201 and rejection.insufficient_funds


def test_everything_matched_with_statuses():
    parsed = parse_bot_orders(LOG)
    facts = GatewayFacts(open_orders=(order(3, "SPY", status="PreSubmitted"), order(4, "QQQ")))
    result = reconcile(parsed.orders, broker_orders(facts), 1, parsed.rejections)
    assert result.ok
    assert [(m.logged.order_id, m.status) for m in result.matched] == [(3, "pending"), (4, "submitted"),
                                                                       (5, "rejected")]
    assert "BUYING POWER" in result.rejected[0].reason


def test_missing_unknown_and_mismatched():
    parsed = parse_bot_orders(LOG[:2])
    facts = GatewayFacts(open_orders=(order(3, "SPY", qty=5), order(7, "AAPL"), order(8, "MSFT", client_id=2)))
    result = reconcile(parsed.orders, broker_orders(facts), 1)
    assert [o.order_id for o in result.missing] == [4]
    assert [r.order_id for r in result.unknown] == [7]  # client 2's order is not the bot's
    (mismatch,) = result.mismatched
    assert mismatch.fields == (("quantity", "1", "5"),)
    with pytest.raises(CheckFailed, match=r"not in the account.*differ.*did not log"):
        checks.check_orders_in_paper(parsed, result, facts)


def test_executions_and_completed_orders_match():
    parsed = parse_bot_orders(LOG[:3])
    facts = GatewayFacts(
        executions=(ExecutionFact(exec_id="a", order_id=3, perm_id=1003, client_id=1, symbol="SPY", side="BOT",
                                  shares=1.0, order_ref="strategy-A"),),
        completed_orders=(CompletedOrderFact(perm_id=1003, symbol="SPY", action="BUY", quantity=1, status="Filled",
                                             order_ref="strategy-A"),
                          CompletedOrderFact(perm_id=1004, symbol="QQQ", action="BUY", quantity=1,
                                             status="Cancelled", order_ref="strategy-A"),
                          CompletedOrderFact(perm_id=1005, symbol="IWM", action="SELL", quantity=2, status="Filled",
                                             order_ref="strategy-B")),
    )
    result = reconcile(parsed.orders, broker_orders(facts), 1)
    assert result.ok
    assert [(m.status, m.matched_by) for m in result.matched] == [
        ("filled", "client id + order id"), ("cancelled", "order ref"), ("filled", "order ref")]


def test_orders_in_a_live_account_are_critical():
    parsed = parse_bot_orders(LOG[:1])
    facts = GatewayFacts(open_orders=(order(3, "SPY", account="U2345678"),))
    result = reconcile(parsed.orders, broker_orders(facts), 1)
    with pytest.raises(CheckFailed) as failure:
        checks.check_orders_in_paper(parsed, result, facts)
    assert failure.value.critical and "U****678" in str(failure.value) and "U2345678" not in str(failure.value)


def test_no_logged_orders_could_not_look():
    parsed = parse_bot_orders([])
    with pytest.raises(CouldNotLook):
        checks.check_orders_in_paper(parsed, reconcile((), (), 1), GatewayFacts())


def test_rejections_fail_unless_expected():
    parsed = parse_bot_orders(LOG)
    with pytest.raises(CheckFailed, match=r"1 orders rejected \(insufficient funds: id=5.*virtual capital"):
        checks.check_rejections(parsed, expect_rejections=False)
    assert "expected" in checks.check_rejections(parsed, expect_rejections=True)[0]


def test_live_account_checks():
    since = datetime(2026, 11, 25, 14, 0, tzinfo=timezone.utc)
    with pytest.raises(CouldNotLook, match="live-gateway-port"):
        checks.check_no_live_orders(None, since)
    clean = GatewayFacts(host="h", port=4001, handshake_ok=True, accounts=("U7654321",))
    assert "no open order" in checks.check_no_live_orders(clean, since, 1, ["strategy-A"])
    busy = GatewayFacts(host="h", port=4001, handshake_ok=True, accounts=("U7654321",),
                        completed_orders=(CompletedOrderFact(symbol="SPY", order_ref="strategy-A"),))
    with pytest.raises(CheckFailed) as failure:
        checks.check_no_live_orders(busy, since, 1, ["strategy-A"])
    assert failure.value.critical
    paper_given_as_live = GatewayFacts(host="h", port=4001, handshake_ok=True, accounts=("DU1234567",))
    with pytest.raises(CouldNotLook, match=r"logged into DU\*\*\*\*567, not a live"):
        checks.check_no_live_orders(paper_given_as_live, since, 1, ["strategy-A"])


def pnl_facts(*pnls: AccountPnL, nlv: float | None = 1_000_000.0) -> GatewayFacts:
    accounts = tuple(p.account for p in pnls) or ("DU1234567",)
    return GatewayFacts(host="h", port=4002, handshake_ok=True, accounts=accounts, pnl=pnls,
                        account_summary=tuple(AccountFunds(a, "USD", net_liquidation=nlv) for a in accounts))


def test_daily_loss_within_the_limit_passes_per_account():
    notes = checks.check_daily_loss("2.0", pnl_facts(AccountPnL("DU1234567", -100.0), AccountPnL("DU7654321", 50.0)))
    assert notes[0] == ("DU****567: daily loss 100.00 is 0.01% of net liquidation 1,000,000.00 "
                        "(limit MAX_DAILY_LOSS_PCT=2% = 20,000.00)")
    assert notes[1].startswith("DU****321: daily P&L +50.00, no loss")
    assert "limit" in checks.check_daily_loss("2.0", pnl_facts(AccountPnL("DU1234567", -20_000.0)))[0]  # at the limit


def test_daily_loss_over_the_limit_fails_naming_account_loss_limit_and_percentage():
    facts = pnl_facts(AccountPnL("DU1234567", -50_000.0), AccountPnL("DU7654321", None, problem="timed out"))
    with pytest.raises(CheckFailed, match="Daily loss over MAX_DAILY_LOSS_PCT") as failure:
        checks.check_daily_loss("2.0", facts)
    message = str(failure.value)
    assert "DU****567: daily loss 50,000.00 is 5.00% of net liquidation 1,000,000.00" in message
    assert "MAX_DAILY_LOSS_PCT=2%" in message and "DU1234567" not in message


def test_daily_loss_could_not_look_only_when_pnl_or_net_liquidation_is_unread():
    with pytest.raises(CouldNotLook, match=r"\(DU\*\*\*\*567: reqPnL: no pnl update within 5s\): confirm"):
        checks.check_daily_loss("2.0", pnl_facts(AccountPnL("DU1234567", problem="reqPnL: no pnl update within 5s")))
    with pytest.raises(CouldNotLook, match="no daily P&L reported"):
        checks.check_daily_loss("2.0", GatewayFacts(handshake_ok=True, accounts=("DU1234567",)))
    with pytest.raises(CouldNotLook, match="no net liquidation"):
        checks.check_daily_loss("2.0", pnl_facts(AccountPnL("DU1234567", -10.0), nlv=None))


@pytest.mark.parametrize("raw", [None, "", "  ", "two", "0", "150"])
def test_daily_loss_limit_missing_or_not_a_number_fails_naming_the_key(raw):
    with pytest.raises(CheckFailed, match="MAX_DAILY_LOSS_PCT"):
        checks.check_daily_loss(raw, pnl_facts(AccountPnL("DU1234567", -10.0)))


def test_broker_orders_fold_executions_into_open_orders():
    facts = GatewayFacts(open_orders=(order(3, "SPY"),),
                         executions=(ExecutionFact(order_id=3, client_id=1, symbol="SPY", side="BOT", shares=1),))
    assert [r.source for r in broker_orders(facts)] == ["open"]
    assert isinstance(broker_orders(facts)[0], BrokerOrder)


def test_an_order_an_earlier_start_logged_since_the_switch_is_not_unknown_after_a_restart():
    """A good-till-cancelled order placed by the paper start before a restart, still open: the newest start did
    not log it, an earlier one of this transition did."""
    from harness.probes.reconcile import BrokerOrder, parse_bot_orders, reconcile

    earlier = parse_bot_orders(["2026-12-04 17:05:01,000 INFO bot: Order submitted: id=3 ref=strategy-A BUY 1 SPY "
                                "@ 1.00"]).orders
    gtc = BrokerOrder(source="open", client_id=1, order_id=3, perm_id=9, order_ref="strategy-A", symbol="SPY",
                      side="BUY", quantity=1.0, status="PreSubmitted", account="DU1234567")
    stranger = BrokerOrder(source="open", client_id=1, order_id=77, perm_id=10, order_ref="manual", symbol="TSLA",
                           side="SELL", quantity=5.0, status="PreSubmitted", account="DU1234567")
    without = reconcile((), (gtc, stranger), 1)
    assert sorted(r.order_id for r in without.unknown) == [3, 77]
    result = reconcile((), (gtc, stranger), 1, earlier=earlier)
    assert [r.order_id for r in result.unknown] == [77] and [r.order_id for r in result.earlier_starts] == [3]
