"""Steps and helpers shared by several features."""

from __future__ import annotations

from pytest_bdd import given, parsers, then

from harness.actions import attest
from harness.checks import CouldNotLook
from harness.checks import orders as gateway_checks
from harness.checks.preflight import check_attested
from harness.dod import normalize_id
from harness.probes.gateway_session import executions_since


def gateway_facts(world, session_facts, evidence, name: str, since=None):
    """The session's facts of a gateway (read once per run), executions narrowed to `since`, recorded."""
    if session_facts is None:
        raise CouldNotLook(world.why_no_gateway)
    facts = executions_since(session_facts, since)
    evidence.record(name, facts)
    return facts


@given("the recorded operator attestations", target_fixture="attestations")
def attestations(world, evidence):
    records, problem = attest.load(world.evidence_dir)
    if problem:
        evidence.note(problem)
    return records


@then(parsers.parse('the operator has confirmed "{item}"'))
def operator_confirmed(attestations, item: str, evidence) -> None:
    record = check_attested(attestations, normalize_id(item))
    evidence.record("attestation", record)


@then("every managed account is a paper account")
def accounts_paper(world, paper, evidence) -> None:
    facts = gateway_checks.require_readable(paper, world.why_no_gateway)
    evidence.note(gateway_checks.check_accounts_paper(facts, paper_trading=world.settings.phase != "preflight"))
