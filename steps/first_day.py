"""Steps for the first-day feature: the first trading day after the switch as the bot's log tells it, the
scheduler's task, the bot's process, the scheduled start's Discord notification, and the gateways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from harness.steps.common import check_gateway_lines_of, gateway_facts, startup_notification, when_started
from pytest_bdd import given, then

from harness.checks import CouldNotLook
from harness.checks import first_day as checks
from harness.checks import orders as order_checks
from harness.checks import scheduler as scheduler_checks
from harness.checks import startup as startup_checks
from harness.core import names
from harness.evidence import runs
from harness.probes import bot_day, logs, reconcile
from harness.probes.processes import find_bot_processes
from harness.probes.scheduler import read_scheduled_task


@dataclass(frozen=True)
class _StartTime:
    """A start as harness.steps.common's Discord helpers read one: when it was, and how the log's times were read."""

    started_at: datetime | None
    zone: str


@pytest.fixture(scope="session")
def first_day_facts(world):
    """The first trading day after the switch (harness.probes.bot_day.FirstDay), read once per run."""
    settings = world.settings
    since, basis = world.switch_search_start()
    return bot_day.read_first_day(
        world.bot_log_spec(), base_dir=world.bot_dir, startup_text=settings.log_startup, since=since,
        since_basis=basis, autostart_at=settings.autostart_at, gateway_restart=settings.gateway_restart,
        error_markers=settings.log_error_markers, shutdown_markers=settings.log_shutdown_markers,
        gateway_line=settings.log_gateway_line, tz=world.log_tz(), zone=world.log_zone(),
        watch_ends=runs.first_hour_ends(world.evidence_dir, world.bot_dir),
        live_markers=settings.log_live_markers, dry_run_markers=settings.log_dry_run_markers)


@given("the bot's log of the first trading day after the switch", target_fixture="first_day")
def first_day(first_day_facts, evidence):
    facts = first_day_facts
    evidence.record(names.FIRST_DAY, {
        "switch": facts.switch, "found as": facts.switch_basis, "first hour ended": facts.first_hour_end,
        "first hour's end from": facts.first_hour_basis, "first trading day": facts.day,
        "closed days before it": facts.closed_days, "window": [facts.window_start, facts.window_end],
        "log times read as": facts.zone, "problem": facts.problem, "files not read": facts.read_problems,
    })
    checks.require_day(facts)
    evidence.record("first day: starts", [{"at": start.at, "where": start.where, "scheduled": start.scheduled}
                                          for start in facts.starts])
    evidence.record("first day: connection events", [{"kind": event.kind, "at": event.at, "line": event.line}
                                                     for event in facts.events[-200:]])
    evidence.record("first day: errors", {"count": facts.error_count, "first": facts.errors})
    evidence.record("first day: longest silences", [{"from": gap.start, "to": gap.end, "until": gap.until}
                                                    for gap in facts.gaps])
    return facts


@then("the bot was started at the scheduled time")
def autostarted(first_day, evidence) -> None:
    start = checks.check_autostart(first_day)
    evidence.note(f"auto-started at {bot_day.et(start.at)} ({start.where})")


@given("the scheduled start of the first day", target_fixture="scheduled_start")
def scheduled_start(first_day, evidence):
    start = checks.require_scheduled_start(first_day)
    evidence.record("scheduled start", {"at": start.at, "where": start.where, "first_lines": start.block.lines[:15]})
    return start


@then("that start loaded DRY_RUN=false and PAPER_TRADING=true and says paper trading mode is active")
def started_paper(scheduled_start, world, evidence) -> None:
    block = scheduled_start.block
    config = logs.configuration_line(block)
    evidence.record("configuration line", config)
    evidence.note(startup_checks.check_configuration_paper(config, block))
    paper = startup_checks.check_paper_line(block, logs.marker(world.settings.log_paper_active))
    evidence.record("paper mode line", paper)
    match = logs.find_in_order(block, [logs.Pattern(text, ignore_case=True) for text in world.settings.log_expected])
    evidence.record("expected startup lines", match)
    startup_checks.check_lines_in_order(match, block)


@then("no line of the first day says live trading or dry-run mode")
def no_wrong_mode(first_day, evidence) -> None:
    evidence.record("first day: mode lines", {"live trading mode": first_day.live_mode,
                                              "dry-run mode": first_day.dry_run})
    evidence.note(checks.check_no_wrong_mode(first_day))


@then("every gateway line of that start names the .env's gateway on a paper port")
def start_gateway(scheduled_start, env, world, evidence) -> None:
    check_gateway_lines_of(scheduled_start.block, env, world, evidence)


@given("the bot's scheduled task", target_fixture="scheduled_task")
@given("the bot's scheduled task and the bot's Python environment", target_fixture="scheduled_task")
def scheduled_task(world, evidence):
    # One step for the first day and the rollback (features/05): the bot's Python environment, read with the task
    # for the interpreter check (a look for its venv folder and its pyproject.toml), is not used by the rollback.
    task = read_scheduled_task(world.scheduler_task, timeout=world.settings.timeout, bot_dir=world.bot_dir)
    evidence.record("scheduled task", task)
    return task


@then("the scheduler's task starts the bot at the scheduled time on trading days")
def task_starts_at(scheduled_task, world, evidence) -> None:
    at = world.settings.autostart_at
    scheduler_checks.check_starts_at(scheduled_task, at, machine_zone=world.settings.bot_log_tz)
    evidence.note(f"{scheduled_task.source}: starts the bot at {at:%H:%M} America/New_York on trading days")


@then("the scheduler's task keeps paper mode")
def task_keeps_paper(scheduled_task, world, evidence) -> None:
    scheduler_checks.check_keeps_paper_mode(scheduled_task, bot_dir=world.bot_dir, bot_env=world.env_file)
    evidence.note(f"{scheduled_task.source}: its command, working directory and environment keep paper mode")


@then("the scheduler's task lets the bot run past the gateway's daily restart")
def task_runs_all_day(scheduled_task, world, evidence) -> None:
    start, until = world.settings.autostart_at, world.settings.gateway_restart
    scheduler_checks.check_runs_all_day(scheduled_task, start=start, until=until)
    evidence.note(f"{scheduled_task.source}: no time limit stops the bot between {start:%H:%M} and {until:%H:%M}")


@then("the bot reconnected after the gateway's daily restart in time")
def reconnected(first_day, world, paper_gateway, evidence) -> None:
    evidence.note(checks.check_reconnected(first_day, timedelta(minutes=world.settings.reconnect_within)))
    evidence.note(checks.gateway_after_restart(paper_gateway, first_day.gateway_restart, first_day.window_end))


@then("the bot handled the gateway's weekly re-login")
def weekly_relogin(first_day, world, evidence) -> None:
    evidence.note(checks.check_weekly_relogin(first_day, timedelta(minutes=world.settings.reconnect_within)))


@then("the bot did not crash, restart or go silent during the first day")
def no_crashes(first_day, world, evidence) -> None:
    process = find_bot_processes(world.bot_process) if world.bot_process else None
    if process is not None:
        evidence.record("bot processes now", process)
    evidence.note(checks.check_no_crashes(first_day, timedelta(minutes=world.settings.heartbeat_gap), process))


@then("the scheduler's task could be read")
def task_readable(scheduled_task) -> None:
    if not scheduled_task.looked:
        raise CouldNotLook(scheduled_task.problem or "the scheduler's task could not be read")


@given("the bot's Discord notifications around the scheduled start", target_fixture="scheduled_notification")
def scheduled_notification(world, scheduled_start, first_day, evidence):
    return startup_notification(world, _StartTime(scheduled_start.at, first_day.zone), evidence,
                                window=checks.notification_window(first_day, scheduled_start))


@then("a message says PAPER TRADING near the scheduled start")
def scheduled_discord_paper(scheduled_notification, scheduled_start, first_day) -> None:
    startup_checks.check_discord_paper(scheduled_notification,
                                       when_started(_StartTime(scheduled_start.at, first_day.zone), "scheduled start"))


@then("no message near the scheduled start announces DRY-RUN or LIVE mode")
def scheduled_discord_no_wrong_mode(scheduled_notification, evidence) -> None:
    note = startup_checks.check_discord_no_wrong_mode(scheduled_notification)
    if note:
        evidence.note(note)


@given("the paper gateway as the harness reads it now", target_fixture="paper")
def paper_now(world, paper_gateway, evidence):
    # Every execution the gateway returned: the check keeps the first day's.
    return gateway_facts(world, paper_gateway, evidence, names.PAPER_GATEWAY)


@then("every order the bot logged on the first day is in the paper account as far as the gateway still shows it")
def day_orders_in_paper(first_day, world, env, paper, evidence) -> None:
    facts = order_checks.require_readable(paper, world.why_no_gateway)
    client_id = env.int_value("IBKR_CLIENT_ID")
    if client_id is None:
        raise CouldNotLook("IBKR_CLIENT_ID is not an integer in the bot's .env: the bot's orders cannot be told")
    logged = first_day.orders
    evidence.record("first day: logged orders", {"orders": logged, "lines capped": first_day.order_lines_capped})
    shown = checks.day_records(first_day, facts, client_id)
    result = reconcile.reconcile(logged.orders, reconcile.broker_orders(shown), client_id, logged.rejections)
    evidence.record("first day: reconciliation", result)
    for note in checks.check_day_orders_in_paper(first_day, facts, result):
        evidence.note(note)


@then("the live account has no open order and no execution since the switch")
def no_live_orders_since_switch(live, env, first_day_facts, evidence) -> None:
    # Not behind the first day's log: the live account is read as it is now, whether or not the day can be judged.
    switch = first_day_facts.switch
    refs = sorted({order.ref for order in first_day_facts.orders.orders})
    evidence.note(order_checks.check_no_live_orders(live, switch.timestamp if switch is not None else None,
                                                    env.int_value("IBKR_CLIENT_ID"), refs))
