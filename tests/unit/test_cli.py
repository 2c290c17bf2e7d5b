"""`harness snapshot|switch|confirm`: exact edits, clear refusals, the user's file never lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from harness import cli
from harness.cli import snapshot as cli_snapshot
from harness.cli import switch as cli_switch
from harness.probes.market import NEW_YORK

SEED_BEFORE = b"DRY_RUN=true\nPAPER_TRADING=false\nIBKR_PORT=4002\nDISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/42/tok_SECRET_123\n"


@pytest.fixture
def bot(tmp_path, monkeypatch):
    root = tmp_path / "bot"
    root.mkdir()
    (root / ".env").write_bytes(SEED_BEFORE)
    monkeypatch.setattr(cli_switch, "_now", lambda: datetime(2026, 2, 10, 16, 45, tzinfo=NEW_YORK))
    for name in ("HARNESS_BOT_DIR", "HARNESS_EVIDENCE_DIR", "HARNESS_BASELINE", "HARNESS_BOT_ENV"):
        monkeypatch.delenv(name, raising=False)
    # The real running-bot check runs in every switch, looking for a command line nothing on this machine has
    # (the default, src.main, may be another test's stand-in process).
    monkeypatch.setenv("HARNESS_BOT_PROCESS", f"no-such-bot-{uuid.uuid4().hex}")
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
    backups = list(bot.glob(".harness-backups/.env.bak-*"))
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
    monkeypatch.setattr(cli_switch, "_now", lambda: datetime(2026, 2, 10, 11, 0, tzinfo=NEW_YORK))
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot))
    assert code == 1 and "regular session is open" in err and err.count("\n") == 1
    assert (bot / ".env").read_bytes() == SEED_BEFORE
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--force-running-bot")
    assert code == 1 and "regular session is open" in err  # the other override does not lift this one
    code, _, _ = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--force-market-hours", "--evidence-dir",
                     str(bot / "ev"))
    assert code == 0


def test_refuses_when_the_bot_is_running(bot, capsys):
    """The real refusal: a process whose command line holds the --bot-process text is running."""
    marker = f"harness-test-bot-{uuid.uuid4().hex}"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker], cwd=bot)
    try:
        code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--bot-process", marker)
        assert code == 1 and "stop it first" in err and str(process.pid) in err
        code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--bot-process", marker,
                           "--force-market-hours")
        assert code == 1 and "--force-running-bot" in err  # the market override does not lift this one
        assert (bot / ".env").read_bytes() == SEED_BEFORE
        code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--bot-process", marker,
                           "--force-running-bot", "--evidence-dir", str(bot / "ev"))
        assert code == 0, err
    finally:
        process.kill()
        process.wait(10)


def test_force_alone_is_refused_naming_the_two_overrides(bot, capsys):
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--force")
    assert code == 2 and "--force-market-hours" in err and "--force-running-bot" in err and err.count("\n") == 1
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
    assert not list(bot.glob(".harness-backups/.env.bak-*"))


def test_missing_bot_dir_is_a_usage_error(capsys, tmp_path):
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(tmp_path / "nope"))
    assert code == 2 and "not an existing directory" in err


def test_missing_env_file(capsys, tmp_path):
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(tmp_path))
    assert code == 1 and "does not exist" in err


def test_read_only_directory_keeps_the_file(bot, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("harness.probes.envfile.tempfile.mkstemp", refuse)
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


# --- the baseline: written once, bound to one bot's pre-switch .env ----------------------------------------


def test_a_second_snapshot_is_refused_and_says_what_it_would_change(bot, tmp_path, capsys):
    """Was: a second snapshot after the switch silently replaced the baseline, and MAX_POSITION_PCT 10 -> 50
    then passed 'no other setting changed'."""
    evidence = tmp_path / "ev"
    code, _, err = run(capsys, "snapshot", "--bot-dir", str(bot), "--evidence-dir", str(evidence))
    assert code == 0, err
    first = (evidence / "baseline.json").read_bytes()
    (bot / ".env").write_bytes(SEED_BEFORE.replace(b"IBKR_PORT=4002", b"IBKR_PORT=4002\nMAX_POSITION_PCT=50")
                               .replace(b"tok_SECRET_123", b"tok_OTHER_456"))
    code, out, err = run(capsys, "snapshot", "--bot-dir", str(bot), "--evidence-dir", str(evidence))
    assert code == 1 and "written once" in err and "--replace" in err and err.count("\n") == 1
    assert "MAX_POSITION_PCT: (absent) -> 50" in out and "DISCORD_WEBHOOK_URL: **** -> ****" in out
    assert "tok_" not in out + err
    assert (evidence / "baseline.json").read_bytes() == first
    code, out, err = run(capsys, "snapshot", "--bot-dir", str(bot), "--evidence-dir", str(evidence), "--replace")
    assert code == 0, err
    assert "MAX_POSITION_PCT: (absent) -> 50" in out and "tok_" not in out
    assert json.loads((evidence / "baseline.json").read_text())["keys"]["MAX_POSITION_PCT"]["value"] == "50"


def test_a_snapshot_of_a_switched_env_is_refused(bot, tmp_path, capsys):
    (bot / ".env").write_bytes(SEED_BEFORE.replace(b"DRY_RUN=true", b"DRY_RUN=false").replace(
        b"PAPER_TRADING=false", b"PAPER_TRADING=true"))
    code, _, err = run(capsys, "snapshot", "--bot-dir", str(bot), "--evidence-dir", str(tmp_path / "ev"))
    assert code == 1 and "already in paper mode" in err and "harness switch dry-run" in err
    assert not (tmp_path / "ev" / "baseline.json").exists()


def test_the_baseline_records_the_resolved_env_and_its_mode(bot, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(bot)
    code, out, err = run(capsys, "snapshot", "--bot-env", ".env", "--evidence-dir", str(tmp_path / "ev"))
    assert code == 0, err
    stored = json.loads((tmp_path / "ev" / "baseline.json").read_text())
    assert stored["env_path"] == str((bot / ".env").resolve())
    assert stored["mode"] == {"DRY_RUN": "true", "PAPER_TRADING": "false"}
    assert "DRY_RUN=true, PAPER_TRADING=false" in out


def test_switch_refuses_a_baseline_of_another_bot(bot, tmp_path, capsys):
    other = tmp_path / "other-bot"
    other.mkdir()
    (other / ".env").write_bytes(SEED_BEFORE)
    evidence = tmp_path / "ev"
    assert run(capsys, "snapshot", "--bot-dir", str(other), "--evidence-dir", str(evidence))[0] == 0
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--evidence-dir", str(evidence))
    assert code == 1 and str((other / ".env").resolve()) in err and "nothing changed" in err
    assert (bot / ".env").read_bytes() == SEED_BEFORE and not list(bot.glob(".harness-backups/.env.bak-*"))


def test_switch_keeps_this_bots_baseline_and_a_rollback_records_none(bot, tmp_path, capsys):
    evidence = tmp_path / "ev"
    assert run(capsys, "snapshot", "--bot-dir", str(bot), "--evidence-dir", str(evidence))[0] == 0
    first = (evidence / "baseline.json").read_bytes()
    assert run(capsys, "switch", "paper", "--bot-dir", str(bot), "--evidence-dir", str(evidence))[0] == 0
    assert (evidence / "baseline.json").read_bytes() == first
    elsewhere = tmp_path / "ev2"
    assert run(capsys, "switch", "dry-run", "--bot-dir", str(bot), "--evidence-dir", str(elsewhere))[0] == 0
    assert not (elsewhere / "baseline.json").exists()


# --- what the switch says, and the options it shares with pytest --------------------------------------------


@pytest.mark.parametrize(("line", "shown"), [(b"DRY_RUN=flase", "'flase'"), (b"DRY_RUN=", "''"),
                                             (b"DRY_RUN=1", "'1'")])
def test_switch_says_when_the_old_mode_value_was_not_a_boolean(bot, tmp_path, capsys, line, shown):
    (bot / ".env").write_bytes(SEED_BEFORE.replace(b"DRY_RUN=true", line))
    code, out, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--evidence-dir", str(tmp_path / "ev"))
    assert code == 0, err
    assert f"DRY_RUN was {shown} (not a boolean)" in out and "may have read it as false" in out
    assert "now false" in out


def test_a_boolean_old_value_gets_no_note(bot, tmp_path, capsys):
    code, out, _ = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--evidence-dir", str(tmp_path / "ev"))
    assert code == 0 and "not a boolean" not in out


def test_every_pytest_harness_option_is_accepted_by_every_command(bot, tmp_path, capsys):
    """The README says the options are shared; `harness switch --live-gateway` was rejected."""
    shared = ["--live-gateway", "--gateway", "localhost:4002", "--phase", "transition", "--network-timeout", "5",
              "--live-gateway-port", "4001", "--place-test-order", "--bot-log", "logs/*.log"]
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--dry-run", *shared)
    assert code == 0, err
    code, _, err = run(capsys, "snapshot", "--bot-dir", str(bot), "--evidence-dir", str(tmp_path / "ev"), *shared)
    assert code == 0, err
    code, _, err = run(capsys, "confirm", "--list", "--bot-dir", str(bot), *shared)
    assert code == 0, err
    code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--gateway", "nowhere")
    assert code == 2 and "--gateway='nowhere'" in err  # parsed like pytest's, not ignored


def test_fake_gateway_help_names_the_harness_command():
    result = subprocess.run([sys.executable, "-m", "harness.cli", "fake-gateway", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("usage: harness fake-gateway")


@pytest.mark.parametrize("command", [["snapshot"], ["switch", "paper"], ["confirm"]])
def test_the_parser_takes_every_setting_of_the_plugin(command):
    """One table (harness.core.settings.SPECS) feeds pytest and every harness command: none is missing or clashes."""
    from harness.core.settings import SPECS

    parser = cli.build_parser()
    for spec in SPECS:
        argv = [*command, spec.option] if spec.flag else [*command, spec.option, "x"]
        parsed = parser.parse_args(argv)
        assert getattr(parsed, spec.name) == (True if spec.flag else "x"), spec.option


# -- a defect in a command: one redacted line, exit 3 ---------------------------------------------------------
ENV_PASSWORD = "pw-Ünïcode\"quoted'-9f3K"
DISCORD_TOKEN = "MTk4NjIy.Gx-cli-token_Ab9Cd"


@pytest.fixture
def broken_snapshot(bot, monkeypatch):
    """`harness snapshot` whose command raises an exception quoting the .env's password, the Discord token and a
    full account id, as a defect deep in a probe might."""
    with (bot / ".env").open("a", encoding="utf-8", newline="\n") as env:
        env.write('IBKR_PASSWORD="' + ENV_PASSWORD.replace('"', '\\"') + '"\n')  # python-dotenv's escaping
    monkeypatch.setenv("DISCORD_BOT_TOKEN", DISCORD_TOKEN)
    monkeypatch.delenv("HARNESS_DEBUG", raising=False)

    def explode(settings, args):
        raise KeyError(f"login as DU1234567 with {ENV_PASSWORD!r} and\n{DISCORD_TOKEN} failed")

    monkeypatch.setattr(cli_snapshot, "run", explode)
    from harness.probes.envfile import read_env

    assert read_env(bot / ".env").values["IBKR_PASSWORD"] == ENV_PASSWORD, "planting failed"
    return bot


def _leaked(text: str) -> list[str]:
    return [value for value in (ENV_PASSWORD, repr(ENV_PASSWORD)[1:-1], DISCORD_TOKEN, "DU1234567", "Ünïcode")
            if value in text]


def test_an_unexpected_exception_is_one_redacted_line_and_exit_3(broken_snapshot, capsys):
    code, out, err = run(capsys, "snapshot", "--bot-dir", str(broken_snapshot))
    assert code == cli.EXIT_INTERNAL == 3
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith("harness: snapshot: internal error: KeyError: "), err
    assert err.rstrip().endswith("(run with HARNESS_DEBUG=1 for the traceback)"), err
    assert "DU****567" in err and "Traceback" not in err
    assert not _leaked(err), err


def test_harness_debug_shows_the_traceback_redacted(broken_snapshot, capsys, monkeypatch):
    monkeypatch.setenv("HARNESS_DEBUG", "1")
    code, _, err = run(capsys, "snapshot", "--bot-dir", str(broken_snapshot))
    assert code == 3
    assert "Traceback (most recent call last)" in err and "in explode" in err, err
    assert err.rstrip().splitlines()[-1].startswith("harness: snapshot: internal error: KeyError: ")
    assert not _leaked(err), err


def test_a_refusal_and_a_usage_error_are_not_internal_errors(bot, capsys, monkeypatch):
    monkeypatch.setenv("DISCORD_BOT_TOKEN", DISCORD_TOKEN)
    code, _, err = run(capsys, "snapshot")  # which .env?
    assert code == cli.EXIT_REFUSED and "internal error" not in err, err
    code, _, err = run(capsys, "snapshot", "--bot-dir", str(bot), "--client-id", "not-a-number")
    assert code == cli.EXIT_USAGE and "internal error" not in err, err


def test_a_process_of_another_checkout_does_not_block_the_switch(bot, tmp_path, capsys):
    """`python -m src.main` of another checkout on the same machine: named by nothing but the pattern, it runs
    outside this bot's directory, so it is not this bot (the switch said "the bot looks alive")."""
    elsewhere = tmp_path / "other-checkout"
    elsewhere.mkdir()
    marker = f"harness-test-bot-{uuid.uuid4().hex}"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker], cwd=elsewhere)
    try:
        code, _, err = run(capsys, "switch", "paper", "--bot-dir", str(bot), "--bot-process", marker,
                           "--force-market-hours", "--evidence-dir", str(bot / "ev"))
        assert code == 0, err
    finally:
        process.kill()
        process.wait(10)
