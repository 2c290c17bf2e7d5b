"""The checks that read the bot's log: the gateway line, the configuration line, the paper line, the startup's
time; and "the bot is connected", which never passes on a log line alone."""

from __future__ import annotations

import inspect
from datetime import datetime, timedelta, timezone

import pytest

from harness.checks import CheckFailed, CouldNotLook
from harness.checks import orders as order_checks
from harness.checks import startup as checks
from harness.probes.gateway import ExecutionFact, GatewayFacts, OrderFact
from harness.probes.logs import (
    ConfigurationLine,
    GatewayLine,
    LogFacts,
    LogLine,
    StartupBlock,
    marker,
)

START = datetime(2026, 2, 10, 6, 0, tzinfo=timezone(timedelta(hours=-5)))


def line(text: str, lineno: int = 2) -> LogLine:
    return LogLine("logs/bot.log", lineno, START, text)


BLOCK = StartupBlock("logs/bot.log", 1, START, (line("Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", 1),))


def gateway(address: str, host: str | None, port: int | None) -> GatewayLine:
    return GatewayLine(line(f"INFO bot: Connecting to IBKR Gateway at {address}"), address, host, port)


def check_gateway(*lines: GatewayLine, host: str | None = "localhost", port: str | None = "4002") -> str:
    return checks.check_gateway_lines(lines, BLOCK, "Connecting to IBKR Gateway at", host, port)


@pytest.mark.parametrize(("address", "host", "port", "says"), [
    ("localhost:4001", "localhost", 4001, "IB Gateway live port"),
    ("localhost:7496", "localhost", 7496, "TWS live port"),
    ("localhost:4003", "localhost", 4003, "not a paper port"),
    ("localhost", "localhost", None, "names no HOST:PORT"),
])
def test_a_gateway_line_off_the_paper_ports_is_critical(address, host, port, says):
    with pytest.raises(CheckFailed) as failed:
        check_gateway(gateway(address, host, port))
    assert failed.value.critical and says in failed.value.message and "logs/bot.log:2" in failed.value.message


@pytest.mark.parametrize(("host", "port", "env_host", "env_port"), [
    ("192.168.1.50", 4002, "localhost", "4002"), ("127.5.6.7", 4002, "localhost", "4002"),
    ("localhost", 7497, "localhost", "4002"), ("gateway.lan", 4002, "gateway.lan.example", "4002"),
])
def test_a_gateway_line_must_name_the_envs_address(host, port, env_host, env_port):
    with pytest.raises(CheckFailed) as failed:
        check_gateway(gateway(f"{host}:{port}", host, port), host=env_host, port=env_port)
    assert failed.value.critical and f"IBKR_HOST={env_host}" in failed.value.message


@pytest.mark.parametrize(("host", "env_host"), [
    ("127.0.0.1", "localhost"), ("::1", "localhost"), ("localhost", "127.0.0.1"), ("LOCALHOST", "::1"),
    ("127.5.6.7", "127.5.6.7"), ("192.168.1.50", "192.168.1.50"),
])
def test_the_same_host_in_other_words_passes(host, env_host):
    assert "all" in check_gateway(gateway(f"{host}:4002", host, 4002), host=env_host)


def test_every_gateway_line_counts_not_only_the_first():
    with pytest.raises(CheckFailed, match="7496"):
        check_gateway(gateway("localhost:4002", "localhost", 4002), gateway("localhost:7496", "localhost", 7496))


def test_no_gateway_line_fails_and_an_env_without_the_address_cannot_compare():
    with pytest.raises(CheckFailed, match="No gateway line"):
        check_gateway()
    with pytest.raises(CouldNotLook, match="sets no IBKR_HOST"):
        check_gateway(gateway("localhost:4002", "localhost", 4002), host=None)
    with pytest.raises(CheckFailed, match="not a number"):
        check_gateway(gateway("localhost:4002", "localhost", 4002), port="40o2")


@pytest.mark.parametrize(("values", "says"), [
    ((("DRY_RUN", "true"), ("PAPER_TRADING", "false")), "DRY_RUN=true (expected false)"),
    ((("DRY_RUN", "false"), ("PAPER_TRADING", "false")), "PAPER_TRADING=false (expected true)"),
    ((("DRY_RUN", "flase"), ("PAPER_TRADING", "true")), "DRY_RUN='flase' is not true or false"),
    ((("DRY_RUN", "0"), ("PAPER_TRADING", "1")), "DRY_RUN='0' is not true or false"),
    ((("PAPER_TRADING", "true"),), "it does not say DRY_RUN"),
    ((("DRY_RUN", "false"), ("PAPER_TRADING", "true"), ("DRY_RUN", "true")), "DRY_RUN=true"),
])
def test_the_configuration_line_must_say_paper(values, says):
    config = ConfigurationLine(line("Configuration loaded: ...", 1), values)
    with pytest.raises(CheckFailed) as failed:
        checks.check_configuration_paper(config, BLOCK)
    assert failed.value.critical and says in failed.value.message and "logs/bot.log:1" in failed.value.message


def test_the_configuration_line_in_any_case_passes():
    config = ConfigurationLine(line("x", 1), (("DRY_RUN", "False"), ("PAPER_TRADING", "TRUE")))
    assert "DRY_RUN=false, PAPER_TRADING=true" in checks.check_configuration_paper(config, BLOCK)


def test_a_negated_paper_line_is_named_in_the_failure():
    lines = (line("Configuration loaded:", 1), line("Paper trading mode ACTIVE: no"))
    block = StartupBlock("logs/bot.log", 1, START, lines)
    with pytest.raises(CheckFailed) as failed:
        checks.check_paper_line(block, marker("Paper trading mode ACTIVE"))
    assert failed.value.critical and "only negated" in failed.value.message and "logs/bot.log:2" in failed.value.message


def test_a_startup_before_since_names_the_zone_its_time_was_read_in():
    from datetime import datetime

    from harness.probes.bot_log import NewestStart

    logs = LogFacts("logs/*.log", (), (), None)
    since = datetime.fromisoformat("2026-02-10T12:00:00-05:00")
    start = NewestStart("logs/*.log", logs, None, BLOCK, "Configuration loaded:", since,
                        "America/New_York (--bot-log-tz)")
    with pytest.raises(CheckFailed) as failed:
        checks.check_startup_found(start)
    message = failed.value.message
    assert "the newest is logs/bot.log:1, at 2026-02-10T06:00:00-05:00" in message
    assert "log times read as America/New_York (--bot-log-tz)" in message


def test_quoted_lines_are_redacted_and_checks_take_no_secrets():
    webhook = "https://discord.com/api/webhooks/123456789/abcdefSECRETtoken_value"
    quoted = checks.quote(line(f"posting to {webhook} for DU1234567"))
    assert "SECRETtoken" not in quoted and "DU1234567" not in quoted
    for module in (checks, order_checks):
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__:
                continue  # imported helpers (redact_text takes known secrets by design)
            assert "secrets" not in inspect.signature(function).parameters, name


# -- the bot is connected --------------------------------------------------------------------------------------
def facts(*, ok: bool = True, orders=(), executions=()) -> GatewayFacts:
    return GatewayFacts(host="127.0.0.1", port=4002, reachable=ok, handshake_ok=ok,
                        problem=None if ok else "connection refused", open_orders=tuple(orders),
                        executions=tuple(executions))


def connected(gateway_facts: GatewayFacts | None, *, ids=(3,), established: str | None = "logs/bot.log:3",
              client_id: int | None = 1) -> str:
    return order_checks.check_bot_connected(client_id, gateway_facts, "no gateway given", START, ids, established,
                                            "logs/bot.log:1", "America/New_York (--bot-log-tz)")


def test_a_log_line_alone_never_makes_the_bot_connected():
    with pytest.raises(CouldNotLook) as skipped:
        connected(facts())
    assert "not proof" in skipped.value.reason and "client id 1" in skipped.value.reason
    assert "read as America/New_York" in skipped.value.reason


def test_a_gateway_that_cannot_be_read_is_operator_to_confirm_unless_the_bot_never_claimed_it():
    with pytest.raises(CouldNotLook, match="connection refused"):
        connected(facts(ok=False))
    with pytest.raises(CouldNotLook, match="no gateway given"):
        connected(None)
    with pytest.raises(CheckFailed, match="never says 'Gateway connection established'"):
        connected(facts(ok=False), established=None)
    with pytest.raises(CouldNotLook, match="IBKR_CLIENT_ID"):
        connected(facts(), client_id=None)


def test_the_bots_order_or_execution_since_its_start_shows_it_connected():
    logged = OrderFact(order_id=3, client_id=1, symbol="SPY")
    assert "open order id 3" in connected(facts(orders=[logged]))
    fill = ExecutionFact(order_id=9, client_id=1, time=START + timedelta(minutes=5))
    assert "execution of order id 9" in connected(facts(executions=[fill]), ids=())
    same_second = ExecutionFact(order_id=9, client_id=1, time=START.replace(microsecond=0))
    assert "client id 1" in connected(facts(executions=[same_second]), ids=())


@pytest.mark.parametrize("record", [
    OrderFact(order_id=77, client_id=1, symbol="TSLA"),  # the bot's client id, but an order it did not log
    OrderFact(order_id=3, client_id=2, symbol="SPY"),  # the logged id, another client
    ExecutionFact(order_id=9, client_id=1, time=START - timedelta(days=1)),  # before the newest start
    ExecutionFact(order_id=9, client_id=5, time=START + timedelta(minutes=5)),  # another client
])
def test_records_that_do_not_show_the_bot_since_its_start_are_not_enough(record):
    kind = "orders" if isinstance(record, OrderFact) else "executions"
    with pytest.raises(CouldNotLook):
        connected(facts(**{kind: [record]}))
    with pytest.raises(CheckFailed, match="shows no order or execution from client id 1"):
        connected(facts(**{kind: [record]}), established=None)


def test_a_json_record_with_only_a_formatted_text_is_read_by_its_text():
    """loguru's serialize=True puts the formatted line in "text"; a record without "record.message" (a
    hand-rolled or trimmed serializer) is still read, never quoted whole as if it were the message."""
    from harness.probes.logs import message_text

    line = '{"text": "2026-11-25 06:00:00 | INFO | Paper trading mode ACTIVE\\n", "record": {"level": "INFO"}}'
    assert message_text(line).strip().endswith("Paper trading mode ACTIVE")
    assert message_text('{"event": "Gateway connection established", "text": "x"}') == "Gateway connection established"
