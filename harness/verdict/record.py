"""The verdict as evidence: one JSON file per phase in the evidence directory, rewritten by every run of
that phase, read back by `harness confirm` (the operator's declaration needs a verified transition)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from harness import clock
from harness.evidence.jsonfiles import write_json_atomic
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


def attestation_refusal(evidence_dir: Path, item: str) -> str | None:
    """Why `item` may not be attested now, or None. While an incident is open (`harness halt`), the declaration
    is refused whatever the verdict says."""
    if item not in NEEDS_VERIFIED_TRANSITION:
        return None
    from harness.actions import incident
    from harness.verdict.decide import Overall

    locked = incident.lock_reason(evidence_dir)
    if locked:
        return f"{item} is refused: {locked}"

    body, problem = load_verdict(evidence_dir, "transition")
    run = "run `pytest features/ --live-gateway --bot-dir BOT` after the restart"
    if body is None:
        return f"{item} needs a verified transition, and {problem}: {run}"
    if body.get("overall") != Overall.VERIFIED.value:
        return f"{item} needs a verified transition, and the last verdict ({body.get('decided_at')}) is: " \
               f"{body.get('headline') or body.get('overall')}"
    if body.get("world") != "live":
        return (f"{item} needs a verified transition of the real bot, but the last transition verdict "
                f"({body.get('decided_at')}) checked the {body.get('world')} world: {run}")
    return None
