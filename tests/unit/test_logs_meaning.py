"""Markers by meaning (any case, whole words, negations), JSON-lines records, and what the startup lines say."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from harness.core import clock
from harness.probes import logs
from harness.probes.logs import DEFAULT_PATTERNS, configuration_line, gateway_lines, marker, message_text

NEW_YORK = ZoneInfo("America/New_York")
LIVE = DEFAULT_PATTERNS["live_mode"]
DRY = DEFAULT_PATTERNS["dry_run"]
ERRORS = DEFAULT_PATTERNS["errors"]
PAPER = DEFAULT_PATTERNS["paper_active"][0]


def said(patterns, line: str) -> bool:
    return any(pattern.matches(line) for pattern in patterns)


@pytest.mark.parametrize("line", [
    "LIVE TRADING MODE ACTIVE", "Live Trading Mode ACTIVE", "live trading mode enabled", "Switching to LIVE mode",
    "live-trading-mode", "Trading mode: LIVE", "TRADING_MODE=live", '{"event": "start", "trading_mode": "live"}',
    "LIVE_MODE=true", "Live trading mode - not paper", "Live trading mode: not paper",
    "WARNING bot: Live trading mode ACTIVE", "Paper mode off; live trading active",
])
def test_live_mode_is_caught_by_meaning(line):
    assert said(LIVE, line)


@pytest.mark.parametrize("line", [
    "PAPER_TRADING=true", "not in live mode", "Settings: LIVE_PORT=4001 PAPER_PORT=4002", "no live trading mode",
    "Live trading mode: not active", "LIVE_MODE=false", "live mode: off", "live trading mode is disabled",
    "cannot enter live mode", "Orders go to the paper account", "delivered 3 orders, alive",
])
def test_these_are_not_live_markers(line):
    assert not said(LIVE, line)


@pytest.mark.parametrize("line", [
    "Dry-run mode ACTIVE", "DRY_RUN mode active", "dry run enabled", "DRY-RUN MODE", "DRY_RUN=true",
    '{"dry_run": true}', "Trading mode: dry-run", "Configuration loaded: DRY_RUN=True, PAPER_TRADING=false",
])
def test_dry_run_is_caught_by_meaning(line):
    assert said(DRY, line)


@pytest.mark.parametrize("line", [
    "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "dry run mode: off", "not in dry-run mode",
    "Signal (dry-run, not sent): strategy=A", "DRY_RUN=false", "dry run mode disabled",
])
def test_these_are_not_dry_run_markers(line):
    assert not said(DRY, line)


@pytest.mark.parametrize(("line", "paper"), [
    ("Paper trading mode ACTIVE", True), ("paper trading mode active", True), ("PAPER TRADING MODE ACTIVE!", True),
    ('{"event": "Paper trading mode ACTIVE", "level": "info"}', True),
    ("Paper trading mode NOT active", False), ("paper trading mode inactive", False),
    ("paper trading mode disabled", False), ("NOT paper trading mode active", False),
    ("Paper trading mode ACTIVE: false", False), ("Paper trading mode activated", False),
])
def test_paper_is_recognised_in_any_case_but_never_negated(line, paper):
    assert PAPER.matches(line) is paper


@pytest.mark.parametrize(("line", "error"), [
    ("2026-02-10 06:00:01,000 ERROR bot: x", True), ("ERROR:bot:order book stale", True), ("[error] x", True),
    ("CRITICAL risk", True), ('{"level": "error", "event": "x"}', True), ("Traceback (most recent call last):", True),
    ("ERROR: None", True), ("fatal: cannot connect", True),
    ("error_count=0", False), ("no errors since start", False), ("completed without error", False),
    ("ConnectionRefusedError: [Errno 111]", False),
])
def test_errors_by_level_word(line, error):
    assert said(ERRORS, line) is error


def test_phrase_compiles_to_a_keyword_and_words_with_any_separator():
    phrase = marker("DRY_RUN mode active")
    assert phrase.keyword == "dry" and phrase.text.startswith("(?<![^\\W_])")
    assert phrase.matches("dry run mode ACTIVE")
    assert marker(r"re:\bmode\s*=\s*live").keyword == "mode"
    assert marker("re:live|paper").keyword == ""  # an alternation has no one keyword


@pytest.mark.parametrize("bad", ["re:(", "re:", "!!!"])
def test_bad_markers_are_refused(bad):
    with pytest.raises(ValueError, match="marker"):
        marker(bad)


def test_markers_in_a_scan_ignore_case_and_negations(tmp_path: Path):
    path = tmp_path / "bot.log"
    path.write_text("\n".join([
        "2026-02-10 06:00:00,001 INFO bot: Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
        "2026-02-10 06:00:00,002 INFO bot: not in live mode",
        "2026-02-10 06:00:00,003 WARNING bot: Switching to LIVE mode",
        "2026-02-10 06:00:00,004 INFO bot: live mode: off",
        "2026-02-10 06:00:00,005 INFO bot: LIVE TRADING MODE ACTIVE",
    ]) + "\n", encoding="utf-8")
    facts = logs.scan([path], LIVE)
    assert facts.total == 2
    assert [line.lineno for item in facts.patterns for line in item.first] == [5, 3]


def test_message_text_of_structlog_loguru_and_plain_lines():
    assert message_text('{"event": "Paper trading mode ACTIVE", "level": "info"}') == "Paper trading mode ACTIVE"
    assert message_text(json.dumps({"text": "x", "record": {"message": "hello"}})) == "hello"
    assert message_text('{"msg": "m"}') == "m"
    assert message_text("2026-02-10 INFO plain {not json}") == "2026-02-10 INFO plain {not json}"
    assert message_text("{broken json}") == "{broken json}"


def _time_of_last_line(tmp_path: Path, *records: str, tz=None):
    path = tmp_path / "bot.log"
    path.write_text("".join(record + "\n" for record in records), encoding="utf-8")
    line = logs.last_line([path], tz=tz)
    assert line is not None
    return line.timestamp


def test_json_records_are_timed(tmp_path: Path):
    utc = datetime(2026, 2, 10, 21, 45, 1, 123456, tzinfo=timezone.utc)
    assert _time_of_last_line(tmp_path, '{"event": "x", "timestamp": "2026-02-10T21:45:01.123456Z"}') == utc
    loguru = {"record": {"time": {"repr": "2026-02-10 16:45:01.123456-05:00", "timestamp": utc.timestamp()}}}
    assert _time_of_last_line(tmp_path, json.dumps(loguru)) == utc
    assert _time_of_last_line(tmp_path, '{"event": "x", "timestamp": 1770759901.123456}') == utc
    # A naive time is read in the log's zone.
    naive = _time_of_last_line(tmp_path, '{"asctime": "2026-02-10 16:45:01,123", "message": "m"}', tz=NEW_YORK)
    assert naive == datetime(2026, 2, 10, 16, 45, 1, 123000, tzinfo=NEW_YORK)
    assert _time_of_last_line(tmp_path, '{"event": "no time"}') is None
    # A record's time is its own, never the next line's.
    path = tmp_path / "bot.log"
    path.write_text('{"event": "x"}\n{"timestamp": "2026-02-10T21:45:01Z"}\n', encoding="utf-8")
    (untimed,) = logs.scan([path], ['"event": "x"']).patterns[0].first
    assert untimed.timestamp is None


def _block(tmp_path: Path, *messages: str) -> logs.StartupBlock:
    path = tmp_path / "bot.log"
    path.write_text("".join(f"2026-02-10 06:00:00,{i:03d} INFO bot: {m}\n" for i, m in enumerate(messages)),
                    encoding="utf-8")
    block = logs.newest_startup_block([path])
    assert block is not None
    return block


def test_configuration_line_values(tmp_path: Path):
    block = _block(tmp_path, "Configuration loaded: DRY_RUN=false, PAPER_TRADING='true' MAX=10")
    config = configuration_line(block)
    assert config is not None
    assert config.value("DRY_RUN") == "false" and config.value("PAPER_TRADING") == "true"
    assert config.value("MISSING") is None


@pytest.mark.parametrize(("written", "host", "port"), [
    ("localhost:4002", "localhost", 4002), ("[::1]:4002", "::1", 4002), ("::1:7497", "::1", 7497),
    ("192.168.1.50:4002.", "192.168.1.50", 4002), ("localhost", "localhost", None), ("", None, None),
])
def test_gateway_line_addresses(tmp_path: Path, written, host, port):
    block = _block(tmp_path, "Configuration loaded: DRY_RUN=false", f"Connecting to IBKR Gateway at {written}",
                   f"Reconnecting to IBKR Gateway at {written} (attempt 2)")
    found = gateway_lines(block, "Connecting to IBKR Gateway at")
    assert [(item.host, item.port) for item in found] == [(host, port)] * 2


def test_gateway_address_from_structured_fields(tmp_path: Path):
    path = tmp_path / "bot.log"
    at = (clock.now() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = [{"event": "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "timestamp": at},
               {"event": "Connecting to IBKR Gateway at", "host": "localhost", "port": 4001, "timestamp": at}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    block = logs.newest_startup_block([path])
    assert block is not None and block.started_at is not None
    [found] = gateway_lines(block, "Connecting to IBKR Gateway at")
    assert (found.host, found.port) == ("localhost", 4001)
