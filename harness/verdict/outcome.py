"""The whole transition's status from the run that stands for each phase (harness.verdict.transition's chain):
SUCCESS, NEEDS REMEDIATION or INCOMPLETE, with the failed items and what is still open. The transition log, the
board card and `harness confirm` (the operator's declaration) all ask this one function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.core import dod
from harness.evidence.attestations import Attestation
from harness.verdict.decide import Overall, Status
from harness.verdict.transition import (
    PHASE_ORDER,
    PHASE_RUN_COMMANDS,
    REQUIRED_PHASES,
    Chain,
    RunView,
    rehearsal,
    run_overall,
    verdict_items,
)
from harness.verdict.wording import attested, clean, without_confirm

SUCCESS, NEEDS_REMEDIATION, INCOMPLETE = "SUCCESS", "NEEDS REMEDIATION", "INCOMPLETE"
# A rehearsal (`harness rehearse`) runs the procedure on a copy of the bot in minutes: its first day is left to the live
# run (a real bot lives on real time), and its rollback is part of it (rehearsed, not a transition undone).
REHEARSAL_PHASES = ("preflight", "transition", "first-hour", "rollback")


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # SUCCESS, NEEDS REMEDIATION, INCOMPLETE
    failed: tuple[str, ...]  # "phase: item: why"
    open: tuple[str, ...]  # phases not run, items to confirm


def manual_attestation(ids: Sequence[str], attestations: Mapping[str, Attestation]) -> Attestation | None:
    """An attestation that may stand for `ids` without a run: only items a person alone can attest."""
    for item in ids:
        entry = dod.BY_ID.get(item)
        found = attestations.get(item)
        if entry is not None and entry.manual and found is not None and found.by.strip():
            return found
    return None


def open_reason(entry: Mapping[str, Any]) -> str:
    """`item: why` for an item neither satisfied nor failed (the why of a skip already says "operator to confirm")."""
    why = without_confirm(clean(entry.get("why", "")))
    status = entry.get("status")
    kind = "" if status == Status.OPERATOR_TO_CONFIRM.value else f" ({str(status or 'no status').lower()})"
    return f"{entry.get('item')}{kind}: {why}"


def outcome(runs: Mapping[str, RunView], attestations: Mapping[str, Attestation], chain: Chain | None = None
            ) -> Outcome:
    """SUCCESS only when the preflight, transition, first-hour and first-day runs are all TRANSITION VERIFIED (and
    no later rollback undid the transition) and nothing between the runs (`chain`: an open incident, a run cut
    short or edited, a first hour too short) says otherwise; NEEDS REMEDIATION when any run or the chain needs
    remediation; else INCOMPLETE. A rehearsal's runs (every run of the world "rehearsal") need the preflight,
    transition, first-hour and rollback runs instead: its first day is left to the live run."""
    failed: list[str] = list(chain.failed) if chain is not None else []
    open_: list[str] = list(chain.open) if chain is not None else []
    remediation = bool(failed)
    judged_by_chain = (chain.cut_short | chain.edited) if chain is not None else frozenset()
    rehearsed = rehearsal(runs.values())
    required = REHEARSAL_PHASES if rehearsed else REQUIRED_PHASES
    for phase in PHASE_ORDER:
        run = runs.get(phase)
        if run is None:
            if phase in required:
                open_.append(f"{phase}: not run yet (`{PHASE_RUN_COMMANDS[phase]}`)")
            continue
        if run.run_id in judged_by_chain:
            continue
        overall = run_overall(run)
        items = verdict_items(run) or {}
        if overall == Overall.NEEDS_REMEDIATION.value:
            remediation = True
            named = [i for i in items.values() if i.get("status") == Status.FAILED.value]
            failed.extend(f"{phase}: {i['item']}: {clean(i.get('why', ''))}" for i in named)
            if not named:
                failed.append(f"{phase}: {clean((run.verdict() or {}).get('headline', 'needs remediation'))}")
        elif overall == Overall.VERIFIED.value:
            continue
        elif phase in required or overall is not None:
            if overall is None:
                open_.append(f"{phase}: run {clean(run.run_id, 80)} recorded no verdict")
            for item in items.values():
                if item.get("status") in (Status.VERIFIED.value, Status.ATTESTED.value, Status.FAILED.value):
                    continue
                late = manual_attestation((str(item["item"]),), attestations)
                if item.get("status") == Status.OPERATOR_TO_CONFIRM.value and late is not None:
                    open_.append(f"{phase}: {item['item']} was {attested(late)} after the run: run the {phase} "
                                 "phase again so that its verdict includes it")
                else:
                    open_.append(f"{phase}: {open_reason(item)}")
    rollback, transition = runs.get("rollback"), runs.get("transition")
    if rollback is not None and not rehearsed and (transition is None
                                                   or _later(rollback.started_at, transition.started_at)):
        open_.append(f"rollback: the transition was rolled back (run {clean(rollback.run_id, 80)}); re-attempt the "
                     "transition after the remediation")
    if remediation:
        return Outcome(NEEDS_REMEDIATION, tuple(failed), tuple(open_))
    return Outcome(INCOMPLETE if open_ else SUCCESS, (), tuple(open_))


def _later(a: str, b: str) -> bool:
    try:
        return datetime.fromisoformat(a) > datetime.fromisoformat(b)
    except (TypeError, ValueError):
        return str(a) > str(b)
