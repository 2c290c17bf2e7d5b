"""A box of the template (✅, ❌ or "operator to confirm") and how it is judged: from a run's verdict items, from
the results of the scenarios that alone decide it, or from an attestation only a person can give.

✅ only from a passed check (verdict item VERIFIED, a passed scenario) or a recorded attestation (with who and
when); a skip, a check that could not look, a phase not run yet or NOT RUN never gives ✅.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from harness.core import names
from harness.evidence.attestations import Attestation
from harness.report.transition_log.run_evidence import PHASE_COMMANDS, RunLike, scenario_rows, verdict_items
from harness.report.transition_log.text import CONFIRM, attested, clean, when, without_confirm
from harness.verdict.decide import Status
from harness.verdict.outcome import manual_attestation, open_reason


@dataclass(frozen=True, slots=True)
class Box:
    mark: str  # "✅", "❌" or " "
    text: str
    why: str

    def render(self) -> str:
        if self.mark == "✅":
            return f"- [✅] {self.text} — {self.why}"
        if self.mark == "❌":
            return f"- [❌] {self.text} — FAILED: {self.why}"
        return f"- [ ] {self.text} — {CONFIRM}: {self.why}"


def judge(text: str, ids: Sequence[str], phase: str, items: Mapping[str, dict] | None,
          attestations: Mapping[str, Attestation]) -> Box:
    """One box from the verdict items `ids` of `phase`'s run. The items the run judged decide; none judged (or
    no run) leaves the box to the operator, unless an item only a person can attest was attested."""
    if items is None:
        found = manual_attestation(ids, attestations)
        if found is not None:
            return Box("✅", text, attested(found))
        return Box(" ", text, f"the {phase} run has not been made yet (`{PHASE_COMMANDS[phase]}`)")
    present = [items[item] for item in ids if item in items]
    if not present:
        found = manual_attestation(ids, attestations)
        if found is not None:
            return Box("✅", text, attested(found))
        return Box(" ", text, f"no check of {', '.join(ids)} in the {phase} run")
    failed = [i for i in present if i.get("status") == Status.FAILED.value]
    if failed:
        return Box("❌", text, "; ".join(f"{i['item']}: {clean(i.get('why', ''))}" for i in failed))
    good: list[str] = []
    open_: list[str] = []
    for entry in present:
        status, item = entry.get("status"), str(entry["item"])
        if status in (Status.VERIFIED.value, Status.ATTESTED.value):
            good.append(f"{item}: {clean(entry.get('why', ''))}")
        elif status == Status.OPERATOR_TO_CONFIRM.value and manual_attestation((item,), attestations):
            good.append(f"{item}: {attested(attestations[item])}")
        else:
            open_.append(open_reason(entry))
    if open_:
        return Box(" ", text, "; ".join(open_))
    return Box("✅", text, "; ".join(good) + f" ({phase} run)")


def box_lines(spec: Iterable[tuple[str, tuple[str, ...]]], phase: str, run: RunLike | None,
              attestations: Mapping[str, Attestation]) -> list[str]:
    """The rendered boxes of `spec` ((box text, verdict item ids) each), judged from `phase`'s run."""
    items = verdict_items(run)
    return [judge(text, ids, phase, items, attestations).render() for text, ids in spec]


def judge_scenario(text: str, name: str, title: str, phase: str, run: RunLike | None) -> Box:
    """One box from one scenario's result in `phase`'s run (judge_scenarios of that one)."""
    return judge_scenarios(text, ((name, title),), phase, run)


def judge_scenarios(text: str, scenarios: Sequence[tuple[str, str]], phase: str, run: RunLike | None) -> Box:
    """One box from the results of `scenarios` ((pytest-bdd name, title) each) in `phase`'s run: ✅ only when every
    one ran and passed (every row of it), ❌ when one failed, "operator to confirm" otherwise (skipped, not run, no
    such scenario in the run)."""
    if run is None:
        return Box(" ", text, f"the {phase} run has not been made yet (`{PHASE_COMMANDS[phase]}`)")
    judged = [(title, scenario_rows(run, name)) for name, title in scenarios]
    for title, rows in judged:
        failed = [row for row in rows if str(row.get("outcome") or "").lower() in ("failed", "error")]
        if failed:
            return Box("❌", text, f'scenario "{title}": {clean(failed[0].get("message") or "failed")}')
    for title, rows in judged:
        if not rows:
            return Box(" ", text, f'the {phase} run has no result of the scenario "{title}"')
        open_ = next((row for row in rows if str(row.get("outcome") or "").lower() != "passed"), None)
        if open_ is not None:
            why = without_confirm(clean(open_.get("message") or ""))
            return Box(" ", text, f'scenario "{title}" {clean(open_.get("outcome") or "no outcome", 40)}'
                                  + (f": {why}" if why else ""))
    rows = [row for _title, found in judged for row in found]
    shown = ""
    notification = next((record.get("facts") for row in rows for record in row.get("records") or ()
                         if isinstance(record, dict) and record.get("name") == names.STARTUP_NOTIFICATION), None)
    match = notification.get("match") if isinstance(notification, dict) else None
    if isinstance(match, dict) and match.get("content"):
        shown = f'"{clean(match.get("content"))}" (posted {when(match.get("timestamp"))}); '
    titles = "; ".join(f'"{title}"' for title, _rows in judged)
    return Box("✅", text, f"{shown}scenario{'s' if len(judged) > 1 else ''} {titles} passed ({phase} run)")
