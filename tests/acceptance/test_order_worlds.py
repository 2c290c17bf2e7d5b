"""Each faulty world of the order-routing edge cases fails (or, when the harness cannot look, skips) exactly the
right scenarios of features/03_order_routing.feature and the gateway part of features/00_preflight.feature;
the clean world is green. These run the operator's own command against the embedded world."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.core import clock
from tests.acceptance.matrix import Fault, knobs
from tests.acceptance.runner import ALL_FEATURES, Run, SharedRuns, run_features

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


@dataclass(frozen=True)
class OrderWorld:
    """An embedded world made wrong by its knobs, and what the operator's command must make of it: among the
    `scope` scenarios exactly `failing` fail (at least, with others_may_fail), `skips` are "operator to confirm"
    and `passes` pass; each message of `says` holds its texts and none of `hides`; some note of `notes` holds
    all its texts."""

    id: str
    env: dict[str, str]
    failing: set[str]
    args: tuple[str, ...] = ()
    phase: str = "transition"
    skips: set[str] = field(default_factory=set)
    passes: set[str] = field(default_factory=set)
    says: dict[str, tuple[str, ...]] = field(default_factory=dict)
    hides: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    others_may_fail: bool = False
    paths: tuple[str, ...] = ROUTING

    @property
    def scope(self) -> set[str]:
        return PREFLIGHT_GATEWAY if self.phase == "preflight" else ROUTING_ALL

    def run(self, shared_runs: SharedRuns) -> Run:
        phase = ("--phase", self.phase) if self.phase != "transition" else ()
        return shared_runs.features(f"orders {self.id}", *phase, *self.args, env=self.env, paths=self.paths)


FAULTS = "HARNESS_EMBEDDED_FAULTS"
LOSS = ("Daily loss over MAX_DAILY_LOSS_PCT", "DU****567: daily loss 50,000.00 is 5.00% of net liquidation",
        "MAX_DAILY_LOSS_PCT=2%")
WRONG_ACCOUNT = ("Wrong account, halt the bot", "CRITICAL", "U****678")
HELD = {NO_POSITIONS: ("position 10 SPY",)}
WORLDS = [
    # The clean world is the demo: every feature, the run test_startup_worlds and test_verdict assert on too.
    OrderWorld("clean", {}, set(), skips=ALWAYS_SKIPPED, passes=ROUTING_ALL - ALWAYS_SKIPPED,
               says={TEST_ORDER: ("operator to confirm",)}, paths=ALL_FEATURES),
    # The test order (client id 918) is not "unknown" to the bot.
    OrderWorld("clean, with the test order", {}, set(), args=("--place-test-order",), passes={TEST_ORDER},
               notes={TEST_ORDER: ("cancelled", "harness-test-order")}),
    OrderWorld("daily loss", {FAULTS: "daily-loss"}, {DAILY_LOSS}, skips=ALWAYS_SKIPPED,
               passes=ROUTING_ALL - ALWAYS_SKIPPED - {DAILY_LOSS}, says={DAILY_LOSS: LOSS},
               hides={DAILY_LOSS: ("DU1234567",)}),
    OrderWorld("gateway on a live account", {FAULTS: "gateway-live-account"}, {PAPER_ONLY, RECONCILED, TEST_ORDER},
               args=("--place-test-order",),
               says={PAPER_ONLY: WRONG_ACCOUNT, RECONCILED: WRONG_ACCOUNT, TEST_ORDER: ("paper not proven",)},
               hides={PAPER_ONLY: ("U2345678",), RECONCILED: ("U2345678",)}),
    # 1 share at 1.00 is 200% of a 0.50 net liquidation: the size check is right to fail as well.
    OrderWorld("low buying power", {FAULTS: "low-buying-power"}, {FUNDS, SIZES},
               says={FUNDS: ("3 orders rejected (insufficient funds", "error 201",
                             "reset the paper account's virtual capital", "id=3", "id=4", "id=5")}),
    OrderWorld("low buying power, rejections expected", {FAULTS: "low-buying-power"}, {SIZES},
               args=("--expect-rejections",), passes={FUNDS}, notes={FUNDS: ("expected (--expect-rejections)",)}),
    OrderWorld("live account activity", {FAULTS: "live-account-activity"}, {NO_LIVE},
               says={NO_LIVE: ("ORDERS IN THE LIVE ACCOUNT", "CRITICAL", "U****321")}),
    OrderWorld("market closed", {FAULTS: "market-closed"}, set(), passes={PENDING}),
    # Only the live gateway is up (and clean): everything else could not look.
    OrderWorld("gateway down", {FAULTS: "gateway-down"}, {CONNECTED}, passes={NO_LIVE},
               skips=ROUTING_ALL - {CONNECTED, NO_LIVE}, says={PAPER_ONLY: ("connection refused",)}),
    OrderWorld("gateway down, before the switch", {FAULTS: "gateway-down"}, {ANSWERS}, phase="preflight",
               skips=PREFLIGHT_GATEWAY - {ANSWERS}, says={ANSWERS: ("gateway down at",)}, paths=PREFLIGHT),
    OrderWorld("before the switch, clean", {}, set(), phase="preflight", passes=PREFLIGHT_GATEWAY, paths=PREFLIGHT),
    OrderWorld("open positions before the switch", {FAULTS: "open-positions"}, {NO_POSITIONS}, phase="preflight",
               passes=PREFLIGHT_GATEWAY - {NO_POSITIONS}, says=HELD, paths=PREFLIGHT),
    OrderWorld("gateway on a live account, before the switch", {FAULTS: "gateway-live-account"}, {PRE_PAPER},
               phase="preflight", passes=PREFLIGHT_GATEWAY - {PRE_PAPER}, paths=PREFLIGHT),
    # Declared positions must be held exactly: the account holds 10 SPY.
    OrderWorld("open positions, declared", {FAULTS: "open-positions"}, set(), args=("--declared-positions", "SPY:10"),
               phase="preflight", paths=PREFLIGHT),
    OrderWorld("open positions, declared fewer", {FAULTS: "open-positions"}, {NO_POSITIONS},
               args=("--declared-positions", "SPY:5"), phase="preflight", paths=PREFLIGHT),
    OrderWorld("open positions, declared more symbols", {FAULTS: "open-positions"}, {NO_POSITIONS},
               args=("--declared-positions", "SPY:10;AAPL:3"), phase="preflight", paths=PREFLIGHT),
    OrderWorld("logged order missing from the paper account", {"BOT_FAULTS": "phantom-order"}, {RECONCILED},
               says={RECONCILED: ("DIA",)}),
    OrderWorld("unknown order from the bot's client id", {FAULTS: "unknown-bot-order"}, {RECONCILED},
               says={RECONCILED: ("TSLA",)}, others_may_fail=True),
    # A GTC order the paper start before the restart logged (after the switch) is the bot's, not unknown.
    OrderWorld("an order an earlier start logged since the switch", {FAULTS: "earlier-start-order"}, set(),
               passes={RECONCILED}, notes={RECONCILED: ("logged by an earlier start since the switch",)}),
    OrderWorld("oversized orders", {"BOT_FAULTS": "oversized-orders"}, {FUNDS, SIZES},
               says={SIZES: ("MAX_POSITION_PCT", "100000 SPY")}),
    # Never green for reconciliation; and "connected" needs the gateway: the stand-in bot connects and logs it,
    # but nothing at the gateway shows its client id.
    OrderWorld("no orders", {"BOT_FAULTS": "no-orders"}, set(), skips={RECONCILED, FUNDS, PENDING, CONNECTED},
               says={RECONCILED: ("test gameplan",), CONNECTED: ("operator to confirm", "client id 1", "not proof")}),
]
BY_ID = {world.id: world for world in WORLDS}


def mine(result: Run, names: set[str]) -> tuple[set[str], set[str], set[str]]:
    return result.failed() & names, result.skipped() & names, result.passed() & names


@pytest.mark.parametrize("world", WORLDS, ids=[w.id for w in WORLDS])
def test_order_world_fails_exactly_its_scenarios(shared_runs, world: OrderWorld):
    result = world.run(shared_runs)
    failed, skipped, passed = mine(result, world.scope)
    if world.others_may_fail:
        assert world.failing <= failed, result.output[-3000:]
    else:
        assert failed == world.failing, result.output[-3000:]
    assert world.skips <= skipped, {n: result.outcomes[n] for n in world.skips - skipped}
    assert world.passes <= passed, {n: result.outcomes[n] for n in world.passes - passed}
    for name, texts in world.says.items():
        message = result.outcomes[name].message
        assert all(text in message for text in texts), (name, texts, message)
    for name, texts in world.hides.items():
        assert not any(text in result.outcomes[name].message for text in texts), (name, texts)
    for name, texts in world.notes.items():
        notes = result.notes(name)
        assert any(all(text in note for text in texts) for note in notes), (name, texts, notes)


def test_the_clean_world_records_what_it_saw(shared_runs):
    result = BY_ID["clean"].run(shared_runs)
    [loss_note] = result.notes(DAILY_LOSS)
    assert loss_note.startswith("DU****567: daily P&L +0.00, no loss") and "MAX_DAILY_LOSS_PCT=2%" in loss_note
    assert any("U****321" in n and "no open order" in n for n in result.notes(NO_LIVE))
    statuses = result.notes(RECONCILED)
    assert len(statuses) == 3 and all(("submitted" in s or "pending" in s or "filled" in s) for s in statuses)
    assert "DU1234567" not in (result.evidence / "evidence.jsonl").read_text()


def test_market_closed_orders_are_pending_and_green(shared_runs):
    result = BY_ID["market closed"].run(shared_runs)
    pending = [n for n in result.notes(PENDING) if "pending" in n]
    assert len(pending) == 3, result.notes(PENDING)  # expected-pending, or still pending in session: reported


# -- "The bot is connected to the gateway": only the gateway can say so, never the bot's log line alone --------
OLD_LOG = "the bot's newest start was two days ago; its log says it connected and submitted order id 3"
OLD_LOG_GATEWAY_DOWN = Fault(
    "two-day-old log, gateway down", f"{OLD_LOG}; nothing listens on the gateway port", set(),
    "test_order_worlds.py::test_bot_connected_from_a_two_day_old_log_with_the_gateway_down_is_not_green",
    skips={CONNECTED}, others_may_fail=True)
OLD_LOG_UNSEEN = Fault(
    "two-day-old log, gateway never saw the bot", f"{OLD_LOG}; the gateway is up and holds no order from the bot's "
    "client id", set(),
    "test_order_worlds.py::test_bot_connected_only_when_the_gateway_holds_the_bots_order_since_its_start",
    skips={CONNECTED}, others_may_fail=True)


def _old_bot_dir(tmp_path: Path):
    """A bot directory whose newest start was two days ago: it says it connected and submitted order id 3."""
    from datetime import timedelta

    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(tmp_path / "bot", git=False)
    at = clock.local_now().replace(tzinfo=None) - timedelta(days=2)
    lines = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at localhost:4002",
             "Gateway connection established", "Paper trading mode ACTIVE", "Bot initialized successfully",
             "Order submitted: id=3 ref=strategy-A BUY 1 SPY @ 1.00"]
    bot.log_file.write_text("".join(f"{at:%Y-%m-%d %H:%M:%S},000 INFO bot: {text}\n" for text in lines),
                            encoding="utf-8")
    return bot


def _run_against(tmp_path: Path, bot, gateway: str) -> Run:
    result = run_features(tmp_path, "--evidence-dir", str(tmp_path / "evidence"), "--live-gateway", "--bot-dir",
                          str(bot.root), "--baseline", str(bot.baseline_file), "--gateway", gateway, paths=ROUTING)
    assert result.outcomes, result.output[-3000:]
    return result


def test_bot_connected_from_a_two_day_old_log_with_the_gateway_down_is_not_green(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run_against(tmp_path, _old_bot_dir(tmp_path), f"127.0.0.1:{port}")
    assert result.skipped() >= OLD_LOG_GATEWAY_DOWN.skips, result.outcomes[CONNECTED]
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
        assert unseen.skipped() >= OLD_LOG_UNSEEN.skips, unseen.outcomes[CONNECTED]
        assert "shows no order or execution from client id 1" in unseen.outcomes[CONNECTED].message

        gateway.update_world(lambda world: world.open_orders.append(OrderRecord(
            order_id=3, perm_id=7_000_003, client_id=1, account=world.accounts[0].account_id, symbol="SPY",
            action="BUY", quantity=1, limit_price=1.0, order_ref="strategy-A")))
        (tmp_path / "seen").mkdir()
        seen = _run_against(tmp_path / "seen", bot, f"{host}:{port}")
    assert seen.outcomes[CONNECTED].outcome == "passed", seen.outcomes[CONNECTED]
    [note] = seen.notes(CONNECTED)
    assert "client id 1" in note and "open order id 3" in note


MATRIX = [
    *(Fault(w.id, knobs(w.env, w.args), w.failing, "test_order_worlds.py::test_order_world_fails_exactly_its_scenarios",
            skips=w.skips, others_may_fail=w.others_may_fail) for w in WORLDS),
    OLD_LOG_GATEWAY_DOWN,
    OLD_LOG_UNSEEN,
]
