"""A bad setting is one clear usage error before any test runs: no traceback, no world started."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.acceptance.runner import NOT_THE_OPERATORS, REPO


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--gateway", "localhost:99999"], {}, "--gateway='localhost:99999' is not a port number"),
        (["--phase", "launch"], {}, "--phase='launch' is not a phase"),
        (["--bot-dir", "/no/such/bot"], {}, "--bot-dir='/no/such/bot' is not an existing directory"),
        ([], {"HARNESS_CLIENT_ID": "abc"}, "HARNESS_CLIENT_ID='abc' is not an integer client id"),
        (["--live-gateway"], {}, "give --bot-dir"),
        (["--live-gateway", "--bot-dir", "."], {"HARNESS_EMBEDDED_NOW": "2026-11-27T14:05:00-05:00"},
         "HARNESS_EMBEDDED_NOW moves the embedded world's clock only; the real world has one clock"),
        ([], {"HARNESS_EMBEDDED_NOW": "2026-11-27 14:05"}, "HARNESS_EMBEDDED_NOW='2026-11-27 14:05' has no UTC offset"),
    ],
)
def test_bad_setting_is_one_usage_error(args, env, says):
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")} | env
    result = subprocess.run([sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider", *NOT_THE_OPERATORS,
                             *args],
                            cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 4  # pytest's usage error
    assert says in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_an_embedded_world_that_cannot_start_stops_the_run_in_one_line():
    """No loopback address of the world's own (here: one named that is the real gateway's): one line for the run,
    exit 4, never the same fixture error and traceback in every scenario."""
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    environ["HARNESS_EMBEDDED_ADDRESS"] = "127.0.0.1"
    result = subprocess.run([sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider", *NOT_THE_OPERATORS],
                            cwd=REPO, env=environ, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 4, output[-3000:]
    assert "harness: HARNESS_EMBEDDED_ADDRESS='127.0.0.1' is not a loopback address of the world's own" in output
    assert "Traceback" not in output and "ERROR at setup" not in output


def _harness(*args: str) -> subprocess.CompletedProcess:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO, env=environ, capture_output=True,
                          text=True, timeout=60)


def test_harness_force_alone_is_one_usage_error_naming_the_two_overrides(tmp_path):
    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(tmp_path / "bot", switch=False)
    before = bot.env_file.read_bytes()
    result = _harness("switch", "paper", "--bot-dir", str(bot.root), "--force")
    assert result.returncode == 2
    assert "--force-market-hours" in result.stderr and "--force-running-bot" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert bot.env_file.read_bytes() == before


def test_the_pytest_command_line_is_accepted_by_harness(tmp_path):
    """The README says the options are shared: `harness switch --live-gateway` used to be rejected."""
    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(tmp_path / "bot", switch=False)
    shared = ["--live-gateway", "--bot-dir", str(bot.root), "--gateway", "127.0.0.1:4002", "--phase", "preflight",
              "--live-gateway-port", "4001", "--evidence-dir", str(tmp_path / "evidence")]
    result = _harness("switch", "paper", "--dry-run", *shared)
    assert result.returncode == 0, result.stderr
    assert "DRY_RUN: true -> false" in result.stdout and "nothing written" in result.stdout
    bad = _harness("switch", "paper", "--dry-run", *shared, "--network-timeout", "forever")
    assert bad.returncode == 2 and "--network-timeout='forever' is not a number of seconds" in bad.stderr
