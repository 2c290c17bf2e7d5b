"""Each fault of the stand-in bot makes the right startup scenario fail; the clean bot is all green.

The embedded world (fake gateways, fake Discord, the stand-in bot) is started by the plugin exactly as in
the demo; the faults are the bot's own knobs (BOT_FAULTS) and the world's (HARNESS_EMBEDDED_FAULTS).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from harness.core import clock
from tests.acceptance.matrix import Fault, knobs
from tests.acceptance.runner import Run, SharedRuns, run_features

LINES = "test_the_startup_lines_appear_in_order"
PAPER_LINE = "test_the_log_says_paper_trading_mode_is_active"
CONFIG = "test_the_bot_loaded_dry_runfalse_and_paper_tradingtrue"
GATEWAY = "test_the_bot_connects_to_its_envs_gateway_on_a_paper_port"
NO_LIVE = "test_the_log_never_says_live_trading_mode"
NO_DRY = "test_the_log_never_says_dryrun_mode"
NO_ERRORS = "test_no_error_or_traceback_since_the_startup"
DISCORD_PAPER = "test_discord_announces_paper_trading_mode"
DISCORD_WRONG = "test_discord_does_not_announce_dryrun_or_live_mode"
LOG_SCENARIOS = {LINES, PAPER_LINE, CONFIG, GATEWAY, NO_LIVE, NO_DRY, NO_ERRORS}
STARTUP = LOG_SCENARIOS | {DISCORD_PAPER, DISCORD_WRONG}
SHADOW_HERE = "test_no_variable_in_this_shell_shadows_the_env"
SHADOW_BOT = "test_no_variable_in_the_bots_own_environment_shadows_the_env"

DRY_RUN_BOT = {LINES, PAPER_LINE, CONFIG, NO_DRY, DISCORD_PAPER, DISCORD_WRONG}

STARTUP_FEATURE = ("features/02_startup.feature",)
# The clean embedded world, run once with every feature: this module, test_order_worlds and test_verdict assert
# on that one run.
CLEAN_WORLD = "clean embedded world"


def clean_embedded_run(shared_runs: SharedRuns) -> Run:
    return shared_runs.features(CLEAN_WORLD)


def startup_run(shared_runs: SharedRuns, env: dict[str, str]) -> Run:
    """The startup feature alone on the world `env` sets up, run once per session (the transition log's tests read
    the same runs)."""
    return shared_runs.features(f"startup {sorted(env.items())}", env=env, paths=STARTUP_FEATURE)


@dataclass(frozen=True)
class BotWorld:
    id: str
    env: dict[str, str]  # the embedded world's knobs
    failing: set[str]  # exactly these startup scenarios fail
    says: str  # text one of their messages must contain


WORLDS = [
    BotWorld("bot logs live trading mode", {"BOT_FAULTS": "live-log"}, {LINES, PAPER_LINE, NO_LIVE},
             "Live trading mode"),
    BotWorld("bot logs dry-run mode", {"BOT_FAULTS": "dry-run-log"}, {LINES, PAPER_LINE, NO_DRY},
             "DRY_RUN mode active"),
    BotWorld("Discord says DRY-RUN", {"BOT_FAULTS": "discord-dry-run"}, {DISCORD_PAPER, DISCORD_WRONG}, "DRY-RUN"),
    BotWorld("Discord says LIVE", {"BOT_FAULTS": "discord-live"}, {DISCORD_PAPER, DISCORD_WRONG}, "LIVE"),
    BotWorld("no Discord message", {"BOT_FAULTS": "no-discord"}, {DISCORD_PAPER}, "PAPER TRADING"),
    BotWorld("bot ignores the .env mode", {"BOT_FAULTS": "ignore-env"}, DRY_RUN_BOT, "DRY_RUN"),
    BotWorld("bot crashes after start", {"BOT_FAULTS": "crash"}, {NO_ERRORS}, "Traceback"),
    BotWorld("bot never says it is ready", {"BOT_FAULTS": "skip-ready-line"}, {LINES}, "Bot initialized successfully"),
    BotWorld("an older paper start does not count",
             {"BOT_FAULTS": "dry-run-log", "HARNESS_EMBEDDED_FAULTS": "stale-paper-startup"},
             {LINES, PAPER_LINE, NO_DRY}, "DRY_RUN mode active"),
]
EXPORTED_DRY_RUN = Fault("exported DRY_RUN", knobs({"DRY_RUN": "true"}) + " (the .env is right)",
                         DRY_RUN_BOT | {SHADOW_HERE, SHADOW_BOT},
                         "test_startup_worlds.py::test_exported_dry_run_is_caught_by_configuration_and_startup",
                         others_may_fail=True)
NO_DISCORD_CHANNEL = Fault(
    "bot directory without --live-gateway", "nothing, but Discord is not contacted (no channel given)", set(),
    "test_startup_worlds.py::test_without_discord_channel_the_discord_checks_skip_never_pass",
    skips={DISCORD_PAPER, DISCORD_WRONG})
EARLIER_DRY_RUN_POST = Fault(
    "a dry-run post of the start before", knobs({"HARNESS_EMBEDDED_FAULTS": "discord-earlier-dry-run"}), set(),
    "test_startup_worlds.py::test_a_dry_run_post_of_the_start_before_is_no_false_alarm")
MATRIX = [
    Fault(CLEAN_WORLD, "nothing (the demo)", set(), "test_startup_worlds.py::test_clean_bot_is_green"),
    EARLIER_DRY_RUN_POST,
    *(Fault(w.id, knobs(w.env), w.failing, "test_startup_worlds.py::test_bot_fault_fails_the_right_startup_scenario")
      for w in WORLDS),
    EXPORTED_DRY_RUN,
    NO_DISCORD_CHANNEL,
]


def test_clean_bot_is_green(shared_runs):
    run = clean_embedded_run(shared_runs)
    assert run.failed() == set(), run.output[-4000:]
    assert run.passed() >= STARTUP


@pytest.mark.parametrize("world", WORLDS, ids=[w.id for w in WORLDS])
def test_bot_fault_fails_the_right_startup_scenario(shared_runs, world: BotWorld):
    run = startup_run(shared_runs, world.env)
    assert run.failed() & STARTUP == world.failing, f"{world.id}\n{run.output[-4000:]}"
    assert any(world.says in run.outcomes[name].message for name in world.failing), \
        {n: run.outcomes[n].message for n in world.failing}


def test_exported_dry_run_is_caught_by_configuration_and_startup(tmp_path):
    """The seed's 'environment variables overridden elsewhere': the .env is right, the shell is not."""
    run = run_features(tmp_path, "--evidence-dir", str(tmp_path / "evidence"), env={"DRY_RUN": "true"})
    assert run.failed() & STARTUP == EXPORTED_DRY_RUN.fails & STARTUP
    assert EXPORTED_DRY_RUN.fails <= run.failed()


def test_without_discord_channel_the_discord_checks_skip_never_pass(tmp_path):
    """A real bot directory checked without --live-gateway: Discord is not contacted, so its checks are
    "operator to confirm", while the log checks still run."""

    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(tmp_path / "bot")
    stamp = clock.local_now().replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
    lines = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at localhost:4002",
             "Gateway connection established", "Paper trading mode ACTIVE", "Bot initialized successfully"]
    with bot.log_file.open("a", encoding="utf-8") as log:
        log.writelines(f"{stamp},000 INFO bot: {text}\n" for text in lines)
    run = run_features(tmp_path, "--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
                       "--evidence-dir", str(tmp_path / "evidence"), paths=STARTUP_FEATURE)
    for name in NO_DISCORD_CHANNEL.skips:
        assert run.outcomes[name].outcome == "skipped", run.outcomes[name]
        assert "operator to confirm" in run.outcomes[name].message
    assert run.passed() >= LOG_SCENARIOS


def test_a_dry_run_post_of_the_start_before_is_no_false_alarm(shared_runs):
    """The seed's Step 3.4 re-attempt: the bot started in dry-run (and posted so), was stopped, switched and
    started in paper nine minutes later. The old post is that start's: told, never "HALT THE BOT NOW"."""
    run = startup_run(shared_runs, {"HARNESS_EMBEDDED_FAULTS": "discord-earlier-dry-run"})
    assert run.failed() & STARTUP == set(), run.output[-4000:]
    assert {DISCORD_PAPER, DISCORD_WRONG} <= run.passed()
    assert any("an earlier start's, not this one's" in note for note in run.notes(DISCORD_WRONG))
