"""Operator attestations: what a person confirms, recorded with who, when and a note.

The file keeps every attestation ever recorded, in order (append, never replace): a later one supersedes an
earlier one for the verdict, but the history of who said what, when, stays evidence.
"""

from __future__ import annotations

import json
import os
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


def history(evidence_dir: Path) -> tuple[list[Attestation], str | None]:
    """(every attestation in the order recorded, problem). A missing file means none recorded yet."""
    source = evidence_dir / FILE_NAME
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], f"attestations {source} cannot be read: {exc}"
    try:
        return [Attestation(**row) for row in payload["attestations"]], None
    except (KeyError, TypeError) as exc:
        return [], f"attestations {source} are malformed: {exc}"


def load(evidence_dir: Path) -> tuple[dict[str, Attestation], str | None]:
    """(the latest attestation of each item, problem)."""
    records, problem = history(evidence_dir)
    return {a.item: a for a in records}, problem


def record(evidence_dir: Path, item: str, by: str, note: str = "") -> Attestation:
    """Append one attestation; atomic write so a crash never leaves half a file or loses the history."""
    existing, problem = history(evidence_dir)
    if problem:
        raise ValueError(problem)
    attestation = Attestation(item, by.strip(), datetime.now(timezone.utc).isoformat(timespec="seconds"), note)
    existing.append(attestation)
    evidence_dir.mkdir(parents=True, exist_ok=True)
    target = evidence_dir / FILE_NAME
    tmp = target.with_name(f"{FILE_NAME}.{os.getpid()}.tmp")
    body = {"attestations": [asdict(a) for a in existing]}
    try:
        tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return attestation
