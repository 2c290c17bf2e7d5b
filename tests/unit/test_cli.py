"""`harness snapshot|switch|confirm`: exact edits, clear refusals, the user's file never lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from harness import cli
from harness.market import NEW_YORK

SEED_BEFORE = b"DRY_RUN=true\nPAPER_TRADING=false\nIBKR_PORT=4002\nDISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/42/tok_SECRET_123\n"


@pytest.fixture
def bot(tmp_path, monkeypatch):
    root = tmp_path / "bot"
    root.mkdir()
    (root / ".env").write_bytes(SEED_BEFORE)
    monkeypatch.setattr(cli, "_now", lambda: datetime(2026, 2, 10, 16, 45, tzinfo=NEW_YORK))
    monkeypatch.setattr(cli, "_refuse_if_bot_running", lambda pattern: None)
    for name in ("HARNESS_BOT_DIR", "HARNESS_EVIDENCE_DIR", "HARNESS_BASELINE", "HARNESS_BOT_ENV"):
        monkeypatch.delenv(name, raising=False)
    return root


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_switch_paper_edits_exactly_and_backs_up(bot, tmp_path, capsys):
    code, out, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--evidence-dir", str(tmp_path / "ev"))
    assert code == 0, err
    assert (bot / ".env").read_bytes() == SEED_BEFORE.replace(b"DRY_RUN=true", b"DRY_RUN=false").replace(
        b"PAPER_TRADING=false", b"PAPER_TRADING=true")
    backups = list(bot.glob(".env.bak-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == SEED_BEFORE
    assert "DRY_RUN: true -> false" in out and "re-read" in out
    assert "tok_SECRET_123" not in out + err
    baseline = json.loads((tmp_path / "ev" / "baseline.json").read_text())
    assert baseline["keys"]["DRY_RUN"]["value"] == "true"
    assert "tok_SECRET_123" not in json.dumps(baseline)


def test_dry_run_writes_nothing(bot, capsys):
    code, out, _ = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--dry-run")
    assert code == 0 and "nothing written" in out
    assert (bot / ".env").read_bytes() == SEED_BEFORE


def test_refuses_while_the_market_is_open(bot, capsys, monkeypatch):
    monkeypatch.setattr(cli, "_now", lambda: datetime(2026, 2, 10, 11, 0, tzinfo=NEW_YORK))
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot))
    assert code == 1 and "regular session is open" in err and err.count("\n") == 1
    assert (bot / ".env").read_bytes() == SEED_BEFORE
    code, _, _ = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--force", "--evidence-dir", str(bot / "ev"))
    assert code == 0


def test_refuses_when_the_bot_is_running(bot, capsys, monkeypatch):
    def running(pattern):
        raise cli.Refused("the bot looks alive (process 123 matches 'src.main'): stop it first, or use --force")

    monkeypatch.setattr(cli, "_refuse_if_bot_running", running)
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot))
    assert code == 1 and "stop it first" in err
    assert (bot / ".env").read_bytes() == SEED_BEFORE


def test_refuses_a_live_port(bot, capsys):
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--port", "4001")
    assert code == 1 and "LIVE" in err
    assert (bot / ".env").read_bytes() == SEED_BEFORE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", "binary"),
        (b"A=1\n" * 14_000_000, "MB"),  # 56 MB
        (b"DRY_RUN=true\nNAME=Jos\xe9\n", "not valid UTF-8"),
        ("DRY_RUN=true\n".encode("utf-16"), "UTF-16"),
        (b"DRY_RUN=true\nDRY_RUN=true\nPAPER_TRADING=false\n", "set 2 times"),
    ],
)
def test_bad_files_give_one_line_and_stay_untouched(bot, capsys, content, message):
    (bot / ".env").write_bytes(content)
    code, _out, err = run(capsys, "switch", "paper", "--bot-dir", str(bot))
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert (bot / ".env").read_bytes() == content
    assert not list(bot.glob(".env.bak-*"))


def test_missing_bot_dir_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(tmp_path / "nope"))
    assert code == 2 and "not an existing directory" in err


def test_missing_env_file(capsys, tmp_path):
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(tmp_path))
    assert code == 1 and "does not exist" in err


def test_read_only_directory_keeps_the_file(bot, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("harness.envfile.tempfile.mkstemp", refuse)
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--evidence-dir", str(bot / "ev"))
    assert code == 1 and "untouched" in err
    assert (bot / ".env").read_bytes() == SEED_BEFORE


def test_snapshot_and_confirm(bot, tmp_path, capsys):
    evidence = tmp_path / "ev"
    code, out, _ = run(capsys, "snapshot", "--bot-dir", str(bot), "--evidence-dir", str(evidence))
    assert code == 0 and "1 secret" in out
    code, _, err = run(capsys, "confirm", "no_such_item", "--by", "Ann", "--evidence-dir", str(evidence))
    assert code == 1 and "confirm --list" in err
    code, _, err = run(capsys, "confirm", "pre-task-4-2-approved", "--evidence-dir", str(evidence))
    assert code == 1 and "--by" in err
    code, out, _ = run(capsys, "confirm", "pre-task-4-2-approved", "--by", "Ann", "--note", "ok",
                       "--evidence-dir", str(evidence))
    assert code == 0
    stored = json.loads((evidence / "attestations.json").read_text())
    assert stored["attestations"][0]["item"] == "pre_task_4_2_approved"


def test_console_script_bad_input_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "harness.cli", "switch", "paper", "--bot-env",
                             str(tmp_path / "missing.env")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def _not_a_file(kind: str, env: Path) -> None:
    if kind == "fifo":
        os.mkfifo(env)
    else:
        env.symlink_to("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX special files")
@pytest.mark.parametrize(("kind", "says"), [("fifo", "FIFO"), ("dev-zero", "character device")])
@pytest.mark.parametrize("command", [["snapshot"], ["switch", "paper"]])
def test_a_special_file_as_env_is_one_line_never_a_hang(tmp_path, kind, says, command):
    """A FIFO hung `snapshot` and `switch`; a link to /dev/zero ended in MemoryError."""
    bot = tmp_path / "bot"
    bot.mkdir()
    _not_a_file(kind, bot / ".env")
    result = subprocess.run([sys.executable, "-m", "harness.cli", *command, "--bot-dir", str(bot),
                             "--evidence-dir", str(tmp_path / "ev")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert says in result.stderr and "not a regular file" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "ev" / "baseline.json").exists()
