"""The verdict as evidence: one JSON file per phase in the evidence directory (and the run directory's own),
rewritten by every run of that phase; and what `harness confirm` may take, judged from the whole record."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.core import clock, names
from harness.core.jsonfiles import write_json_atomic
from harness.evidence.runs import VERDICT_FILE as RUN_VERDICT_FILE  # the run directory's, read back there
from harness.verdict.decide import Verdict

VERDICT_FILE = "verdict-{phase}.json"


def verdict_path(evidence_dir: Path, phase: str) -> Path:
    return evidence_dir / VERDICT_FILE.format(phase=phase)


def write_verdict(evidence_dir: Path, verdict: Verdict, world: str, run_dir: Path | None = None) -> Path | None:
    """Record `verdict` (already redacted text only) as the phase's verdict-<phase>.json and, given the run's
    directory, as its verdict.json (the same body); None when the evidence directory cannot be written."""
    body = {
        "phase": verdict.phase,
        "world": world,
        "decided_at": clock.now().isoformat(timespec="seconds"),
        "overall": verdict.overall.value,
        "exit_status": verdict.exit_status,
        "headline": verdict.headline,
        "items": [{"item": i.item, "text": i.text, "status": i.status.value, "why": i.why, "critical": i.critical,
                   "scenarios": list(i.scenarios)} for i in verdict.items],
    }
    target = verdict_path(evidence_dir, verdict.phase)
    if run_dir is not None:
        # Even when this one fails, the phase's verdict below (what `harness confirm` reads) is still written.
        with contextlib.suppress(OSError):
            write_json_atomic(run_dir / RUN_VERDICT_FILE, body)
    try:
        write_json_atomic(target, body)
    except OSError:
        return None
    return target


def load_verdict(evidence_dir: Path, phase: str) -> tuple[dict[str, Any] | None, str | None]:
    """(the last recorded verdict of `phase`, None) or (None, why there is none)."""
    source = verdict_path(evidence_dir, phase)
    try:
        body = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"no {phase} verdict is recorded in {evidence_dir}"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"the verdict {source} cannot be read: {exc}"
    if not isinstance(body, dict) or "overall" not in body:
        return None, f"the verdict {source} is malformed"
    return body, None


# What a person may declare only on a verified transition: the seed's "Paper trading transition successful,
# ready for Task 4.4" cannot stand on checks that failed, could not look, or looked at the embedded world.
NEEDS_VERIFIED_TRANSITION = frozenset({"dod_operator_declared"})
LIVE_WORLD = "live"


def attestation_refusal(evidence_dir: Path, item: str) -> str | None:
    """Why `item` may not be attested now, or None. A person is the evidence only where no check can be:
    - the declaration needs the whole transition VERIFIED (harness.verdict.outcome over the chain of runs) on the
      real bot, and no open incident;
    - an item a check decides may be attested only once that check ran and could not look (OPERATOR TO CONFIRM
      in the newest run that judged it): never before it ran, never over a pass or a failure, and never before
      the thing can exist (a first day not over yet);
    - what only a person can attest (Task 4.2 approved, ...) is always taken."""
    from harness.core import dod

    entry = dod.BY_ID.get(item)
    if entry is not None and entry.manual and item not in NEEDS_VERIFIED_TRANSITION:
        return None
    from harness.evidence import attestations as attest
    from harness.evidence import incidents as incident
    from harness.evidence.runs import history, list_runs
    from harness.verdict.outcome import SUCCESS, outcome
    from harness.verdict.transition import judge_chain

    records, problem = incident.history(evidence_dir)
    chain = judge_chain(list_runs(evidence_dir), records, problem, history(evidence_dir))
    if item in NEEDS_VERIFIED_TRANSITION:
        locked = incident.lock_reason(evidence_dir)
        if locked:
            return f"{item} is refused: {locked}"
        recorded, attestation_problem = attest.load(evidence_dir)
        result = outcome(chain.runs, chain.attestations(recorded), chain)
        worlds = sorted({run.world for run in chain.runs.values()})
        if result.status != SUCCESS or worlds != [LIVE_WORLD]:
            reasons = [*result.failed, *result.open][:2]
            where = f"its runs checked the {' and '.join(worlds) or 'no'} world" + ("" if worlds == [LIVE_WORLD]
                                                                                   else " (not the real bot)")
            return (f"{item} needs a verified transition of the real bot; the transition is {result.status} and "
                    f"{where}" + (f": {'; '.join(reasons)}" if reasons else "")
                    + (f" ({attestation_problem})" if attestation_problem else ""))
        return None
    return _check_refusal(chain, item)


def _check_refusal(chain, item: str) -> str | None:
    """An item a check decides: attested only for a check that ran and could not look, once the thing exists."""
    from harness.verdict.decide import Status
    from harness.verdict.transition import PHASE_RUN_COMMANDS, started, verdict_items

    judged = [(run, items[item]) for run in chain.runs.values()
              if (items := verdict_items(run)) and item in items and run.finished_at]
    if not judged:
        return (f"{item} is decided by a check, which has not run yet: run its phase first "
                f"({', '.join(sorted(set(PHASE_RUN_COMMANDS.values()) - {PHASE_RUN_COMMANDS['rollback']}))}); "
                "an attestation stands only for a check that ran and could not look")
    run, latest = max(judged, key=lambda pair: started(pair[0]))
    status = str(latest.get("status"))
    if status == Status.FAILED.value:
        return f"{item} FAILED in run {run.run_id}: a failed check is never attested away; remedy it and run again"
    if status != Status.OPERATOR_TO_CONFIRM.value:
        return (f"{item} is {status} in run {run.run_id}: an attestation stands only for a check that could not "
                "look")
    ends = _first_day_ends(run)
    if ends is not None and clock.now() < ends:
        return (f"{item} is about the first day, which ends at {ends.isoformat(timespec='minutes')}: attest it "
                "after it, once you have seen it")
    return None


def _first_day_ends(run) -> datetime | None:
    """When the first day read by a first-day run ends (its "first day" record's window), None otherwise."""
    from harness.verdict.transition import first_record, instant

    day = first_record(run, names.FIRST_DAY) if run.phase == "first-day" else None
    window = day.get("window") if isinstance(day, dict) else None
    return instant(window[1]) if isinstance(window, list) and len(window) == 2 else None
