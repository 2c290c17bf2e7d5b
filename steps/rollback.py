"""Steps for the rollback feature (the seed's Rollback Plan): each reads facts through a probe, records them,
runs one check. The .env, the baseline, the newest startup block, the paper gateway and the scheduled task are the
other features' givens (harness.steps.configuration, .startup, .preflight, .first_day)."""

from __future__ import annotations

import os
from pathlib import Path

from harness.steps.common import startup_notification, when_started
from pytest_bdd import given, then

from harness.checks import orders as gateway_checks
from harness.checks import rollback as checks
from harness.checks.catalog import PAPER_MODE_AFTER_ROLLBACK
from harness.checks.startup import check_absent
from harness.core import names
from harness.evidence import baseline as baselines
from harness.probes import logs


@then("the execution mode is dry-run")
def mode_is_dry_run(env) -> None:
    checks.check_mode_is_dry_run(env)


@then("the .env says what the baseline said")
def back_to_baseline(env, baseline, evidence) -> None:
    difference = baselines.diff(baseline, env)
    evidence.record(names.CHANGES_SINCE_BASELINE, difference)
    checks.check_back_to_baseline(difference)


@then("the startup block says dry-run mode is active")
def dry_run_active(startup, world, evidence) -> None:
    config = logs.configuration_line(startup.block)
    line = checks.check_dry_run_line(startup.block, logs.markers(world.settings.log_dry_run_markers), config)
    evidence.record("dry-run mode line", line)


@then("the startup line says DRY_RUN=true and PAPER_TRADING=false")
def configuration_dry_run(startup, evidence) -> None:
    config = logs.configuration_line(startup.block)
    evidence.record("configuration line", config)
    evidence.note(checks.check_configuration_dry_run(config, startup.block))


@then("no line since the startup says paper trading mode")
def no_paper_mode(startup, world, evidence) -> None:
    scan = logs.scan(startup.files, (logs.marker(world.settings.log_paper_active),), since=startup.block)
    evidence.record("paper trading mode: markers since the startup", scan)
    check = PAPER_MODE_AFTER_ROLLBACK
    check_absent(scan, check.title, critical=check.critical, meaning=check.meaning, advice=check.advice)


@given("the bot's Discord notifications around the restart", target_fixture="dry_run_notification")
def dry_run_notification(world, startup, evidence):
    return startup_notification(world, startup, evidence, expected="DRY-RUN", forbidden=("PAPER TRADING", "LIVE"))


@then("a message says DRY-RUN near the restart")
def discord_dry_run(dry_run_notification, startup) -> None:
    checks.check_discord_dry_run(dry_run_notification, when_started(startup, "restart"))


@then("no message announces PAPER TRADING or LIVE mode")
def discord_not_paper_or_live(dry_run_notification) -> None:
    checks.check_discord_not_paper_or_live(dry_run_notification)


@then("the paper account has no open order left")
def no_open_orders(world, paper, evidence) -> None:
    facts = gateway_checks.require_readable(paper, world.why_no_gateway)
    evidence.note(checks.check_no_open_orders(facts))


@then("every paper position is closed")
def positions_closed(world, paper, evidence) -> None:
    facts = gateway_checks.require_readable(paper, world.why_no_gateway)
    note = checks.check_positions_closed(facts, world.settings.declared_positions)
    if note:
        evidence.note(note)


@then("the task is enabled and starts the bot from its directory")
def task_starts_bot(scheduled_task, world, evidence) -> None:
    bot_dir = Path(os.path.abspath(world.bot_dir)) if world.bot_dir is not None else None
    evidence.note(checks.check_scheduled_task(scheduled_task, bot_dir))
