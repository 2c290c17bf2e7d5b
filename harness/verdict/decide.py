"""The run's verdict: one status per Definition-of-Done item and one for the whole, decided from what the
scenarios did and what a person attested. Pure: no I/O, no pytest.

The rule is the product's first promise: an item is VERIFIED only when its checks looked and passed; a
check that could not look leaves its item OPERATOR TO CONFIRM until a named person attests it; a failed
check can never be attested away. The exit status follows the verdict.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from harness.core import dod
from harness.evidence.attestations import Attestation

# Exit statuses. 0 and 1 are pytest's own (all passed, a test failed); 2-5 are pytest's too (interrupted,
# internal error, usage error, no tests collected). INCOMPLETE needs a status of its own that no pytest
# run ever returns, so a script can tell "something is wrong" from "someone still has to look".
EXIT_VERIFIED = 0
EXIT_NEEDS_REMEDIATION = 1
EXIT_INCOMPLETE = 6

# An attestation stands in for a check that could not look only while it is recent: "I looked at the live
# portal" yesterday says nothing about orders placed this morning. Items only a person can attest (Task 4.2
# approved, ...) do not expire.
ATTESTATION_MAX_AGE = timedelta(hours=24)

UNTAGGED = "untagged"  # scenarios that name no checklist item still count, under this pseudo item
# An incident `harness halt` recorded and nobody resolved: the hooks add it as a failed pseudo item, so no phase can
# be verified while it is open (the seed: do not resume until the root cause is identified).
INCIDENT_OPEN = "incident_open"
PSEUDO_ITEMS = {UNTAGGED: "scenarios that name no checklist item",
                INCIDENT_OPEN: "no incident recorded by `harness halt` is open"}


class Status(str, Enum):
    VERIFIED = "VERIFIED"
    ATTESTED = "ATTESTED"
    FAILED = "FAILED"
    OPERATOR_TO_CONFIRM = "OPERATOR TO CONFIRM"
    NOT_RUN = "NOT RUN"


SATISFIED = frozenset({Status.VERIFIED, Status.ATTESTED})


class Overall(str, Enum):
    VERIFIED = "TRANSITION VERIFIED"
    NEEDS_REMEDIATION = "NEEDS REMEDIATION"
    INCOMPLETE = "INCOMPLETE"


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """What one scenario did, as the verdict needs it."""

    name: str  # the scenario's title, unique within the phase's features
    items: tuple[str, ...]  # checklist item ids from its tags (UNTAGGED when none)
    outcome: str  # passed, failed, error, skipped, deselected
    message: str = ""  # first line of the failure or skip reason (already redacted)
    critical: bool = False
    optional: bool = False  # opt-in check (@optional): its skip holds no item back
    manual: bool = False  # passes only on an attestation (@manual)


@dataclass(frozen=True, slots=True)
class ItemVerdict:
    item: str
    text: str
    status: Status
    why: str
    critical: bool = False
    scenarios: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    phase: str
    overall: Overall
    items: tuple[ItemVerdict, ...]

    @property
    def exit_status(self) -> int:
        return {Overall.VERIFIED: EXIT_VERIFIED, Overall.NEEDS_REMEDIATION: EXIT_NEEDS_REMEDIATION,
                Overall.INCOMPLETE: EXIT_INCOMPLETE}[self.overall]

    def with_status(self, status: Status) -> list[ItemVerdict]:
        return [item for item in self.items if item.status is status]

    @property
    def headline(self) -> str:
        """The one line a person reads: the verdict and the items behind it."""
        if self.overall is Overall.NEEDS_REMEDIATION:
            names = [i.item for i in self.with_status(Status.FAILED)]
            return f"{self.overall.value} ({self.phase}): {', '.join(names)}"
        if self.overall is Overall.INCOMPLETE:
            parts = []
            unconfirmed = [i.item for i in self.with_status(Status.OPERATOR_TO_CONFIRM)]
            not_run = [i.item for i in self.with_status(Status.NOT_RUN)]
            if unconfirmed:
                parts.append(f"operator to confirm {', '.join(unconfirmed)}")
            if not_run:
                parts.append(f"not run {', '.join(not_run)}")
            return f"{self.overall.value} ({self.phase}): {'; '.join(parts)}"
        return f"{self.overall.value} ({self.phase}): all {len(self.items)} item(s) verified or attested"


def attestation_counts(attestation: Attestation | None, item: str, now: datetime) -> bool:
    """True when `attestation` may stand in for `item`'s checks at `now` (named person, recent enough)."""
    if attestation is None or not attestation.by.strip():
        return False
    entry = dod.BY_ID.get(item)
    if entry is not None and entry.manual:
        return True
    try:
        at = datetime.fromisoformat(attestation.at)
    except ValueError:
        return False
    if at.tzinfo is None:
        return False
    return timedelta(0) <= now - at <= ATTESTATION_MAX_AGE


def _first_line(text: str) -> str:
    """The message's first line, whole (a critical failure's second line is the halt advice the table's "!" marks)."""
    return text.strip().splitlines()[0] if text.strip() else ""


def _judge_item(item: str, results: Sequence[ScenarioResult], expected: Sequence[str],
                attestation: Attestation | None, now: datetime) -> ItemVerdict:
    entry = dod.BY_ID.get(item)
    text = entry.text if entry else PSEUDO_ITEMS.get(item, item)
    critical = any(r.critical for r in results)
    names = tuple(r.name for r in results)
    broken = [r for r in results if r.outcome in ("failed", "error")]
    if broken:
        first = broken[0]
        kind = "harness error" if first.outcome == "error" else "failed"
        return ItemVerdict(item, text, Status.FAILED, f"{_first_line(first.message)} ({kind}: {first.name})",
                           critical, names)
    unseen = [r for r in results if r.outcome == "skipped" and not r.optional]
    ran = [r for r in results if r.outcome == "passed"]
    if unseen:
        if attestation_counts(attestation, item, now):
            assert attestation is not None
            return ItemVerdict(item, text, Status.ATTESTED,
                               f"attested by {attestation.by} at {attestation.at} for {len(unseen)} check(s) that "
                               f"could not look: {', '.join(r.name for r in unseen)}", critical, names)
        reason = _first_line(unseen[0].message) or "the check could not look"
        if attestation is not None and entry is not None and not entry.manual:
            hours = int(ATTESTATION_MAX_AGE.total_seconds() // 3600)
            reason += f" (the attestation by {attestation.by} at {attestation.at} is older than {hours} h)"
        more = f" (+{len(unseen) - 1} more)" if len(unseen) > 1 else ""
        return ItemVerdict(item, text, Status.OPERATOR_TO_CONFIRM, f"{reason}{more}", critical, names)
    missing = [name for name in expected if name not in names]
    if missing:
        return ItemVerdict(item, text, Status.NOT_RUN,
                           f"{len(missing)} of {len(expected)} check(s) not run in this run: {', '.join(missing)}",
                           critical, names)
    if ran and all(r.manual for r in ran) and attestation is not None:
        return ItemVerdict(item, text, Status.ATTESTED, f"attested by {attestation.by} at {attestation.at}",
                           critical, names)
    if not ran:  # only opt-in checks, and none of them ran: nothing was seen
        return ItemVerdict(item, text, Status.OPERATOR_TO_CONFIRM,
                           f"only opt-in checks, none ran: {_first_line(results[0].message)}", critical, names)
    return ItemVerdict(item, text, Status.VERIFIED, f"{len(ran)} check(s) passed", critical, names)


def decide(phase: str, results: Iterable[ScenarioResult], attestations: Mapping[str, Attestation],
           now: datetime, expected: Mapping[str, Sequence[str]] | None = None) -> Verdict | None:
    """The verdict of a run, or None when no scenario ran (a run of unit tests only has no verdict).

    `expected` maps each checklist item to the titles of all the phase's scenarios that check it (read from
    the feature files): an item some of whose scenarios were not run (`-k`, `-m`, one feature file) is
    NOT RUN, never VERIFIED, and an item none of whose scenarios ran is listed NOT RUN too.
    """
    expected = expected or {}
    ran: dict[str, list[ScenarioResult]] = {}
    for result in results:
        for item in result.items or (UNTAGGED,):
            ran.setdefault(item, []).append(result)
    if not ran:
        return None
    order = {item.id: n for n, item in enumerate(dod.ITEMS)}
    judged = [_judge_item(item, ran[item], expected.get(item, ()), attestations.get(item), now) for item in ran]
    for item in set(expected) - set(ran):
        entry = dod.BY_ID.get(item)
        judged.append(ItemVerdict(item, entry.text if entry else item, Status.NOT_RUN,
                                  f"none of its {len(expected[item])} check(s) ran in this run"))
    items = tuple(sorted(judged, key=lambda v: (order.get(v.item, len(order)), v.item)))
    statuses = {item.status for item in items}
    if Status.FAILED in statuses:
        overall = Overall.NEEDS_REMEDIATION
    elif statuses - SATISFIED:
        overall = Overall.INCOMPLETE
    else:
        overall = Overall.VERIFIED
    return Verdict(phase, overall, items)


def format_table(verdict: Verdict, width: int = 100) -> list[str]:
    """The table printed at the end of a run: item, status, why; then the one-line verdict. A long why is wrapped
    onto continuation lines under its column, never cut: every word of it is shown, a path or an account id
    whole (a word longer than the column overflows the line rather than being split)."""
    rows = [(item.item + (" !" if item.critical else ""), item.status.value, item.why) for item in verdict.items]
    first = max(len(r[0]) for r in rows)
    second = max(len(r[1]) for r in rows)
    room = max(30, width - first - second - 4)
    indent = " " * (first + second + 4)
    lines: list[str] = []
    for name, status, why in rows:
        wrapped = textwrap.wrap(why, room, break_long_words=False, break_on_hyphens=False) or [""]
        lines.append(f"{name:<{first}}  {status:<{second}}  {wrapped[0]}")
        lines.extend(indent + rest for rest in wrapped[1:])
    lines.append("")
    lines.append(verdict.headline)
    return lines
