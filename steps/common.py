"""Steps shared by every feature."""

from __future__ import annotations

from pytest_bdd import given, parsers, then

from harness.actions import attest
from harness.checks.preflight import check_attested
from harness.dod import normalize_id


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
