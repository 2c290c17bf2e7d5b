"""The operator's own commands against worlds an operator meets by mistake: a `.env` that is not a file, a
baseline from another bot, a second snapshot taken after the switch. Each world fails exactly the check that
sees it, with one clear message, and never hangs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.fakes.botdir import make_bot_dir
from tests.acceptance.matrix import Fault
from tests.acceptance.runner import REPO, run_features
from tests.acceptance.test_configuration_worlds import ALL as CONFIGURATION
from tests.acceptance.test_configuration_worlds import UNCHANGED
from tests.acceptance.test_order_worlds import PAPER_ONLY

FEATURE = ("features/01_configuration.feature",)
EVERY_CHECK = "test_operator_path.py::test_an_env_that_is_not_a_regular_file_fails_the_configuration_without_hanging"
MATRIX = [
    Fault("`.env` is a FIFO", "the `.env` is a named pipe (reading it would block forever)", CONFIGURATION,
          EVERY_CHECK),
    Fault("`.env` links to /dev/zero", "the `.env` is a symbolic link to a character device (endless zeros)",
          CONFIGURATION, EVERY_CHECK),
    Fault("eventkit replaced", "ib_async's `eventkit` package was overwritten by ib_insync's (an environment that "
          "installed both)", set(),
          "test_operator_path.py::test_an_environment_whose_eventkit_was_replaced_is_named_never_a_silent_skip",
          skips={PAPER_ONLY}, others_may_fail=True),
    Fault("another bot's baseline", "the baseline was taken of another bot whose `.env` is byte-for-byte the same",
          {UNCHANGED}, "test_operator_path.py::test_a_baseline_of_another_bot_fails_no_other_setting_changed"),
    Fault("second snapshot after the switch", "MAX_POSITION_PCT changed with the switch, then `harness snapshot "
          "--replace` was tried (refused)", {UNCHANGED},
          "test_operator_path.py::test_a_second_snapshot_after_the_switch_cannot_bless_a_change"),
    Fault("baseline taken after the switch", "the baseline is of the switched (paper) `.env`", {UNCHANGED},
          "test_operator_path.py::test_a_baseline_taken_after_the_switch_fails_no_other_setting_changed"),
]


def harness(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX special files")
@pytest.mark.parametrize(("kind", "says"), [("fifo", "FIFO"), ("dev-zero", "character device")])
def test_an_env_that_is_not_a_regular_file_fails_the_configuration_without_hanging(tmp_path, kind, says):
    bot = make_bot_dir(tmp_path / "bot")
    bot.env_file.unlink()
    if kind == "fifo":
        os.mkfifo(bot.env_file)
    else:
        bot.env_file.symlink_to("/dev/zero")
    run = run_features(tmp_path, "--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
                       "--evidence-dir", str(tmp_path / "evidence"), paths=FEATURE, timeout=120)
    assert run.outcomes, run.output[-3000:]
    assert run.failed() == set(run.outcomes) == CONFIGURATION, run.output[-3000:]  # every check reads the .env
    for name in run.failed():
        assert says in run.outcomes[name].message and "not a regular file" in run.outcomes[name].message
    assert "MemoryError" not in run.output
    assert run.code == 1


def test_an_environment_whose_eventkit_was_replaced_is_named_never_a_silent_skip(tmp_path):
    """`pip install -e .` then an install that brings ib_insync overwrote aeventkit's `eventkit/` files; every
    probe failed with "There is no current event loop" and the gateway checks were quietly skipped. Here the
    record of aeventkit that Python finds first lists files that are not on disk: the same verdict."""
    site = tmp_path / "site"
    info = site / "aeventkit-2.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aeventkit\nVersion: 2.1.0\n", encoding="utf-8")
    (info / "RECORD").write_text("eventkit/__init__.py,sha256=AAAA,10\n", encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    run = run_features(tmp_path, "--evidence-dir", str(tmp_path / "evidence"), env={"PYTHONPATH": path},
                       paths=("features/03_order_routing.feature",))
    assert run.code != 0, run.output[-3000:]
    assert "harness: PROBLEM: the eventkit package was replaced" in run.output
    accounts = run.outcomes[PAPER_ONLY]
    assert accounts.outcome == "skipped", accounts
    assert "the eventkit package was replaced" in accounts.message and "aeventkit" in accounts.message


# --- the baseline: bound to one bot's pre-switch .env ------------------------------------------------------


def _configuration(tmp_path: Path, bot_root: Path, baseline: Path):
    return run_features(tmp_path, "--bot-dir", str(bot_root), "--baseline", str(baseline),
                        "--evidence-dir", str(tmp_path / "evidence"), paths=FEATURE)


def test_a_baseline_of_another_bot_fails_no_other_setting_changed(tmp_path):
    """Two bots with the very same .env: the other bot's baseline used to pass silently."""
    webhook = "https://discord.com/api/webhooks/42/same-token-for-both-bots-000000000000"
    mine = make_bot_dir(tmp_path / "mine", webhook_url=webhook)
    other = make_bot_dir(tmp_path / "other", webhook_url=webhook)
    run = _configuration(tmp_path, mine.root, other.baseline_file)
    assert run.failed() == {UNCHANGED}, run.output[-3000:]
    message = run.outcomes[UNCHANGED].message
    assert "not this bot's pre-switch .env" in message and str(other.env_file.resolve()) in message
    assert run.code == 1


def test_a_second_snapshot_after_the_switch_cannot_bless_a_change(tmp_path):
    """The baseline is written once: after the switch, `harness snapshot` is refused and the change is caught."""
    bot = make_bot_dir(tmp_path / "bot")
    baseline = tmp_path / "evidence" / "baseline.json"
    bot.env_file.write_text(bot.env_file.read_text().replace("MAX_POSITION_PCT=10.0", "MAX_POSITION_PCT=50.0"))
    assert harness("snapshot", "--bot-dir", str(bot.root), "--baseline", str(baseline)).returncode == 1  # paper now
    baseline.parent.mkdir(parents=True, exist_ok=True)
    baseline.write_bytes(bot.baseline_file.read_bytes())  # the one taken before the switch
    second = harness("snapshot", "--bot-dir", str(bot.root), "--baseline", str(baseline), "--replace")
    assert second.returncode == 1 and "already in paper mode" in second.stderr
    run = _configuration(tmp_path, bot.root, baseline)
    assert run.failed() == {UNCHANGED}, run.output[-3000:]
    assert "MAX_POSITION_PCT" in run.outcomes[UNCHANGED].message


def test_a_baseline_taken_after_the_switch_fails_no_other_setting_changed(tmp_path):
    from harness.evidence.baseline import snapshot, write_baseline
    from harness.probes.envfile import read_env

    bot = make_bot_dir(tmp_path / "bot")
    late = tmp_path / "late-baseline.json"
    write_baseline(snapshot(read_env(bot.env_file)), late)  # what an older harness let `snapshot` do
    run = _configuration(tmp_path, bot.root, late)
    assert run.failed() == {UNCHANGED}, run.output[-3000:]
    assert "already in paper mode" in run.outcomes[UNCHANGED].message
