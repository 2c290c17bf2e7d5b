"""Steps for the startup feature: the newest startup block of the bot's log, and its Discord notification."""

from __future__ import annotations

from harness.steps.common import check_gateway_lines_of, startup_notification, when_started
from pytest_bdd import given, then

from harness.checks import startup as checks
from harness.probes import logs


@given("the newest startup block of the bot's log", target_fixture="startup")
def startup(newest_start, evidence):
    if newest_start.log is not None:
        evidence.record("bot log files", newest_start.log)
    block = checks.check_startup_found(newest_start)
    evidence.record("newest startup block", {"where": newest_start.where, "started_at": block.started_at,
                                             "log times read as": newest_start.zone, "first_lines": block.lines[:15]})
    return newest_start


@then("the expected startup lines appear in order")
def lines_in_order(startup, world, evidence) -> None:
    expected = [logs.Pattern(text, ignore_case=True) for text in world.settings.log_expected]
    match = logs.find_in_order(startup.block, expected)
    evidence.record("expected startup lines", match)
    checks.check_lines_in_order(match, startup.block)


@then("the startup block says paper trading mode is active")
def paper_active(startup, world, evidence) -> None:
    line = checks.check_paper_line(startup.block, logs.marker(world.settings.log_paper_active))
    evidence.record("paper mode line", line)


@then("the startup line says DRY_RUN=false and PAPER_TRADING=true")
def configuration_paper(startup, evidence) -> None:
    config = logs.configuration_line(startup.block)
    evidence.record("configuration line", config)
    evidence.note(checks.check_configuration_paper(config, startup.block))


@then("every gateway line names the .env's gateway on a paper port")
def gateway_line(startup, env, world, evidence) -> None:
    check_gateway_lines_of(startup.block, env, world, evidence)


def _check_absent_since_startup(startup, evidence, markers, title, *, critical, advice, meaning) -> None:
    scan = logs.scan(startup.files, markers, since=startup.block)
    evidence.record(f"{title}: markers since the startup", scan)
    checks.check_absent(scan, title, critical=critical, advice=advice, meaning=meaning)


@then("no line since the startup says live trading mode")
def no_live_mode(startup, world, evidence) -> None:
    _check_absent_since_startup(startup, evidence, logs.markers(world.settings.log_live_markers),
                                "LIVE trading mode in the log", critical=True,
                                advice="HALT THE BOT and check the gateway account", meaning="live trading mode")


@then("no line since the startup says dry-run mode")
def no_dry_run(startup, world, evidence) -> None:
    _check_absent_since_startup(startup, evidence, logs.markers(world.settings.log_dry_run_markers),
                                "Still in dry-run mode", critical=False, meaning="dry-run mode",
                                advice="the configuration was not loaded: re-check the .env and the environment")


@then("no error or traceback since the startup")
def no_errors(startup, world, evidence) -> None:
    _check_absent_since_startup(startup, evidence, logs.error_markers(world.settings.log_error_markers),
                                "Errors since the startup", critical=False, meaning="an error",
                                advice="diagnose before trusting the bot with orders")


@given("the bot's Discord notifications around the startup", target_fixture="notification")
def notification(world, startup, evidence):
    return startup_notification(world, startup, evidence)


@then("a message says PAPER TRADING near the startup")
def discord_paper(notification, startup) -> None:
    checks.check_discord_paper(notification, when_started(startup, "startup"))


@then("no message announces DRY-RUN or LIVE mode")
def discord_no_wrong_mode(notification, evidence) -> None:
    note = checks.check_discord_no_wrong_mode(notification)
    if note:
        evidence.note(note)
