"""No secret leaves the machine.

One faulty world, started here and shared by every run: the live account holds an order, the paper gateway
is read-only (so the test order is refused and ib_async logs it with the account id), the bot says LIVE, and
secrets are planted where an operator's world has them: a Discord token with a newline,
quotes and non-ASCII characters (in DISCORD_BOT_TOKEN and in the bot's .env), a password with quotes and
non-ASCII characters, the webhook URL; and in the bot's log, raw, repr-escaped, JSON-escaped and URL-encoded.
The operator's command runs against it once per terminal flag (-q, default, -v, -vvv, -l, --tb=long), one of
them without --alluredir (Allure results then go to the run directory); the terminal output, the JUnit XML,
the Allure results and every file of the evidence (its run directory too) must hold none of the secret values
in any form, nor a full account id. The switch's backup must be private and ignored by git.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from harness.core import clock
from harness.fakes.botdir import make_bot_dir
from harness.fakes.embedded import FAULTS_VARIABLE, LIVE_PORT, PAPER_PORT, embedded_world
from harness.probes.envfile import read_env
from tests.acceptance.runner import NAMED_PLUGIN, NOT_THE_OPERATORS, REPO
from tests.leakcheck import WEIRD_TOKEN, leaks

FULL_ACCOUNT_IDS = ("DU1234567", "U7654321", "U2345678")
PASSWORD = 'hunter-"ß€\'-2k9Q'
# Secrets under names no pattern of the harness knows: masked because settings are secret by default.
UNKNOWN_NAMES = {"IBKR_PWD": "pw-Q7r9xLm2vK", "TWS_PIN": "73915046",
                 "SLACK_ALERT_URL": "https://hooks.slack.com/services/T0ABC123/B0DEF456/Zq8xYvW3kLm9Pq2Rs7Tu",
                 "BROKER_SESSION_COOKIE": "c00kie-9f8e7d6c5b4a"}
BOT_FAULTS = "discord-live,live-log"  # the bot logs and announces LIVE: startup checks fail and quote the log
WORLD_FAULTS = "live-account-activity"  # the live account's order fails a check that names the account
TERMINAL_FLAGS = {"-q": ("-q",), "default": (), "-v": ("-v",), "-vvv": ("-vvv",), "-l": ("-l",),
                  "--tb=long": ("--tb=long",)}
# Waiting out the refused test order costs the run's timeout, so one run places it: log records are redacted as
# they are made, whatever the verbosity.
TEST_ORDER_RUN = "default"
# One run writes its Allure results where the harness puts them by default (the run directory), without
# --alluredir: the redaction of Allure results must hold on that path too.
DEFAULT_ALLURE_RUN = "-v"


def _dotenv_quoted(value: str) -> str:
    """`value` as a double-quoted python-dotenv value (which decodes \\\\, \\" and \\n)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _plant_secrets(env_file: Path, log_file: Path, webhook: str) -> None:
    with env_file.open("a", encoding="utf-8", newline="\n") as env:
        env.write(f"DISCORD_BOT_TOKEN={_dotenv_quoted(WEIRD_TOKEN)}\nIBKR_PASSWORD={_dotenv_quoted(PASSWORD)}\n")
        env.writelines(f"{name}={value}\n" for name, value in UNKNOWN_NAMES.items())
    values = read_env(env_file).values
    assert values["DISCORD_BOT_TOKEN"] == WEIRD_TOKEN and values["IBKR_PASSWORD"] == PASSWORD, "planting failed"
    stamp = clock.local_now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    lines = [
        f"{stamp} ERROR bot: Discord post to {webhook} failed; token {WEIRD_TOKEN!r}, account U7654321",
        f"{stamp} ERROR bot: login refused: " + json.dumps({"token": WEIRD_TOKEN, "password": PASSWORD}),
        f"{stamp} ERROR bot: retrying https://discord.com/oauth?token={quote(WEIRD_TOKEN, safe='')}&next="
        f"{quote(webhook, safe='')}",
        f"{stamp} ERROR bot: raw token {WEIRD_TOKEN} and password {PASSWORD} in account DU1234567",
        f"{stamp} ERROR bot: relogin with " + ", ".join(f"{k}={v}" for k, v in UNKNOWN_NAMES.items()),
    ]
    with log_file.open("a", encoding="utf-8") as log:
        log.write("".join(line + "\n" for line in lines))


@pytest.fixture(scope="module")
def leaky_world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("leaky-world")
    environ = {**os.environ, "BOT_FAULTS": BOT_FAULTS, FAULTS_VARIABLE: WORLD_FAULTS}
    with embedded_world(root, environ=environ) as world:
        webhook = read_env(world.bot.env_file).values["DISCORD_WEBHOOK_URL"]
        assert webhook and "/webhooks/" in webhook
        _plant_secrets(world.bot.env_file, world.bot.log_file, webhook)
        # A read-only paper gateway refuses the test order (error 321): ib_async then logs the order, with
        # account='DU1234567', on the harness's side.
        world.gateway.set_read_only(True)
        yield world, webhook


def _run(tmp_path: Path, world, flags: tuple[str, ...], *, alluredir: bool = True) -> dict[str, str]:
    """The operator's --live-gateway command with `flags`; every text it left: terminal, JUnit, Allure (in
    --alluredir, or by default in the evidence's run directory), evidence (every file of every run directory)."""
    junit, allure, evidence = tmp_path / "junit.xml", tmp_path / "allure", tmp_path / "evidence"
    command = [
        sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider", *NOT_THE_OPERATORS,
        f"--basetemp={tmp_path / 'basetemp'}", f"--junitxml={junit}", *(("--alluredir", str(allure)) * alluredir),
        "--evidence-dir", str(evidence),
        "--live-gateway", "--bot-dir", str(world.bot.root), "--baseline", str(world.bot.baseline_file),
        "--gateway", f"{world.host}:{PAPER_PORT}", "--live-gateway-port", str(LIVE_PORT),
        "--discord-api", world.discord.api_base, "--discord-channel", str(world.discord.channel_id),
        "--bot-environ", str(world.bot_environ), *flags,
    ]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    environ.update({"DISCORD_BOT_TOKEN": WEIRD_TOKEN, "PYTHONIOENCODING": "utf-8"})
    result = subprocess.run(command, cwd=REPO, env=environ, capture_output=True, timeout=300)
    texts = {"terminal stdout": result.stdout.decode("utf-8", errors="replace"),
             "terminal stderr": result.stderr.decode("utf-8", errors="replace")}
    for path in [junit, *allure.rglob("*"), *evidence.rglob("*")]:
        if path.is_file():
            texts[str(path.relative_to(tmp_path))] = path.read_text(encoding="utf-8", errors="replace")
    assert result.returncode not in (0, 2, 3, 4), texts["terminal stdout"][-3000:] + texts["terminal stderr"]
    return texts


@pytest.mark.parametrize("run", list(TERMINAL_FLAGS))
def test_no_secret_or_full_account_id_in_any_output(tmp_path, leaky_world, run):
    world, webhook = leaky_world
    test_order = ("--place-test-order",) if run == TEST_ORDER_RUN else ()
    default_allure = run == DEFAULT_ALLURE_RUN
    texts = _run(tmp_path, world, TERMINAL_FLAGS[run] + test_order, alluredir=not default_allure)
    terminal = texts["terminal stdout"]
    assert "failed" in terminal, "the faulty world must fail, so that failure messages are part of what is checked"
    assert any(name.startswith("evidence") for name in texts)
    run_files = {Path(name).name for name in texts if Path(name).parts[:2] == ("evidence", "runs")}
    # The run directory holds every kind of file a leak could hide in: the gateways' facts, the verdict, run.json.
    assert {"run.json", "verdict.json", "evidence.jsonl", "paper-account.json", "live-account.json"} <= run_files
    allure_files = [name for name in texts if Path(name).parts[0] == "allure" or "allure-results" in Path(name).parts]
    assert any(name.endswith("-result.json") for name in allure_files), sorted(texts)
    if default_allure:
        assert {"environment.properties", "categories.json"} <= run_files
        assert not any(Path(name).parts[0] == "allure" for name in texts)
    secrets = {"Discord token": WEIRD_TOKEN, "password": PASSWORD, "webhook URL": webhook,
               "webhook token": webhook.rsplit("/", 1)[-1], **UNKNOWN_NAMES}
    found = []
    for where, text in texts.items():
        for name, value in secrets.items():
            found += [f"{name} ({form}) in {where}" for form in leaks(text, value, pieces=name != "webhook URL")]
        found += [f"full account id {account} in {where}" for account in FULL_ACCOUNT_IDS if account in text]
    assert not found, "\n".join(found[:40])
    assert "DISCORD_BOT_TOKEN is not a valid token" in terminal + texts.get("junit.xml", ""), \
        "the planted token must reach the Discord check (and be refused there, without being sent)"
    if test_order:
        assert "account='DU****567'" in terminal, "ib_async's warning about the refused test order was not shown"


def _private(path: Path) -> bool:
    return os.name == "nt" or not stat.S_IMODE(path.stat().st_mode) & 0o077


def _ignored_by_git(repo: Path, path: Path) -> bool:
    try:
        path.relative_to(repo)
    except ValueError:
        return True  # outside the bot's repository: git cannot commit it
    check = subprocess.run(["git", "-C", str(repo), "check-ignore", "-q", str(path)], capture_output=True,
                           timeout=30)
    return check.returncode == 0


def test_the_switch_backup_is_private_and_ignored_by_git(tmp_path):
    """`harness switch paper` in a bot repo whose .gitignore says only `.env` (as most do), with the .env 0600:
    every backup it leaves must be readable by its owner only and ignored by git (or outside the repo)."""
    bot = make_bot_dir(tmp_path / "bot", switch=False)
    (bot.root / ".gitignore").write_text(".env\nlogs/\n", encoding="utf-8")
    if os.name != "nt":
        bot.env_file.chmod(0o600)
    evidence = tmp_path / "evidence"
    before = {p for p in tmp_path.rglob("*") if ".git" not in p.parts}
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "switch", "paper", "--bot-dir", str(bot.root), "--evidence-dir",
         str(evidence), "--baseline", str(tmp_path / "baseline.json"), "--force-market-hours", "--force-running-bot"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert read_env(bot.env_file).values["DRY_RUN"] == "false"
    new_files = {p for p in tmp_path.rglob("*") if ".git" not in p.parts and p.is_file()} - before
    backups = [p for p in new_files if p.name != "baseline.json" and ".env" in p.name]
    assert backups, f"the switch left no backup of the .env ({sorted(map(str, new_files))})"
    for backup in backups:
        assert _private(backup), f"{backup} is readable by others ({stat.filemode(backup.stat().st_mode)})"
        assert _ignored_by_git(bot.root, backup), f"{backup} is not ignored by git in the bot's repository"
    staged = subprocess.run(["git", "-C", str(bot.root), "add", "-A", "--dry-run"], capture_output=True, text=True,
                            timeout=30)
    assert ".bak" not in staged.stdout and "harness-backups" not in staged.stdout, staged.stdout


def test_setup_teardown_collection_errors_and_log_records_are_redacted(tmp_path):
    """Every kind of report: a scenario whose setup fails, one whose teardown fails after a log record, and
    a feature file that does not parse, each quoting the token (known from DISCORD_BOT_TOKEN) and an account."""
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "phases.feature").write_text(
        "@transition\nFeature: every phase\n  Scenario: setup fails\n    Given nothing\n\n"
        "  Scenario: teardown fails\n    Given nothing\n", encoding="utf-8")
    first_line = WEIRD_TOKEN.splitlines()[0]
    (tmp_path / "features" / "broken.feature").write_text(
        f"@transition\nFeature: broken\n  Scenario: x\n    Given nothing\n  garbage {first_line} DU1234567\n",
        encoding="utf-8")
    (tmp_path / "conftest.py").write_text(
        "import logging, os\nimport pytest\nfrom pytest_bdd import given\n\n"
        "@given('nothing')\ndef nothing():\n    pass\n\n"
        "@pytest.fixture(autouse=True)\ndef fails(request):\n"
        "    token = os.environ['DISCORD_BOT_TOKEN']\n"
        "    if 'setup' in request.node.name:\n"
        "        raise ValueError(f'setup saw {token!r} and {token} for DU1234567')\n"
        "    yield\n"
        "    logging.getLogger('ib_async.wrapper').error('order for account=%r token %s', 'DU1234567', token)\n"
        "    raise RuntimeError(f'teardown saw {token!r} for U7654321')\n", encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    environ.update({"DISCORD_BOT_TOKEN": WEIRD_TOKEN, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)})
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-p", "no:cacheprovider", *NOT_THE_OPERATORS, *NAMED_PLUGIN,
         "-rA", "-vv", "--tb=long", "--continue-on-collection-errors",
         f"--junitxml={junit}", "--alluredir", str(tmp_path / "allure"), "--evidence-dir", str(tmp_path / "ev"),
         "--bot-dir", str(tmp_path)],
        cwd=tmp_path, env=environ, capture_output=True, timeout=120,
    )
    texts = {"stdout": result.stdout.decode("utf-8", errors="replace"),
             "stderr": result.stderr.decode("utf-8", errors="replace"), "junit": junit.read_text(encoding="utf-8")}
    texts.update({str(p): p.read_text(encoding="utf-8") for p in (tmp_path / "allure").glob("*") if p.is_file()})
    out = texts["stdout"]
    assert "ERROR at setup of" in out and "ERROR at teardown of" in out and "ERROR collecting" in out, out[-3000:]
    assert "Captured log teardown" in out and "account='DU****567'" in out, out[-3000:]
    found = [f"{form} in {where}" for where, text in texts.items() for form in leaks(text, WEIRD_TOKEN, pieces=True)]
    found += [f"{a} in {where}" for where, text in texts.items() for a in FULL_ACCOUNT_IDS if a in text]
    assert not found, "\n".join(found[:40])
