"""`harness rehearse`'s pieces without a bot: a rehearsal's runs never count toward the transition (judge_chain), a
rehearsal is judged on its own phases (its first day left to the live run), the copy of the bot's folder, its
`.env` pointed at the fakes, and the environment its processes inherit."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.core.settings import resolve
from harness.fakes.rehearsal import copy_bot_dir, inherited_environ, point_env_at, secrets_of, translated_path
from harness.verdict.outcome import INCOMPLETE, NEEDS_REMEDIATION, SUCCESS, outcome
from harness.verdict.transition import judge_chain
from tests.unit.test_transition_chain import clean_record, run, status_of

WEBHOOK = "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"


def rehearsal_record(*, rollback: bool = True) -> list:
    record = [run("preflight", 0, world="rehearsal"), run("transition", 1, world="rehearsal"),
              run("first-hour", 2, lasted=0.1, world="rehearsal")]
    return [*record, run("rollback", 3, world="rehearsal")] if rollback else record


def test_a_rehearsal_never_counts_beside_a_real_bots_runs():
    real = clean_record()
    rehearsed = [run("transition", 3 * 24 * 60 + 5, world="rehearsal", status="FAILED"),
                 run("first-day", 4 * 24 * 60, world="rehearsal")]
    chain = judge_chain([*real, *rehearsed])
    assert {r.run_id for r in chain.runs.values()} == {r.run_id for r in real}
    assert {run_id for run_id, _why in chain.set_aside} == {r.run_id for r in rehearsed}
    assert all("a rehearsal (`harness rehearse`" in why for _run_id, why in chain.set_aside)
    assert status_of([*real, *rehearsed])[0] == SUCCESS  # the rehearsal's failure is not the transition's


def test_a_rehearsal_alone_is_judged_as_one_and_sets_the_demo_aside():
    demo = clean_record("embedded")
    chain = judge_chain([*rehearsal_record(), *demo])
    assert {r.world for r in chain.runs.values()} == {"rehearsal"}
    assert any("the embedded world (a demonstration)" in why for _run_id, why in chain.set_aside)


def test_a_rehearsal_needs_its_rollback_and_leaves_the_first_day_to_the_live_run():
    status, failed, open_ = status_of(rehearsal_record())
    assert (status, failed, open_) == (SUCCESS, (), ())  # a first hour of seconds, no first day, a rollback: fine
    status, _failed, open_ = status_of(rehearsal_record(rollback=False))
    assert status == INCOMPLETE and open_ == ("rollback: not run yet (`harness check --phase rollback`)",)
    broken = rehearsal_record()
    broken[1] = run("transition", 1, world="rehearsal", status="FAILED")
    assert status_of(broken)[0] == NEEDS_REMEDIATION


def test_a_real_bots_rollback_still_undoes_its_transition():
    chain = judge_chain([*clean_record(), run("rollback", 5 * 24 * 60)])
    result = outcome(chain.runs, {}, chain)
    assert result.status == INCOMPLETE and "the transition was rolled back" in result.open[0]


def test_a_run_marked_rehearsal_records_the_world_rehearsal_only_beside_a_bot(tmp_path: Path):
    (tmp_path / ".env").write_text("DRY_RUN=true\n", encoding="utf-8")
    settings = resolve({"rehearsal": True, "live_gateway": True, "bot_dir": str(tmp_path)}, {})
    assert (settings.world_kind, settings.recorded_world) == ("live", "rehearsal")
    assert resolve({}, {"HARNESS_REHEARSAL": "1"}).recorded_world == "embedded"
    assert resolve({"live_gateway": True, "bot_dir": str(tmp_path)}, {}).recorded_world == "live"


# -- the copy ------------------------------------------------------------------------------------------------------
def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@t", "-c",
                           "commit.gpgsign=false", *args], check=True, capture_output=True, text=True,
                          timeout=30).stdout


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    root = tmp_path / "mybot"
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print('bot')\n", encoding="utf-8")
    (root / ".env").write_text(f"DRY_RUN=true\nPAPER_TRADING=false\nIBKR_HOST=localhost\nIBKR_PORT=4002\n"
                               f"IBKR_CLIENT_ID=1\nDISCORD_WEBHOOK_URL={WEBHOOK}\nLOG_DIR={root / 'logs'}\n"
                               "DISCORD_CHANNEL_ID=123456789012345678\n", encoding="utf-8")
    (root / ".env.example").write_text("DRY_RUN=true\nPAPER_TRADING=false\n", encoding="utf-8")
    (root / ".gitignore").write_text(".env\nlogs/\n", encoding="utf-8")
    (root / "logs").mkdir()
    (root / "logs" / "bot.log").write_text("2026-12-04 16:45:00,000 INFO bot: Shutting down\n", encoding="utf-8")
    (root / ".venv").mkdir()
    (root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    (root / ".harness-backups").mkdir()
    (root / ".harness-backups" / ".env.bak-1").write_text("SECRET=1\n", encoding="utf-8")
    if shutil.which("git"):
        _git(root, "init", "-q")
        _git(root, "add", ".gitignore", ".env.example", "src")
        _git(root, "commit", "-qm", "dry-run configuration")
        (root / "src" / "main.py").write_text("print('bot, changed')\n", encoding="utf-8")  # not committed
    return root


def test_the_copy_leaves_out_venvs_logs_and_backups_and_keeps_empty_log_folders(bot: Path, tmp_path: Path):
    copy = copy_bot_dir(bot, tmp_path / "rehearsal" / "bot")
    names = {p.relative_to(copy.root).as_posix() for p in copy.root.rglob("*") if ".git/" not in
             p.relative_to(copy.root).as_posix() + "/" or p.name == ".git"}
    assert {"src/main.py", ".env", ".env.example", ".gitignore", "logs"} <= names
    assert not {"logs/bot.log", ".venv", ".harness-backups"} & names
    assert {line.split(" (")[0] for line in copy.skipped} == {".venv/", ".harness-backups/", "logs/bot.log"}
    assert (bot / "logs" / "bot.log").is_file()  # the operator's files are read, never changed


@pytest.mark.skipif(shutil.which("git") is None, reason="git")
def test_the_copys_repository_mirrors_the_real_heads_tracked_state(bot: Path, tmp_path: Path):
    copy = copy_bot_dir(bot, tmp_path / "copy")
    assert "mirrored" in copy.git
    assert _git(copy.root, "rev-parse", "HEAD") == _git(bot, "rev-parse", "HEAD")
    assert _git(copy.root, "status", "--porcelain", "-uno") == _git(bot, "status", "--porcelain", "-uno") == \
        " M src/main.py\n"
    assert _git(copy.root, "check-ignore", ".env").strip() == ".env"


def test_an_evidence_directory_inside_the_bot_is_not_copied_into_itself(bot: Path):
    evidence = bot / "reports"
    (evidence / "runs").mkdir(parents=True)
    copy = copy_bot_dir(bot, evidence / "rehearsals" / "x" / "bot", exclude=[evidence])
    assert not (copy.root / "reports").exists()


# -- the copy's .env ----------------------------------------------------------------------------------------------
@dataclass
class _Discord:
    webhook_url: str = "http://127.0.0.9:5555/api/webhooks/1/fake"
    bot_token: str = "fake-token"
    channel_id: str = "42"
    api_base: str = "http://127.0.0.9:5555/api/v10"


@dataclass
class _World:
    host: str = "127.0.0.9"
    paper_port: int = 4002
    live_port: int = 4001
    discord: _Discord = field(default_factory=_Discord)


def test_the_copys_env_points_at_the_fakes_and_says_no_secret(bot: Path, tmp_path: Path):
    copy = copy_bot_dir(bot, tmp_path / "copy")
    before = copy.env_file.read_text(encoding="utf-8")
    pointed = point_env_at(copy.env_file, _World(), bot, copy.root)
    after = copy.env_file.read_text(encoding="utf-8")
    assert "IBKR_HOST=127.0.0.9\n" in after and "IBKR_PORT=4002\n" in after and "IBKR_CLIENT_ID=1\n" in after
    assert f"DISCORD_WEBHOOK_URL={_Discord.webhook_url}\n" in after and "DISCORD_CHANNEL_ID=42\n" in after
    assert f"LOG_DIR={copy.root / 'logs'}\n" in after  # an absolute path into the operator's folder: into the copy
    assert len(after.splitlines()) == len(before.splitlines())
    shown = " ".join(str(r) for r in pointed.rewrites)
    assert WEBHOOK not in shown and "abcdefghij" not in shown
    assert {r.key for r in pointed.rewrites} == {"IBKR_HOST", "DISCORD_WEBHOOK_URL", "LOG_DIR", "DISCORD_CHANNEL_ID"}
    assert (bot / ".env").read_text(encoding="utf-8") == before  # the operator's .env untouched


@pytest.mark.parametrize(("port", "to"), [("4002", "4102"), ("7497", "4102"), ("4001", "4101"), ("7496", "4101"),
                                          ("5000", "5000")])
def test_a_gateway_port_points_at_the_fake_of_its_kind(tmp_path: Path, port: str, to: str):
    env = tmp_path / ".env"
    env.write_text(f"IBKR_HOST=192.168.1.5\nIBKR_PORT={port}\n", encoding="utf-8")
    pointed = point_env_at(env, _World(paper_port=4102, live_port=4101), tmp_path, tmp_path)
    assert env.read_text(encoding="utf-8") == f"IBKR_HOST=127.0.0.9\nIBKR_PORT={to}\n"
    assert "is not this machine" in pointed.warnings[0]


def test_the_rehearsals_processes_never_inherit_the_real_secrets(bot: Path):
    real = secrets_of(bot / ".env")
    assert set(real) == {"DISCORD_WEBHOOK_URL"}
    environ = {"PATH": "/usr/bin", "DISCORD_BOT_TOKEN": "t0k3n-real", "IBKR_ACCOUNT": "U1234567", "HARNESS_BOT_DIR":
               str(bot), "HOOK": WEBHOOK, "GITHUB_TOKEN": "ghp_x", "SHLVL": "1", "DRY_RUN": "true"}
    assert inherited_environ(environ, real) == {"PATH": "/usr/bin", "SHLVL": "1", "DRY_RUN": "true"}


def test_a_log_path_given_for_the_real_bot_is_read_in_the_copy(tmp_path: Path):
    source, copy = tmp_path / "bot", tmp_path / "copy"
    source.mkdir()
    assert translated_path(str(source / "data" / "*.log"), source, copy) == str(copy / "data" / "*.log")
    assert translated_path("data/*.log", source, copy) == str(copy / "data/*.log")
    assert translated_path("/var/log/bot.log", source, copy) == "/var/log/bot.log"


# -- the report of a rehearsal -------------------------------------------------------------------------------------
def test_a_rehearsals_log_card_and_html_title_say_rehearsal_and_leave_the_first_day(tmp_path: Path):
    from harness.evidence import runs as run_files
    from harness.report import allure_html, board_card, transition_log
    from harness.report.transition_log.header import REHEARSAL_BANNER
    from tests.unit.test_transition_log import make_run, paper_account, transition_rows

    for phase in ("preflight", "transition", "first-hour", "rollback"):
        make_run(tmp_path, phase, rows=transition_rows() if phase == "transition" else None,
                 paper=paper_account() if phase == "transition" else None, world="rehearsal")
    latest = run_files.latest_runs(tmp_path)
    text = transition_log.build(latest, {})
    lines = text.splitlines()
    assert lines[0].endswith("(REHEARSAL — not evidence of a live transition)") and lines[2] == REHEARSAL_BANNER
    assert "| first-day | left to the live run |" in text and "**Summary:** left to the live run (a rehearsal)" in text
    assert "**Status:** SUCCESS" in text and "Proceed to Task 4.4" not in text
    card = board_card.render(latest, {}, {})
    assert "REHEARSAL — not evidence of a live transition" in card.splitlines()[0] and REHEARSAL_BANNER in card
    assert "[REHEARSAL — not evidence of a live transition]" in allure_html.report_name(latest)


# -- what the command refuses before it copies anything --------------------------------------------------------------
@pytest.mark.parametrize(("env", "command", "says"), [
    (None, "python -m src.main", "which bot? give --bot-dir"),
    ("DRY_RUN=false\nPAPER_TRADING=true\n", "python -m src.main", "from the dry-run .env (DRY_RUN=true"),
    ("DRY_RUN=true\nPAPER_TRADING=false\n", "no-such-program-here -m src.main", "is not a program on PATH"),
    ("DRY_RUN=true\nPAPER_TRADING=false\n", ".venv/bin/python -m src.main", "is not in the bot's folder"),
])
def test_the_rehearsal_refuses_in_one_line_before_it_copies_anything(tmp_path: Path, monkeypatch, capsys, env,
                                                                     command, says):
    import os

    from harness import cli

    for name in [name for name in os.environ if name.startswith("HARNESS_")]:
        monkeypatch.delenv(name)
    bot = tmp_path / "bot"
    bot.mkdir()
    argv = ["rehearse", "--bot-command", command, "--evidence-dir", str(tmp_path / "reports")]
    if env is not None:
        (bot / ".env").write_text(env, encoding="utf-8")
        argv += ["--bot-dir", str(bot)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert not (tmp_path / "reports").exists()
