"""Each wrong `.env` world makes the right configuration scenario fail, with a message naming the key;
the clean world is all green. These run the operator's own command against a generated bot directory."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.fakes.botdir import BotDir, make_bot_dir
from tests.acceptance.matrix import Fault
from tests.acceptance.runner import Run, run_features

MODE = "test_dry_run_is_false_and_paper_trading_is_true"
NOT_LIVE = "test_the_configuration_is_not_live_mode"
PORT = "test_ibkr_port_is_the_paper_trading_port"
HOST = "test_ibkr_host_is_this_machine"
CLIENT_ID = "test_ibkr_client_id_is_unchanged"
UNCHANGED = "test_no_other_setting_changed_since_the_baseline"
WELL_FORMED = "test_the_env_is_wellformed"
SHADOW_HERE = "test_no_variable_in_this_shell_shadows_the_env"
SHADOW_BOT = "test_no_variable_in_the_bots_own_environment_shadows_the_env"
IGNORED = "test_the_env_is_ignored_by_version_control"
NO_SECRET = "test_no_secret_is_committed"
EXAMPLE = "test_the_committed_configuration_records_paper_mode"
ALL = {MODE, NOT_LIVE, PORT, HOST, CLIENT_ID, UNCHANGED, WELL_FORMED, SHADOW_HERE, SHADOW_BOT, IGNORED, NO_SECRET,
       EXAMPLE}


def edit_env(old: str, new: str) -> Callable[[BotDir], None]:
    def apply(bot: BotDir) -> None:
        text = bot.env_file.read_text(encoding="utf-8")
        assert old in text, f"world setup: {old!r} not in the .env"
        bot.env_file.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")

    def shown(text: str) -> str:
        return "`" + text.strip("\n").replace("\n", "` `") + "`" if text.strip("\n") else "nothing"

    apply.__doc__ = f"`.env`: {shown(old)} becomes {shown(new)}"
    return apply


def git(bot: BotDir, *args: str) -> None:
    subprocess.run(["git", "-C", str(bot.root), "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
                   check=True, capture_output=True, timeout=30)


def track_env(bot: BotDir) -> None:
    """The `.env` is committed to the bot's repository."""
    git(bot, "add", "-f", ".env")
    git(bot, "commit", "-qm", "oops")


def commit_secret(bot: BotDir) -> None:
    """The Discord webhook URL is hard-coded in a committed `notify.py`."""
    webhook = next(line for line in bot.env_file.read_text().splitlines() if line.startswith("DISCORD_WEBHOOK_URL="))
    (bot.root / "notify.py").write_text(f'URL = "{webhook.split("=", 1)[1]}"\n')
    git(bot, "add", "notify.py")
    git(bot, "commit", "-qm", "hardcode webhook")


def example_still_dry_run(bot: BotDir) -> None:
    """The committed `.env.example` still says DRY_RUN=true, PAPER_TRADING=false."""
    example = bot.root / ".env.example"
    example.write_text(example.read_text().replace("DRY_RUN=false", "DRY_RUN=true").replace(
        "PAPER_TRADING=true", "PAPER_TRADING=false"))
    git(bot, "commit", "-qam", "revert example")


def utf16(bot: BotDir) -> None:
    """The `.env` is saved as UTF-16 (Notepad's "Unicode")."""
    bot.env_file.write_bytes(bot.env_file.read_text().encode("utf-16"))


def remove_env(bot: BotDir) -> None:
    """There is no `.env`."""
    bot.env_file.unlink()


def environ_dump(bot: BotDir) -> None:
    """The bot's own environment (a PowerShell `Get-ChildItem Env:` dump, UTF-16) sets PAPER_TRADING=false."""
    dump = ("Name                           Value\r\n----                           -----\r\n"
            "PAPER_TRADING                  false\r\n")
    (bot.root / "bot-environ.txt").write_bytes(dump.encode("utf-16"))


@dataclass(frozen=True)
class ConfigWorld:
    id: str
    change: Callable[[BotDir], None] | None  # what is done to a clean, switched bot directory
    env: dict[str, str]  # the environment of the operator's command
    failing: set[str]  # exactly these scenarios fail
    says: str  # text each failure message must contain

    @property
    def wrong(self) -> str:
        parts = [self.change.__doc__] if self.change is not None else []
        parts += [f"the shell exports {key}={value}" for key, value in self.env.items()]
        return "; ".join(parts)


# A changed connection setting also fails "no other setting changed": both are true of that world.
WORLDS = [
    ConfigWorld("dry-run persists", edit_env("DRY_RUN=false\nPAPER_TRADING=true", "DRY_RUN=true\nPAPER_TRADING=false"),
                {}, {MODE}, "DRY_RUN=true"),
    ConfigWorld("live mode", edit_env("PAPER_TRADING=true", "PAPER_TRADING=false"), {}, {MODE, NOT_LIVE}, "LIVE"),
    ConfigWorld("both true", edit_env("DRY_RUN=false", "DRY_RUN=true"), {}, {MODE}, "ambiguous"),
    ConfigWorld("typo in PAPER_TRADING", edit_env("PAPER_TRADING=true", "PAPER_TRADING=ture"), {}, {MODE, NOT_LIVE},
                "PAPER_TRADING"),
    ConfigWorld("yes instead of false", edit_env("DRY_RUN=false", "DRY_RUN=yes"), {}, {MODE}, "DRY_RUN"),
    ConfigWorld("live gateway port", edit_env("IBKR_PORT=4002", "IBKR_PORT=4001"), {}, {PORT, UNCHANGED}, "IBKR_PORT"),
    ConfigWorld("unknown port", edit_env("IBKR_PORT=4002", "IBKR_PORT=4003"), {}, {PORT, UNCHANGED}, "IBKR_PORT"),
    ConfigWorld("remote gateway host", edit_env("IBKR_HOST=localhost", "IBKR_HOST=192.168.1.20"), {},
                {HOST, UNCHANGED}, "IBKR_HOST"),
    ConfigWorld("client id changed", edit_env("IBKR_CLIENT_ID=1", "IBKR_CLIENT_ID=2"), {}, {CLIENT_ID, UNCHANGED},
                "IBKR_CLIENT_ID"),
    ConfigWorld("risk limit changed", edit_env("MAX_POSITION_PCT=10.0", "MAX_POSITION_PCT=50.0"), {}, {UNCHANGED},
                "MAX_POSITION_PCT"),
    ConfigWorld("setting removed", edit_env("PDT_ENABLED=true\n", ""), {}, {UNCHANGED}, "PDT_ENABLED removed"),
    # Also the world of the secret check below: the changed webhook is in the failure's diff, masked.
    ConfigWorld("webhook changed", edit_env("DISCORD_WEBHOOK_URL=https://", "DISCORD_WEBHOOK_URL=http://"), {},
                {UNCHANGED}, "DISCORD_WEBHOOK_URL"),
    ConfigWorld("key set twice", edit_env("DRY_RUN=false\n", "DRY_RUN=false\nDRY_RUN=false\n"), {}, {WELL_FORMED},
                "DRY_RUN"),
    ConfigWorld("unparseable line", edit_env("LOG_LEVEL=INFO\n", "LOG_LEVEL=INFO\nthis 'is broken\n"), {},
                {WELL_FORMED}, "line 12"),
    ConfigWorld("exported DRY_RUN shadows", None, {"DRY_RUN": "true"}, {SHADOW_HERE}, "DRY_RUN=true"),
    ConfigWorld("dotenv disabled", None, {"PYTHON_DOTENV_DISABLED": "1"}, {SHADOW_HERE}, "PYTHON_DOTENV_DISABLED"),
    ConfigWorld("bot environment shadows", environ_dump, {}, {SHADOW_BOT}, "PAPER_TRADING=false"),
    ConfigWorld(".env committed", track_env, {}, {IGNORED, NO_SECRET}, ".env"),
    ConfigWorld("secret committed", commit_secret, {}, {NO_SECRET}, "notify.py"),
    ConfigWorld("example not committed as paper", example_still_dry_run, {}, {EXAMPLE}, ".env.example"),
    ConfigWorld("UTF-16 .env", utf16, {}, ALL, "UTF-16"),
    ConfigWorld("no .env", remove_env, {}, ALL, "does not exist"),
]
CLEAN = Fault("clean", "nothing: a switched bot directory with its baseline", set(),
              "test_configuration_worlds.py::test_clean_world_is_green", skips={SHADOW_BOT})
MATRIX = [CLEAN, *(Fault(w.id, w.wrong, w.failing,
                         "test_configuration_worlds.py::test_wrong_world_fails_the_right_scenario") for w in WORLDS)]

FEATURE = ("features/01_configuration.feature",)


def prepare(tmp_path: Path, change) -> tuple[list[str], str]:
    """A switched bot directory with its baseline, then `change`: the run's arguments, and the webhook's token
    (a secret of the .env, taken before the change)."""
    bot = make_bot_dir(tmp_path / "bot")
    webhook = next(line for line in bot.env_file.read_text().splitlines() if line.startswith("DISCORD_WEBHOOK_URL="))
    args = ["--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
            "--evidence-dir", str(tmp_path / "evidence"), "--alluredir", str(tmp_path / "allure")]
    if change is not None:
        change(bot)
    if (bot.root / "bot-environ.txt").exists():
        args += ["--bot-environ", str(bot.root / "bot-environ.txt")]
    return args, webhook.rsplit("/", 1)[-1]


def assert_no_secret_left(run: Run, secret: str) -> None:
    """Not in the terminal (at -v -l: every local of a failing step), the evidence or the Allure results."""
    assert secret not in run.output
    for path in [*(run.root / "evidence").rglob("*"), *(run.root / "allure").rglob("*")]:
        if path.is_file():
            assert secret not in path.read_text(encoding="utf-8", errors="replace"), path


def test_clean_world_is_green(tmp_path):
    args, _secret = prepare(tmp_path, None)
    run = run_features(tmp_path, *args, paths=FEATURE)
    assert run.failed() == CLEAN.fails, run.output
    assert run.skipped() == CLEAN.skips and run.passed() == ALL - CLEAN.skips
    assert "operator to confirm" in run.outcomes[SHADOW_BOT].message


@pytest.mark.parametrize("world", WORLDS, ids=[w.id for w in WORLDS])
def test_wrong_world_fails_the_right_scenario(tmp_path, world: ConfigWorld):
    """Exactly the world's scenarios fail, each saying what is wrong, and no secret of the .env leaves: the
    terminal at -v -l, the evidence and the Allure results hold none (the "webhook changed" world puts the
    webhook in the failure's diff)."""
    args, secret = prepare(tmp_path, world.change)
    run = run_features(tmp_path, *args, "-v", "-l", env=world.env, paths=FEATURE)
    assert run.failed() == world.failing, f"{world.id}: expected {sorted(world.failing)} to fail\n{run.output[-3000:]}"
    for name in world.failing:
        assert world.says in run.outcomes[name].message, run.outcomes[name].message
    assert run.code == 1
    assert_no_secret_left(run, secret)
