"""The operator's path (`--live-gateway`) against a world the test starts itself: the same checks, reached
only through the addresses and paths an operator gives. Nothing in harness/ is told it talks to fakes."""

from __future__ import annotations

from harness.fakes.embedded import LIVE_PORT, PAPER_PORT, embedded_world
from tests.acceptance.runner import run_features


def test_live_gateway_path_is_green_against_a_healthy_world(tmp_path):
    with embedded_world(tmp_path / "world") as world:
        run = run_features(
            tmp_path,
            "--live-gateway",
            "--bot-dir", str(world.bot.root),
            "--baseline", str(world.bot.baseline_file),
            "--gateway", f"{world.host}:{PAPER_PORT}",
            "--live-gateway-port", str(LIVE_PORT),
            "--discord-api", world.discord.api_base,
            "--discord-channel", str(world.discord.channel_id),
            "--bot-environ", str(world.bot_environ),
            "--evidence-dir", str(tmp_path / "evidence"),
            env={"DISCORD_BOT_TOKEN": world.discord.bot_token},
        )
    assert run.failed() == set(), run.output[-4000:]
    skipped = {name: o.message for name, o in run.outcomes.items() if o.outcome == "skipped"}
    assert set(skipped) == {"test_a_paper_test_order_is_placed_and_cancelled"}, skipped
    assert len(run.passed()) >= 25


def test_live_path_without_a_discord_token_is_operator_to_confirm(tmp_path):
    with embedded_world(tmp_path / "world") as world:
        run = run_features(
            tmp_path,
            "--live-gateway", "--bot-dir", str(world.bot.root), "--baseline", str(world.bot.baseline_file),
            "--gateway", f"{world.host}:{PAPER_PORT}", "--discord-api", world.discord.api_base,
            "--discord-channel", str(world.discord.channel_id), "--evidence-dir", str(tmp_path / "evidence"),
            paths=("features/02_startup.feature",),
        )
    for name in ("test_discord_announces_paper_trading_mode", "test_discord_does_not_announce_dryrun_or_live_mode"):
        assert run.outcomes[name].outcome == "skipped", run.outcomes[name]
        assert "DISCORD_BOT_TOKEN" in run.outcomes[name].message
