"""Operator attestations: what a person confirms, recorded with who, when and a note.

The file keeps every attestation ever recorded, in order (append, never replace): a later one supersedes an
earlier one for the verdict, but the history of who said what, when, stays evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from harness.core import clock
from harness.core.jsonfiles import append_log_row, read_log_rows
from harness.core.names import ATTESTATIONS_FILE

FILE_NAME = ATTESTATIONS_FILE


@dataclass(frozen=True, slots=True)
class Attestation:
    item: str
    by: str
    at: str  # ISO instant, UTC
    note: str = ""


def history(evidence_dir: Path) -> tuple[list[Attestation], str | None]:
    """(every attestation in the order recorded, problem). A missing file means none recorded yet."""
    source = evidence_dir / FILE_NAME
    rows, problem = read_log_rows(source, "attestations", "the attestation log")
    try:
        return [Attestation(**row) for row in rows], problem
    except TypeError as exc:
        return [], f"the attestation log {source} is malformed: {exc}"


def load(evidence_dir: Path) -> tuple[dict[str, Attestation], str | None]:
    """(the latest attestation of each item, problem)."""
    records, problem = history(evidence_dir)
    return {a.item: a for a in records}, problem


def record(evidence_dir: Path, item: str, by: str, note: str = "") -> Attestation:
    """Append one attestation, under the log's lock and by an atomic write: concurrent writers never lose one,
    and a crash never leaves half a file. Raises OSError, or ValueError when the log cannot be read."""
    attestation = Attestation(item, by.strip(), clock.now().isoformat(timespec="seconds"), note)
    append_log_row(Path(evidence_dir) / FILE_NAME, "attestations", "the attestation log", asdict(attestation))
    return attestation
