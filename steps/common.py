"""Steps and helpers shared by several features."""

from __future__ import annotations

from datetime import timedelta

from pytest_bdd import given, parsers, then

from harness.checks import CouldNotLook
from harness.checks import orders as gateway_checks
from harness.checks.preflight import check_attested
from harness.core import names
from harness.core.dod import normalize_id
from harness.evidence import attestations as attestation_log
from harness.probes import discord
from harness.probes.gateway_session import executions_since


def startup_notification(world, start, evidence, **expect):
    """The bot's Discord notification around its newest start (`expect`: what it should and must not say)."""
    if world.discord_channel is None:
        raise CouldNotLook("no Discord channel to read (--discord-channel, token in DISCORD_BOT_TOKEN)")
    started = start.started_at
    after = started - timedelta(minutes=30) if started else None
    facts = discord.read_recent_messages(world.discord_api, world.discord_channel, world.discord_token,
                                         after=after, timeout=world.settings.timeout)
    evidence.record("Discord messages", facts)
    found = discord.find_startup_notification(facts, near=started, **expect)
    evidence.record(names.STARTUP_NOTIFICATION, found)
    return found


def check_gateway_lines_of(block, env, world, evidence) -> None:
    """Every gateway line of a startup `block` names the .env's gateway on a paper port (recorded, then checked)."""
    from harness.checks import startup as startup_checks
    from harness.probes import logs

    text = world.settings.log_gateway_line
    found = logs.gateway_lines(block, text)
    evidence.record("gateway lines", found)
    evidence.note(startup_checks.check_gateway_lines(found, block, text, env.values.get("IBKR_HOST"),
                                                     env.values.get("IBKR_PORT")))


def when_started(start, what: str) -> str:
    """"startup at <time>, log times read as <zone>", for a message that depends on the time."""
    started = start.started_at
    return (f"{what} at {started.isoformat()}, log times read as {start.zone}" if started
            else f"the {what}'s time cannot be read from the log")


def gateway_facts(world, session_facts, evidence, name: str, since=None):
    """The session's facts of a gateway (read once per run), executions narrowed to `since`, recorded."""
    if session_facts is None:
        raise CouldNotLook(world.why_no_gateway)
    facts = executions_since(session_facts, since)
    evidence.record(name, facts)
    return facts


@given("the recorded operator attestations", target_fixture="attestations")
def attestations(world, evidence):
    records, problem = attestation_log.load(world.evidence_dir)
    if problem:
        evidence.note(problem)
    return records


@then(parsers.parse('the operator has confirmed "{item}"'))
def operator_confirmed(world, attestations, item: str, evidence) -> None:
    item_id = normalize_id(item)
    # What the check looked at, also when nothing is recorded: the attestation log and this item's entry in it.
    evidence.record("attestation", {"item": item_id, "attestation log": world.evidence_dir / attestation_log.FILE_NAME,
                                    "recorded": attestations.get(item_id)})
    check_attested(attestations, item_id)


@then("every managed account is a paper account")
def accounts_paper(world, paper, evidence) -> None:
    facts = gateway_checks.require_readable(paper, world.why_no_gateway)
    evidence.note(gateway_checks.check_accounts_paper(facts, paper_trading=world.settings.phase != "preflight"))
