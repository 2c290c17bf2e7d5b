"""A generated bot project directory for the embedded world: the seed's dry-run `.env`, a baseline,
the switch to paper made with the harness's own code, git history with an ignored `.env`, and a log."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from harness.actions.switch import apply_switch, plan_switch
from harness.core import clock
from harness.evidence.baseline import snapshot, write_baseline
from harness.fakes.bot import log_stamp
from harness.probes.envfile import BACKUP_DIR, read_env
from harness.probes.market import NEW_YORK, trading_day


def seed_dry_run_env(webhook_url: str, host: str = "localhost") -> str:
    """The seed's "before" configuration, with the settings Step 2 says must stay unchanged."""
    return (
        "# Trading bot configuration (Phase 4, desktop deployment)\n"
        "DRY_RUN=true\n"
        "PAPER_TRADING=false\n"
        "\n"
        "# IBKR connection\n"
        f"IBKR_HOST={host}\n"
        "IBKR_PORT=4002\n"
        "IBKR_CLIENT_ID=1\n"
        "\n"
        f"DISCORD_WEBHOOK_URL={webhook_url}\n"
        "LOG_LEVEL=INFO\n"
        "LOG_DIR=logs\n"
        "\n"
        "# Risk controls\n"
        "MAX_DAILY_LOSS_PCT=2.0\n"
        "MAX_POSITION_PCT=10.0\n"
        "PDT_ENABLED=true\n"
        "\n"
        "STRATEGY_A_CONFIG=config/strategy_a.yaml\n"
        "STRATEGY_B_CONFIG=config/strategy_b.yaml\n"
    )


@dataclass(frozen=True)
class BotDir:
    root: Path
    env_file: Path
    baseline_file: Path
    log_file: Path
    shutdown_at: datetime


SHUTDOWN_AFTER_CLOSE = timedelta(minutes=45)


def shutdown_before(now: datetime) -> datetime:
    """A clean shutdown 45 minutes after the last regular close before `now`: the seed's 'after 4:00 PM ET'."""
    day = now.astimezone(NEW_YORK).date()
    for back in range(15):
        session = trading_day(day - timedelta(days=back))
        if session is not None and session.close_at + SHUTDOWN_AFTER_CLOSE < now:
            return session.close_at + SHUTDOWN_AFTER_CLOSE
    raise ValueError(f"no NYSE trading day in the two weeks before {day}")


def append_log(bot: BotDir, lines: Iterable[tuple[datetime, str, str]], zone: tzinfo | None = None) -> None:
    """Append (instant, level, message) lines to the bot's log, in the stand-in bot's own format (the wall time of
    its machine: `zone`, else this machine's)."""
    with bot.log_file.open("a", encoding="utf-8", newline="\n") as log:
        log.writelines(f"{log_stamp(at.astimezone(zone))} {level} bot: {text}\n" for at, level, text in lines)


def make_bot_dir(root: Path, *, webhook_url: str | None = None, now: datetime | None = None,
                 git: bool = True, switch: bool = True, gateway_host: str = "localhost",
                 log_zone: tzinfo | None = None, baseline_taken_at: datetime | None = None) -> BotDir:
    """`log_zone`: the zone of the machine the bot logs on (default: this machine's); `baseline_taken_at`: when the
    baseline says it was taken (default: now), for a world whose switch lies in the past."""
    root.mkdir(parents=True, exist_ok=True)
    webhook_url = webhook_url or (
        f"https://discord.com/api/webhooks/{secrets.randbelow(10**18)}/{secrets.token_urlsafe(32)}"
    )
    env_file = root / ".env"
    env_file.write_text(seed_dry_run_env(webhook_url, gateway_host), encoding="utf-8", newline="\n")
    (root / ".gitignore").write_text(".env\nlogs/\n__pycache__/\n", encoding="utf-8")
    (root / ".env.example").write_text(seed_dry_run_env("https://discord.com/api/webhooks/ID/TOKEN", gateway_host),
                                       encoding="utf-8", newline="\n")
    shutdown_at = shutdown_before(now or clock.now())
    log_file = root / "logs" / "bot.log"
    log_file.parent.mkdir(exist_ok=True)
    stamp = shutdown_at.astimezone(log_zone).strftime("%Y-%m-%d %H:%M:%S")  # bots log in the machine's local time
    log_file.write_text(
        f"{stamp},001 INFO bot: Received stop request\n{stamp},250 INFO bot: Shutting down: clean shutdown complete\n",
        encoding="utf-8",
    )
    if git and shutil.which("git") is None:
        git = False  # the committed-configuration scenarios then skip: "not a git repository"
    if git:
        _git(root, "init", "-q")
        _git(root, "add", ".gitignore", ".env.example")
        _git(root, "commit", "-q", "-m", "dry-run configuration")
    baseline_file = root / "harness-baseline.json"
    baseline = snapshot(read_env(env_file))
    if baseline_taken_at is not None:
        baseline = replace(baseline, taken_at=baseline_taken_at.isoformat(timespec="seconds"))
    write_baseline(baseline, baseline_file)
    if switch:
        apply_switch(plan_switch(env_file, "paper"))
        apply_switch(plan_switch(root / ".env.example", "paper"))
        for backup in (root / BACKUP_DIR).glob(".env.example.bak-*"):
            backup.unlink()
        if git:
            _git(root, "commit", "-q", "-am", "Task 4.3: paper trading mode")
    return BotDir(root, env_file, baseline_file, log_file, shutdown_at)


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), "-c", "user.name=stand-in bot", "-c", "user.email=bot@localhost",
         "-c", "commit.gpgsign=false", *args],
        check=True, capture_output=True, timeout=30,
    )
