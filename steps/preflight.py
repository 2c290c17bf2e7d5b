"""Steps for the preflight feature (Step 0 and Step 1, before the switch)."""

from __future__ import annotations

from harness.steps.common import gateway_facts
from pytest_bdd import given, then

from harness.checks import orders as gateway_checks
from harness.checks import preflight as checks
from harness.core import names
from harness.probes import market, processes
from harness.probes.bot_log import LastShutdown, read_last_shutdown


@given("when the bot was stopped, from its log or the operator", target_fixture="shutdown")
def shutdown(world, evidence):
    settings = world.settings
    if settings.shutdown_time is not None:
        at, source = settings.shutdown_time, f"--shutdown-time ({settings.sources.get('shutdown_time')})"
    else:
        found: LastShutdown = read_last_shutdown(world.bot_log_spec(), base_dir=world.bot_dir,
                                                 markers=settings.log_shutdown_markers, tz=world.log_tz(),
                                                 zone=world.log_zone())
        evidence.record(names.LAST_SHUTDOWN_LINE, found.line)
        at, source = found.at, found.source
    session = market.session_at(at) if at is not None else None
    evidence.record(names.NYSE_SESSION_AT_SHUTDOWN, session)
    return {"at": at, "source": source, "session": session}


@then("that was outside the NYSE regular session")
def outside_session(shutdown) -> None:
    checks.check_shutdown_outside_session(shutdown["at"], shutdown["source"], shutdown["session"])


@then("no bot process is running")
def bot_not_running(world, evidence) -> None:
    # The world's own bot (the embedded world: its stand-in bot), never another program that --bot-process's
    # default would match.
    facts = processes.find_bot_processes(world.bot_process or world.settings.bot_process, world.process_dir)
    evidence.record("bot processes", facts)
    note = checks.check_bot_not_running(facts)
    if note:
        evidence.note(note)


@given("the paper gateway as the harness sees it", target_fixture="paper")
def paper(world, paper_gateway, evidence):
    return gateway_facts(world, paper_gateway, evidence, names.PAPER_GATEWAY)


@then("the gateway answers")
def gateway_answers(world, paper, evidence) -> None:
    evidence.note(gateway_checks.check_gateway_answers(paper, world.why_no_gateway))


@then("the account summary shows cash, buying power and net liquidation")
def account_summary(world, paper, evidence) -> None:
    for note in gateway_checks.check_account_summary(gateway_checks.require_readable(paper, world.why_no_gateway)):
        evidence.note(note)


@then("the paper account has no open position and no open order")
def no_positions(world, paper, evidence) -> None:
    facts = gateway_checks.require_readable(paper, world.why_no_gateway)
    note = gateway_checks.check_no_positions_or_orders(facts, world.settings.declared_positions)
    if note:
        evidence.note(note)
