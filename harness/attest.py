"""Operator attestations: what only a person can confirm, recorded with who, when and a note."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

FILE_NAME = "attestations.json"


@dataclass(frozen=True, slots=True)
class Attestation:
    item: str
    by: str
    at: str  # ISO instant, UTC
    note: str = ""


def load(evidence_dir: Path) -> tuple[dict[str, Attestation], str | None]:
    """(attestations by item, problem). A missing file means none recorded yet."""
    source = evidence_dir / FILE_NAME
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, f"attestations {source} cannot be read: {exc}"
    try:
        records = [Attestation(**row) for row in payload["attestations"]]
    except (KeyError, TypeError) as exc:
        return {}, f"attestations {source} are malformed: {exc}"
    return {a.item: a for a in records}, None


def record(evidence_dir: Path, item: str, by: str, note: str = "") -> Attestation:
    """Add (or replace) one attestation; atomic write so a crash never leaves half a file."""
    existing, problem = load(evidence_dir)
    if problem:
        raise ValueError(problem)
    attestation = Attestation(item, by.strip(), datetime.now(timezone.utc).isoformat(timespec="seconds"), note)
    existing[item] = attestation
    evidence_dir.mkdir(parents=True, exist_ok=True)
    target = evidence_dir / FILE_NAME
    tmp = target.with_name(FILE_NAME + ".tmp")
    body = {"attestations": [asdict(a) for a in sorted(existing.values(), key=lambda a: a.item)]}
    tmp.write_text(json.dumps(body, indent=2), encoding="utf-8")
    tmp.replace(target)
    return attestation
