"""Logs the harness was never built against: each world is a bot directory (harness/fakes/botdir.py) whose log
must fail exactly the named startup scenarios of features/02_startup.feature, and the clean ones none.

These run the operator's `pytest features/02_startup.feature --bot-dir B` in a subprocess; no embedded world is
started (cheap), so the Discord scenarios are "operator to confirm" and never pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from harness.core import clock
from harness.fakes.botdir import BotDir, make_bot_dir
from tests.acceptance.matrix import Fault
from tests.acceptance.runner import Run, run_features
from tests.acceptance.test_startup_worlds import (
    CONFIG,
    DISCORD_PAPER,
    DISCORD_WRONG,
    GATEWAY,
    LINES,
    LOG_SCENARIOS,
    NO_DRY,
    NO_ERRORS,
    NO_LIVE,
    PAPER_LINE,
)

STARTUP_FEATURE = ("features/02_startup.feature",)
CONFIG_LINE = "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true"
CONNECT_LINE = "Connecting to IBKR Gateway at localhost:4002"  # make_bot_dir's .env: IBKR_HOST=localhost, 4002
CLEAN = [CONFIG_LINE, CONNECT_LINE, "Gateway connection established", "Paper trading mode ACTIVE",
         "Bot initialized successfully"]


def stamp(at: datetime | None = None, level: str = "INFO") -> str:
    """python logging's default `%(asctime)s %(levelname)s %(name)s:` prefix, in this machine's local time."""
    at = at or clock.local_now().replace(tzinfo=None)
    return f"{at:%Y-%m-%d %H:%M:%S},{at.microsecond // 1000:03d} {level} bot:"


def plain(*texts: str, at: datetime | None = None) -> list[str]:
    return [f"{stamp(at)} {text}" for text in texts]


def replace(lines: list[str], old: str, *new: str) -> list[str]:
    """CLEAN with `old` replaced by `new` lines (none: removed)."""
    index = lines.index(old)
    return [*lines[:index], *new, *lines[index + 1 :]]


def structlog_line(event: str, level: str = "info", at: datetime | None = None, **fields: object) -> str:
    """structlog's JSONRenderer after TimeStamper(fmt="iso") (UTC, with Z) and add_log_level."""
    at = (at or clock.now()).astimezone(timezone.utc)
    return json.dumps({"event": event, **fields, "level": level,
                       "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")})


def loguru_line(message: str, level: str = "INFO", at: datetime | None = None) -> str:
    """loguru's `serialize=True` record (abridged: the fields it always writes that matter here)."""
    at = (at or clock.local_now().replace(tzinfo=None)).astimezone()
    return json.dumps({
        "text": f"{at:%Y-%m-%d %H:%M:%S.%f} | {level:<8} | bot:run:12 - {message}\n",
        "record": {"elapsed": {"repr": "0:00:01.000000", "seconds": 1.0}, "exception": None, "extra": {},
                   "file": {"name": "bot.py", "path": "bot.py"}, "function": "run",
                   "level": {"icon": "i", "name": level, "no": 20}, "line": 12, "message": message,
                   "module": "bot", "name": "bot", "process": {"id": 4242, "name": "MainProcess"},
                   "thread": {"id": 1, "name": "MainThread"},
                   "time": {"repr": at.isoformat(sep=" "), "timestamp": at.timestamp()}},
    })


@dataclass(frozen=True)
class LogWorld:
    id: str
    lines: Callable[[], list[str]]
    failing: set[str]
    says: dict[str, tuple[str, ...]] = field(default_factory=dict)  # scenario -> texts its message holds
    encoding: str = "utf-8"
    newline: str = "\n"


def _two_instances() -> list[str]:
    """Instance A (paper) starts; instance B (dry-run) starts a second later into the same file; their lines
    interleave. The newest start (B) decides: its configuration line and its dry-run line fail."""
    now = clock.local_now().replace(tzinfo=None)
    a, b = now - timedelta(seconds=2), now - timedelta(seconds=1)
    return [*plain(CONFIG_LINE, CONNECT_LINE, at=a),
            *plain("Configuration loaded: DRY_RUN=true, PAPER_TRADING=false", at=b),
            *plain("Gateway connection established", "Paper trading mode ACTIVE", at=a),
            *plain(CONNECT_LINE, "Gateway connection established", "DRY_RUN mode active: signals are logged", at=b),
            *plain("Bot initialized successfully", at=a), *plain("Bot initialized successfully", at=b)]


_STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d{3})? (?:\w+ bot: )?")


def _text(line: str) -> str:
    """A log line without its time stamp: a plain line's message, a JSON record's message and fields."""
    if line.startswith("{"):
        record = json.loads(line)
        if "record" in record:  # loguru
            level, message = record["record"]["level"]["name"], record["record"]["message"]
            return message if level == "INFO" else f"{level}: {message}"
        fields = " ".join(f"{k}={v}" for k, v in record.items() if k not in ("event", "level", "timestamp"))
        return " ".join(filter(None, [record["event"], fields]))
    return _STAMP.sub("", line)


def describe(world: LogWorld, most: int = 3) -> str:
    """What is wrong in a log world: the lines it has that a clean start's log has not."""
    clean = set(CLEAN)
    texts = list(dict.fromkeys(t for t in map(_text, world.lines()) if t not in clean))
    shown = ", ".join(f"`{t}`" for t in texts[:most]) + (f" and {len(texts) - most} more" if len(texts) > most else "")
    form = [world.encoding] if world.encoding != "utf-8" else []
    form += ["CRLF line ends"] if world.newline == "\r\n" else []
    where = f" ({', '.join(form)})" if form else ""
    return f"the bot's log{where} says {shown}" if texts else f"the bot's log{where} is a clean start's"


WORLDS = [
    LogWorld("clean, with words around and look-alikes that mean nothing", lambda: plain(
        CONFIG_LINE, "Settings: PAPER_TRADING=true LIVE_PORT=4001 PAPER_PORT=4002 error_count=0",
        "Connecting to IBKR Gateway at 127.0.0.1:4002 (client id 1)", "Gateway connection established in 0.4 s",
        "paper trading mode active (orders go to the paper account, not in live mode)",
        "Reconnecting to IBKR Gateway at [::1]:4002", "no errors since start; live mode: off; dry run: disabled",
        "Bot initialized successfully after 2.1 s"), set()),
    LogWorld("live mode in any case and wording", lambda: plain(
        *CLEAN, "LIVE TRADING MODE ACTIVE", "Live Trading Mode ACTIVE", "live trading mode enabled",
        "Switching to LIVE mode"), {NO_LIVE},
        {NO_LIVE: ("3 line(s)", "LIVE TRADING MODE ACTIVE", "Switching to LIVE")}),
    LogWorld("dry-run mode in any case and wording", lambda: plain(
        *CLEAN, "Dry-run mode ACTIVE", "DRY RUN MODE ON", "dry run enabled"), {NO_DRY},
        {NO_DRY: ("2 line(s)", "Dry-run mode ACTIVE", "dry run enabled")}),
    LogWorld("paper mode negated", lambda: plain(*replace(
        CLEAN, "Paper trading mode ACTIVE", "Paper trading mode ACTIVE: false", "NOT Paper trading mode ACTIVE",
        "Paper trading mode NOT active", "paper trading mode inactive")), {PAPER_LINE},
        {PAPER_LINE: ("never says", "it says it only negated", "ACTIVE: false")}),
    LogWorld("errors without spaces, in brackets, critical", lambda: [
        # logging.basicConfig's own format ("ERROR:bot:..."), bracketed lower-case levels.
        *plain(*CLEAN), "ERROR:bot:order book stale", f"{clock.local_now():%Y-%m-%d %H:%M:%S} [error] reconnect failed",
        f"{clock.local_now():%Y-%m-%d %H:%M:%S} [critical] risk limit breached"], {NO_ERRORS},
        {NO_ERRORS: ("2 line(s)", "ERROR:bot:order book stale", "risk limit breached")}),
    LogWorld("live port 4001, then a reconnect to TWS live 7496", lambda: plain(
        *replace(CLEAN, CONNECT_LINE, "Connecting to IBKR Gateway at localhost:4001"),
        "Reconnecting to IBKR Gateway at localhost:7496"), {GATEWAY},
        {GATEWAY: ("localhost:4001", "the IB Gateway live port", "TWS live port", "CRITICAL")}),
    LogWorld("another host than the .env's", lambda: plain(*replace(
        CLEAN, CONNECT_LINE, "Connecting to IBKR Gateway at 192.168.1.50:4002")), {GATEWAY},
        {GATEWAY: ("192.168.1.50:4002", "IBKR_HOST=localhost", "bot.log:")}),
    LogWorld("configuration loaded in dry-run", lambda: plain(*replace(
        CLEAN, CONFIG_LINE, "Configuration loaded: DRY_RUN=true, PAPER_TRADING=false")),
        {LINES, CONFIG, NO_DRY}, {CONFIG: ("DRY_RUN=true (expected false)", "PAPER_TRADING=false", "bot.log:1")}),
    LogWorld("configuration value misspelt", lambda: plain(*replace(
        CLEAN, CONFIG_LINE, "Configuration loaded: DRY_RUN=flase, PAPER_TRADING=True")),
        {LINES, CONFIG}, {CONFIG: ("DRY_RUN='flase' is not true or false",)}),
    LogWorld("a second instance starts in dry-run after the paper one", _two_instances,
             {LINES, CONFIG, NO_DRY}, {CONFIG: ("DRY_RUN=true",), NO_DRY: ("DRY_RUN mode active",)}),
    LogWorld("structlog JSON lines, clean", lambda: [structlog_line(text) for text in CLEAN], set()),
    LogWorld("structlog JSON lines, the live port in structured fields", lambda: [
        structlog_line(CONFIG_LINE), structlog_line("Connecting to IBKR Gateway at", host="localhost", port=4001),
        *(structlog_line(text) for text in CLEAN[2:])], {GATEWAY}, {GATEWAY: ("localhost:4001",)}),
    LogWorld("loguru JSON lines: live mode, an error, a dry-run field", lambda: [
        loguru_line(CONFIG_LINE), loguru_line(CONNECT_LINE), loguru_line("Gateway connection established"),
        loguru_line("Paper trading mode ACTIVE"), loguru_line("Bot initialized successfully"),
        loguru_line("Switching to LIVE mode", level="WARNING"), loguru_line("order book stale", level="ERROR"),
        structlog_line("config dump", dry_run=True, trading_mode="dry-run")],
        {NO_LIVE, NO_ERRORS, NO_DRY}, {NO_LIVE: ("Switching to LIVE mode",), NO_ERRORS: ("order book stale",)}),
    LogWorld("cp1252 with CRLF", lambda: plain(*CLEAN, "Dry-run mode ACTIVE – prix 12€, café"), {NO_DRY},
             {NO_DRY: ("12€, café",)}, encoding="cp1252", newline="\r\n"),
]


SINCE_AFTER = Fault("JSON lines, `--since` after the start", "structlog and loguru records of a clean start, checked "
                    "with `--since` five minutes after it", LOG_SCENARIOS,
                    "test_log_worlds.py::test_json_lines_are_timed_so_since_can_select_them", others_may_fail=True)
ANOTHER_ZONE = Fault("log in another zone", "the bot logs naive wall times of UTC-12; `--since` is given, "
                     "`--bot-log-tz` is not", LOG_SCENARIOS,
                     "test_log_worlds.py::test_log_in_another_zone_names_the_zone_it_was_read_in", others_may_fail=True)
MATRIX = [
    *(Fault(w.id, describe(w), w.failing, "test_log_worlds.py::test_log_world_fails_exactly_its_scenarios")
      for w in WORLDS),
    SINCE_AFTER,
    ANOTHER_ZONE,
]


def bot_with_log(tmp_path: Path, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> BotDir:
    bot = make_bot_dir(tmp_path / "bot", git=False)
    bot.log_file.write_bytes("".join(line + newline for line in lines).encode(encoding))
    return bot


def run_startup(tmp_path: Path, bot: BotDir, *args: str) -> Run:
    run = run_features(tmp_path, "--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
                       "--evidence-dir", str(tmp_path / "evidence"), *args, paths=STARTUP_FEATURE)
    assert run.outcomes, run.output[-3000:]
    for name in (DISCORD_PAPER, DISCORD_WRONG):  # no Discord channel given: never a pass
        assert run.outcomes[name].outcome != "passed", run.outcomes[name]
    return run


@pytest.mark.parametrize("world", WORLDS, ids=[w.id for w in WORLDS])
def test_log_world_fails_exactly_its_scenarios(tmp_path, world: LogWorld):
    bot = bot_with_log(tmp_path, world.lines(), world.encoding, world.newline)
    run = run_startup(tmp_path, bot)
    assert run.failed() & LOG_SCENARIOS == world.failing, f"{world.id}\n{run.output[-4000:]}"
    assert run.passed() >= LOG_SCENARIOS - world.failing, f"{world.id}\n{run.output[-4000:]}"
    for name, texts in world.says.items():
        message = run.outcomes[name].message
        assert all(text in message for text in texts), (name, texts, message)
    if world.failing:
        assert run.code != 0


def test_json_lines_are_timed_so_since_can_select_them(tmp_path):
    """structlog's ISO UTC times and loguru's local ones are read from the records: with --since just before
    the start, the startup is found and read; with --since after it, the startup is not found."""
    start = clock.now()
    lines = [structlog_line(CONFIG_LINE, at=start), loguru_line(CONNECT_LINE, at=start),
             structlog_line("Gateway connection established", at=start), loguru_line("Paper trading mode ACTIVE"),
             structlog_line("Bot initialized successfully")]
    bot = bot_with_log(tmp_path, lines)
    before = run_startup(tmp_path, bot, "--since", (start - timedelta(minutes=5)).isoformat())
    assert before.passed() >= LOG_SCENARIOS, before.output[-4000:]
    (tmp_path / "after").mkdir()
    after = run_startup(tmp_path / "after", bot, "--since", (start + timedelta(minutes=5)).isoformat())
    assert after.failed() >= SINCE_AFTER.fails
    assert "No startup in the bot's log" in after.outcomes[PAPER_LINE].message


def _zone_behind_this_machine() -> ZoneInfo:
    """UTC-12: behind any machine zone but UTC-12 itself, so its wall times read as local times look hours old."""
    zone = ZoneInfo("Etc/GMT+12")
    local = clock.local_now().utcoffset() or timedelta(0)
    if local <= timedelta(hours=-11):
        pytest.skip("this machine's zone is as far west as the test's log zone")
    return zone


def test_log_in_another_zone_names_the_zone_it_was_read_in(tmp_path):
    """The bot logs naive wall times of another zone. With --since, reading them as this machine's time puts
    the startup hours too early: the failure says which zone the times were read in; --bot-log-tz fixes it."""
    zone = _zone_behind_this_machine()
    started = clock.now().astimezone(zone) - timedelta(minutes=1)
    bot = bot_with_log(tmp_path, plain(*CLEAN, at=started.replace(tzinfo=None)))
    since = (started - timedelta(minutes=10)).isoformat()

    wrong = run_startup(tmp_path, bot, "--since", since)
    assert wrong.failed() >= ANOTHER_ZONE.fails, wrong.output[-4000:]
    message = wrong.outcomes[PAPER_LINE].message
    assert "read as this machine's local time" in message and "--bot-log-tz" in message, message
    assert "the newest is" in message and "bot.log:1" in message

    (tmp_path / "right").mkdir()
    right = run_startup(tmp_path / "right", bot, "--since", since, "--bot-log-tz", "Etc/GMT+12")
    assert right.passed() >= LOG_SCENARIOS, right.output[-4000:]
