"""`harness rehearse` on bots nobody here wrote (tests/acceptance/rehearse_bots/): each in a bot folder of its own
with the seed's dry-run `.env`, a committed `.env.example` and a git repository, rehearsed with its own command.
Each bot as written is rehearsed clean (exit 0, every phase VERIFIED); each planted fault (a line of its source
edited, as a person gets it wrong) shows as the scenario failures a live run would show, and exits 1. The
operator's folder is never changed.

Each test runs one whole rehearsal (about 15-25 s: six harness processes and the bot started twice), so the
module is marked `slow`; the ib_insync bot runs in a venv of its own (tests/unit/test_fake_tws_market_insync.py
makes it once in the per-user tools cache; skipped without a package registry, failed under CI).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.evidence.runs import list_runs
from tests.acceptance.matrix import Fault

pytestmark = pytest.mark.slow

BOTS = Path(__file__).with_name("rehearse_bots")
REHEARSE_TIMEOUT = 150.0  # seconds for a whole rehearsal (each of its steps is bounded too)
HERE = "test_rehearse.py::"

# The scenarios each planted fault makes fail, across the rehearsal's preflight, transition and rollback runs.
DISCORD_SAYS_DRY_RUN = {"test_discord_announces_paper_trading_mode",
                        "test_discord_does_not_announce_dryrun_or_live_mode"}
LIVE_PORT = {"test_the_bot_connects_to_its_envs_gateway_on_a_paper_port", "test_no_order_reached_the_live_account",
             "test_every_order_the_bot_logged_is_in_the_paper_account"}
IGNORES_ENV = {"test_the_log_says_paper_trading_mode_is_active", "test_the_startup_lines_appear_in_order",
               "test_the_bot_loaded_dry_runfalse_and_paper_tradingtrue", "test_the_log_never_says_dryrun_mode",
               "test_discord_announces_paper_trading_mode", "test_discord_does_not_announce_dryrun_or_live_mode"}

MATRIX = [
    Fault("ib_async SMA bot, as written", "nothing: 1-minute bars streamed with reqHistoricalData(keepUpToDate), a "
          "20-bar SMA, one limit order; rehearsed with `python -m src.main`", set(),
          HERE + "test_an_ib_async_sma_bot_as_written_rehearses_clean"),
    Fault("ibapi limit bot, as written", "nothing: EWrapper/EClient, reqContractDetails, one limit order; rehearsed "
          "with `python bot.py`", set(), HERE + "test_an_ibapi_limit_bot_as_written_rehearses_clean"),
    Fault("ib_insync crossover bot, as written", "nothing: ib_insync 0.9.86 in a venv of its own, a 5/20-bar SMA "
          "crossover, one limit order, its own .env reader", set(),
          HERE + "test_an_ib_insync_crossover_bot_as_written_rehearses_clean"),
    Fault("ib_async bot: Discord says DRY RUN", "the startup post is hard-coded 'Bot started in DRY RUN mode'",
          DISCORD_SAYS_DRY_RUN, HERE + "test_a_bot_whose_discord_post_says_dry_run_fails_the_discord_scenarios"),
    Fault("ibapi bot: live port", "the bot connects to port 4001 (hard-coded), whatever IBKR_PORT says", LIVE_PORT,
          HERE + "test_a_bot_hard_wired_to_the_live_port_fails_the_routing_scenarios"),
    Fault("ib_insync bot: ignores .env", "the bot hard-codes DRY_RUN=True and PAPER_TRADING=False (never reads "
          "them)", IGNORES_ENV, HERE + "test_a_bot_that_ignores_its_env_fails_the_mode_scenarios"),
]
FAULTS = {fault.test.split("::")[1]: fault for fault in MATRIX}


def dry_run_env(symbol: str, webhook: str) -> str:
    return ("# Trading bot configuration\nDRY_RUN=true\nPAPER_TRADING=false\n\n# IBKR connection\nIBKR_HOST=localhost\n"
            f"IBKR_PORT=4002\nIBKR_CLIENT_ID=1\n\nDISCORD_WEBHOOK_URL={webhook}\nLOG_LEVEL=INFO\nLOG_DIR=logs\n\n"
            f"# Risk controls\nMAX_DAILY_LOSS_PCT=2.0\nMAX_POSITION_PCT=10.0\nSYMBOL={symbol}\n")


def git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=a trader", "-c", "user.email=trader@example.com",
                           "-c", "commit.gpgsign=false", *args], check=True, capture_output=True, text=True,
                          timeout=30).stdout


def make_bot(tmp_path: Path, kind: str, fault: tuple[str, str] | None = None) -> Path:
    """The bot's folder as its operator has it: the bot's source (with `fault`: (line as written, line as gotten
    wrong)), the seed's dry-run .env with a real-looking webhook, .gitignore, a committed .env.example."""
    root = tmp_path / "mybot"
    shutil.copytree(BOTS / kind, root, ignore=shutil.ignore_patterns("__pycache__", "logs"))
    if fault is not None:
        source = next(path for path in root.rglob("*.py") if fault[0] in path.read_text(encoding="utf-8"))
        source.write_text(source.read_text(encoding="utf-8").replace(fault[0], fault[1], 1), encoding="utf-8")
    symbol = {"ib_async_sma": "SPY", "ibapi_limit": "AAPL", "ib_insync_crossover": "QQQ"}[kind]
    webhook = f"https://discord.com/api/webhooks/{secrets.randbelow(10**18)}/{secrets.token_urlsafe(48)}"
    (root / ".env").write_text(dry_run_env(symbol, webhook), encoding="utf-8")
    (root / ".env.example").write_text(dry_run_env(symbol, "https://discord.com/api/webhooks/ID/TOKEN"),
                                       encoding="utf-8")
    (root / ".gitignore").write_text(".env\nlogs/\n__pycache__/\n.venv/\n", encoding="utf-8")
    if shutil.which("git"):
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "the bot, in dry-run")
    return root


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file of the operator's folder (its repository's files too), as SHA-256."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@dataclass(frozen=True)
class Rehearsed:
    code: int
    output: str
    root: Path  # <evidence-dir>/rehearsals/<time>/

    @property
    def evidence(self) -> Path:
        return self.root / "evidence"

    def runs(self) -> dict[str, object]:
        return {run.phase: run for run in list_runs(self.evidence)}

    def failed(self) -> set[str]:
        """The scenarios that failed in any of the rehearsal's runs."""
        return {str(row.get("scenario")) for run in self.runs().values() for row in run.rows()
                if row.get("outcome") in ("failed", "error")}

    def summary(self) -> dict:
        return json.loads((self.root / "rehearsal.json").read_text(encoding="utf-8"))


def rehearse(tmp_path: Path, bot: Path, command: str, *extra: str) -> Rehearsed:
    evidence = tmp_path / "reports"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "DISCORD_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-m", "harness.cli", "rehearse", "--bot-dir", str(bot), "--bot-command",
                           command, "--evidence-dir", str(evidence), "--for", "2s", "--every", "1s", "--no-html",
                           *extra], cwd=tmp_path, env=environ, capture_output=True, text=True,
                          timeout=REHEARSE_TIMEOUT)
    roots = sorted((evidence / "rehearsals").iterdir())
    assert len(roots) == 1, done.stdout[-3000:] + done.stderr[-3000:]
    return Rehearsed(done.returncode, done.stdout + done.stderr, roots[0])


def assert_clean(result: Rehearsed) -> None:
    assert result.code == 0, result.output[-6000:]
    assert result.failed() == set()
    runs = result.runs()
    assert set(runs) == {"preflight", "transition", "first-hour", "rollback"}  # the first day: the live run's
    assert {run.world for run in runs.values()} == {"rehearsal"}
    for run in runs.values():
        assert (run.verdict() or {}).get("overall") == "TRANSITION VERIFIED", (run.phase, result.output[-4000:])
    assert result.summary()["status"] == "SUCCESS"
    log = (result.root / "Task_4_3_Transition_Log.md").read_text(encoding="utf-8")
    assert "REHEARSAL — not evidence of a live transition" in log.splitlines()[0]
    assert "Left to the live run" in log and "**Status:** SUCCESS" in log


def assert_caught(result: Rehearsed, test_name: str) -> None:
    fault = FAULTS[test_name]
    assert result.code == 1, result.output[-6000:]
    assert result.failed() == set(fault.fails), result.output[-6000:]
    assert result.summary()["status"] == "NEEDS REMEDIATION"
    assert "REHEARSAL: NEEDS REMEDIATION (exit 1)" in result.output


def venv_python() -> str:
    return sys.executable


def insync_python() -> str:
    from tests.unit.test_fake_tws_market_insync import insync_python as made_once

    return str(made_once())


# -- each bot as written ------------------------------------------------------------------------------------------
def test_an_ib_async_sma_bot_as_written_rehearses_clean(tmp_path: Path):
    bot = make_bot(tmp_path, "ib_async_sma")
    before = fingerprint(bot)
    result = rehearse(tmp_path, bot, f'"{venv_python()}" -m src.main', "--keep")
    assert_clean(result)
    assert fingerprint(bot) == before  # the operator's folder, its .env and its repository untouched
    copy = result.root / "bot"
    assert "IBKR_HOST=127." in (copy / ".env").read_text(encoding="utf-8")  # the copy pointed at the fakes
    assert not (copy / ".harness-backups").exists() or not any((copy / ".harness-backups").glob(".env.example*"))
    webhook = next(line for line in (bot / ".env").read_text(encoding="utf-8").splitlines()
                   if line.startswith("DISCORD_WEBHOOK_URL=")).split("=", 1)[1]
    for written in [*result.root.glob("*.txt"), *result.root.glob("*.md"), *result.root.glob("*.json")]:
        assert webhook not in written.read_text(encoding="utf-8"), written
    assert webhook not in result.output


def test_an_ibapi_limit_bot_as_written_rehearses_clean(tmp_path: Path):
    bot = make_bot(tmp_path, "ibapi_limit")
    result = rehearse(tmp_path, bot, f'"{venv_python()}" bot.py')
    assert_clean(result)
    assert not (result.root / "bot").exists()  # the copy goes unless --keep


def test_an_ib_insync_crossover_bot_as_written_rehearses_clean(tmp_path: Path):
    python = insync_python()
    bot = make_bot(tmp_path, "ib_insync_crossover")
    assert_clean(rehearse(tmp_path, bot, f'"{python}" crossover_bot.py'))


# -- a fault planted in each ----------------------------------------------------------------------------------------
def test_a_bot_whose_discord_post_says_dry_run_fails_the_discord_scenarios(tmp_path: Path):
    bot = make_bot(tmp_path, "ib_async_sma", ('notify(f"Bot started in {mode_name()} mode',
                                              'notify(f"Bot started in DRY RUN mode'))
    result = rehearse(tmp_path, bot, f'"{venv_python()}" -m src.main')
    assert_caught(result, "test_a_bot_whose_discord_post_says_dry_run_fails_the_discord_scenarios")


def test_a_bot_hard_wired_to_the_live_port_fails_the_routing_scenarios(tmp_path: Path):
    bot = make_bot(tmp_path, "ibapi_limit", ('PORT = int(os.environ.get("IBKR_PORT", "4002"))',
                                             "PORT = 4001  # IB Gateway"))
    result = rehearse(tmp_path, bot, f'"{venv_python()}" bot.py')
    assert_caught(result, "test_a_bot_hard_wired_to_the_live_port_fails_the_routing_scenarios")
    assert "ORDERS IN THE LIVE ACCOUNT" in result.output


def test_a_bot_that_ignores_its_env_fails_the_mode_scenarios(tmp_path: Path):
    python = insync_python()
    bot = make_bot(tmp_path, "ib_insync_crossover", ('DRY_RUN = flag("DRY_RUN", "true")\n'
                                                     'PAPER_TRADING = flag("PAPER_TRADING", "false")',
                                                     "DRY_RUN = True  # safe default until the strategy is proven\n"
                                                     "PAPER_TRADING = False"))
    result = rehearse(tmp_path, bot, f'"{python}" crossover_bot.py')
    assert_caught(result, "test_a_bot_that_ignores_its_env_fails_the_mode_scenarios")
