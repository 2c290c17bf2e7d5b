"""`harness watch` as the operator runs it (a subprocess, no terminal): a compressed first hour on the embedded
world passes and leaves its rounds in the evidence; a faulty world fails its round, exits 1 and posts exactly
one alert; Ctrl-C stops with a summary and 6; a gateway that is down leaves rounds "operator to confirm" and 6,
in bounded time; no planted secret reaches the output or the evidence. No order is ever placed by the watch."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from harness.core import clock
from harness.evidence.runs import first_hour_ends, latest_runs, list_runs
from harness.fakes.discord import FakeDiscord
from harness.verdict.decide import EXIT_INCOMPLETE, EXIT_NEEDS_REMEDIATION, EXIT_VERIFIED
from tests.acceptance.runner import REPO
from tests.leakcheck import leaks

WATCH_TIMEOUT = 180.0  # seconds: a compressed watch takes a few; this only keeps a hang from hanging the suite
PLANTED_PASSWORD = "Wx7-planted-Pa55word-q9"


def _environ(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("HARNESS_") and k not in ("BOT_FAULTS", "DISCORD_ALERT_WEBHOOK", "CI")}
    environ["PYTHONIOENCODING"] = "utf-8"
    environ.update(extra)
    return environ


def _command(evidence: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "watch", "--evidence-dir", str(evidence), *args]


def _watch(evidence: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(_command(evidence, *args), cwd=REPO, env=_environ(**extra), capture_output=True,
                          text=True, encoding="utf-8", timeout=WATCH_TIMEOUT)


def _evidence_text(evidence: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in evidence.rglob("*") if path.is_file())


def test_a_compressed_hour_on_the_embedded_world_passes_and_leaves_its_rounds(tmp_path):
    evidence = tmp_path / "evidence"
    result = _watch(evidence, "--for", "3s", "--every", "1s")
    assert result.returncode == EXIT_VERIFIED, result.stdout + result.stderr
    assert "EMBEDDED world" in result.stdout  # the operator is told it is not their bot
    run = latest_runs(evidence)["first-hour"]
    rows = run.watch_rounds()
    assert [row["round"] for row in rows] == [1, 2, 3, 4]
    assert all(row["status"] == "passed" for row in rows)
    assert {c["item"] for c in rows[0]["checks"]} == {"dod_no_crashes", "dod_log_paper", "dod_orders_paper",
                                                      "dod_no_live_orders", "dod_discord_paper"}
    assert run.verdict()["overall"] == "TRANSITION VERIFIED" and run.info["exit_status"] == 0
    assert [line for line in result.stdout.splitlines() if line.startswith("round ")][-1].startswith("round 4/4")
    # The gateways' facts of the last round, for the report's picture, account ids masked as everywhere.
    paper, live = run.paper_account(), run.live_account()
    assert paper is not None and live is not None and paper["accounts"] and live["accounts"]
    assert not re.search(r"\b(?:DU|DF|DI|U)\d{5,}\b", _evidence_text(evidence) + result.stdout)


def test_orders_in_the_live_account_fail_the_round_exit_1_and_post_exactly_one_alert(tmp_path):
    evidence = tmp_path / "evidence"
    with FakeDiscord() as discord:
        webhook, token = discord.alert_webhook_url, discord.alert_webhook_token
        result = _watch(evidence, "--for", "2s", "--every", "1s", HARNESS_EMBEDDED_FAULTS="live-account-activity",
                        DISCORD_ALERT_WEBHOOK=webhook)
        alerts = discord.alerts
    assert result.returncode == EXIT_NEEDS_REMEDIATION, result.stdout + result.stderr
    rows = latest_runs(evidence)["first-hour"].watch_rounds()
    assert rows and all(row["status"] == "failed" for row in rows)
    failed = {c["name"] for c in rows[0]["checks"] if c["status"] == "failed"}
    assert failed == {"live account"}
    assert len(alerts) == 1, alerts
    assert "round 1 FAILED" in alerts[0]["content"] and "live account" in alerts[0]["content"]
    assert "alert sent" in result.stdout
    for text in (result.stdout, result.stderr, _evidence_text(evidence), alerts[0]["content"]):
        assert not leaks(text, webhook) and not leaks(text, token, pieces=True)


def test_a_bot_that_crashed_with_a_traceback_fails_the_first_round(tmp_path):
    evidence = tmp_path / "evidence"
    result = _watch(evidence, "--for", "1s", "--every", "1s", BOT_FAULTS="crash")
    assert result.returncode == EXIT_NEEDS_REMEDIATION, result.stdout + result.stderr
    first = latest_runs(evidence)["first-hour"].watch_rounds()[0]
    errors = next(c for c in first["checks"] if c["name"] == "log errors")
    assert errors["status"] == "failed" and "Traceback" in errors["message"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to one process; Windows has CTRL_C_EVENT for groups")
def test_ctrl_c_mid_watch_prints_a_summary_writes_the_evidence_and_exits_6(tmp_path):
    evidence = tmp_path / "evidence"
    watch = subprocess.Popen(_command(evidence, "--for", "10m", "--every", "1s"), cwd=REPO, env=_environ(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        deadline = time.monotonic() + WATCH_TIMEOUT
        while time.monotonic() < deadline and watch.poll() is None:
            runs = list_runs(evidence)
            if runs and len(runs[0].watch_rounds()) >= 2:
                break
            time.sleep(0.2)
        assert watch.poll() is None, "the watch ended before it could be interrupted"
        stand_in_bots = _stand_in_bots(watch.pid)
        assert stand_in_bots, "the embedded world's stand-in bot is not a child of the watch"
        watch.send_signal(signal.SIGINT)
        out, err = watch.communicate(timeout=60)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.communicate(timeout=10)
    assert watch.returncode == EXIT_INCOMPLETE, out + err
    assert "stopped by Ctrl-C" in out and "(stopped early)" in out and "INCOMPLETE (first-hour)" in out
    assert "Traceback" not in err
    run = latest_runs(evidence)["first-hour"]
    assert len(run.watch_rounds()) >= 2 and run.info["stopped_early"] is True
    assert run.verdict()["overall"] == "INCOMPLETE"
    assert not [bot.pid for bot in stand_in_bots if _alive(bot)], "Ctrl-C left the stand-in bot running"


def _stand_in_bots(pid: int) -> list:
    import psutil

    found = []
    for child in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "harness.fakes.bot" in child.cmdline():
                found.append(child)
    return found


def _alive(process) -> bool:
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _operators_bot(tmp_path: Path, *extra_lines: str) -> Path:
    """A bot directory whose newest start says paper and that it connected (the gateway is another matter)."""
    root = tmp_path / "bot"
    (root / "logs").mkdir(parents=True)
    (root / ".env").write_text("DRY_RUN=false\nPAPER_TRADING=true\nIBKR_HOST=127.0.0.1\nIBKR_PORT=4002\n"
                               f"IBKR_CLIENT_ID=1\nIBKR_PASSWORD={PLANTED_PASSWORD}\n", encoding="utf-8")
    stamp = (clock.local_now().replace(tzinfo=None) - timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M:%S,000")
    lines = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at 127.0.0.1:4002",
             "Gateway connection established", "Paper trading mode ACTIVE", "Bot initialized successfully",
             *extra_lines]
    (root / "logs" / "bot.log").write_text("".join(f"{stamp} INFO bot: {line}\n" for line in lines), encoding="utf-8")
    return root


def _closed_port() -> int:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        return holder.getsockname()[1]


def _running(bot: Path) -> subprocess.Popen:
    """The operator's bot process: `python -m src.main` (as --bot-process's default names it), in its folder."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "-m", "src.main"], cwd=bot)


def test_a_gateway_that_is_down_leaves_rounds_to_confirm_and_exits_6_in_bounded_time(tmp_path):
    evidence = tmp_path / "evidence"
    bot = _operators_bot(tmp_path)
    process = _running(bot)
    try:
        result = _watch(evidence, "--for", "2s", "--every", "1s", "--live-gateway", "--bot-dir", str(bot),
                        "--gateway", f"127.0.0.1:{_closed_port()}", "--live-gateway-port", str(_closed_port()),
                        "--network-timeout", "2")
    finally:
        process.kill()
        process.wait(10)
    assert result.returncode == EXIT_INCOMPLETE, result.stdout + result.stderr
    rows = latest_runs(evidence)["first-hour"].watch_rounds()
    assert len(rows) == 3 and all(row["status"] == "operator to confirm" for row in rows)
    by_name = {c["name"]: c["status"] for c in rows[0]["checks"]}
    assert by_name["bot connection"] == by_name["paper orders"] == by_name["live account"] == "operator to confirm"
    assert by_name["log errors"] == by_name["log mode"] == by_name["bot alive"] == "passed"
    assert "EMBEDDED" not in result.stdout  # bounded: _watch's subprocess timeout fails a hang
    # The watch names the bot it watched: the first-day run of this bot reads when its first hour ended.
    assert first_hour_ends(evidence, bot) == (datetime.fromisoformat(latest_runs(evidence)["first-hour"]
                                                                          .finished_at),)


def test_a_log_line_the_terminal_cannot_encode_is_shown_not_fatal(tmp_path):
    evidence = tmp_path / "evidence"
    bot = _operators_bot(tmp_path, "ERROR order ✓ rejected: ünïcødé 注文")
    result = subprocess.run(_command(evidence, "--for", "1s", "--every", "1s", "--bot-dir", str(bot)), cwd=REPO,
                            env=_environ(PYTHONIOENCODING="ascii"), capture_output=True, timeout=WATCH_TIMEOUT)
    out, err = result.stdout.decode("ascii", errors="replace"), result.stderr.decode("ascii", errors="replace")
    assert result.returncode == EXIT_NEEDS_REMEDIATION, out + err
    assert "order ? rejected" in out and "Traceback" not in err
    errors = latest_runs(evidence)["first-hour"].watch_rounds()[0]["checks"][0]
    assert "✓" in errors["message"]  # the evidence is UTF-8 whatever the terminal's encoding


def test_no_planted_secret_reaches_the_output_or_the_rounds(tmp_path):
    evidence = tmp_path / "evidence"
    bot = _operators_bot(tmp_path, f"ERROR login retry failed for password={PLANTED_PASSWORD}")
    result = _watch(evidence, "--for", "1s", "--every", "1s", "--bot-dir", str(bot),
                    DISCORD_ALERT_WEBHOOK="http://127.0.0.1:9/api/webhooks/123/planted-Alert-Token-zz")
    assert result.returncode == EXIT_NEEDS_REMEDIATION, result.stdout + result.stderr
    rows = latest_runs(evidence)["first-hour"].watch_rounds()
    errors = next(c for c in rows[0]["checks"] if c["name"] == "log errors")
    assert errors["status"] == "failed" and "login retry failed" in errors["message"]
    assert "could NOT be sent" in result.stdout  # nobody listens on port 9: told, never quoted
    for text in (result.stdout, result.stderr, _evidence_text(evidence)):
        for secret in (PLANTED_PASSWORD, "planted-Alert-Token-zz", "http://127.0.0.1:9/api/webhooks/123"):
            assert not leaks(text, secret, pieces=True), (secret, text[:2000])
    assert json.loads((evidence / "verdict-first-hour.json").read_text(encoding="utf-8"))["world"] == "bot directory"
