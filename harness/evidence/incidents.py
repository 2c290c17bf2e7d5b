"""What `harness halt` did, recorded append-only, and whether an incident is still open (the incident lock).

A real halt records an INCIDENT; `harness halt --drill` records a DRILL (a rehearsal: it locks nothing). While
an incident is open, `harness switch paper`, the operator's declaration and the verdict of every phase refuse:
the seed's "Do NOT resume until root cause identified and verified fixed". `harness confirm incident_resolved
--by NAME --note "root cause..."` appends a RESOLUTION, which closes every incident recorded before it.

The file keeps every record ever made, in order (like the attestations): what was done in an emergency stays
evidence. A log that cannot be read cannot show that no incident is open, so it locks too (never a false pass).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from harness.core import clock
from harness.core.jsonfiles import append_log_row, read_log_rows
from harness.core.names import INCIDENTS_FILE

FILE_NAME = INCIDENTS_FILE
INCIDENT, DRILL, RESOLUTION = "incident", "drill", "resolution"
RESOLVE_COMMAND = 'harness confirm incident_resolved --by NAME --note "root cause, and how it was verified fixed"'


@dataclass(frozen=True, slots=True)
class HaltRecord:
    """One entry of the incident log. Account ids in it are masked; it never holds a secret."""

    kind: str  # incident, drill or resolution
    at: str  # ISO instant, UTC
    reason: str = ""  # why the halt was called (incident, drill)
    outcome: str = ""  # "complete", or what kept it from completing (refused, orders still open, ...)
    gateway: str = ""  # HOST:PORT acted on
    accounts: tuple[str, ...] = ()  # masked
    done: tuple[str, ...] = ()  # what the harness did
    left: tuple[str, ...] = ()  # what is left for the operator to do by hand
    by: str = ""  # resolution: who
    note: str = ""  # resolution: the root cause and how it was verified fixed

    @property
    def summary(self) -> str:
        """One line: when, what, why."""
        what = {INCIDENT: "incident", DRILL: "drill", RESOLUTION: "resolution"}.get(self.kind, self.kind)
        why = self.reason or self.note
        return f"{what} recorded at {self.at}" + (f": {why}" if why else "")


def now_text() -> str:
    return clock.now().isoformat(timespec="seconds")


def history(evidence_dir: Path) -> tuple[list[HaltRecord], str | None]:
    """(every record in the order made, problem). A missing file means nothing recorded yet."""
    source = Path(evidence_dir) / FILE_NAME
    rows, problem = read_log_rows(source, "records", "the incident log")
    names = {f.name for f in fields(HaltRecord)}
    try:
        records = []
        for row in rows:
            values = {key: tuple(value) if isinstance(value, list) else value for key, value in row.items()
                      if key in names}
            records.append(HaltRecord(**values))
    except TypeError as exc:
        return [], f"the incident log {source} is malformed: {exc}"
    return records, problem


def append(evidence_dir: Path, record: HaltRecord) -> HaltRecord:
    """Append one record, under the log's lock and by an atomic write: concurrent halts never lose one, and a
    crash never leaves half a file. Raises OSError or ValueError (an unreadable log is never overwritten)."""
    append_log_row(Path(evidence_dir) / FILE_NAME, "records", "the incident log", asdict(record))
    return record


def open_incident(evidence_dir: Path) -> tuple[HaltRecord | None, str | None]:
    """(the oldest incident no resolution has closed yet, problem). Drills never count."""
    records, problem = history(evidence_dir)
    if problem:
        return None, problem
    pending: HaltRecord | None = None
    for record in records:
        if record.kind == INCIDENT and pending is None:
            pending = record
        elif record.kind == RESOLUTION:
            pending = None
    return pending, None


def bot_folder(env_file: Path) -> Path:
    """Where the bot keeps its own copy of the incident log: the private folder beside its .env, so that its lock
    holds whichever evidence directory (or working directory) a later command uses."""
    from harness.probes.envfile import backup_dir

    return backup_dir(env_file)


def places(evidence_dir: Path, env_file: Path | None = None) -> list[Path]:
    """The incident logs that bind a command: the evidence directory's, and the bot's own when it is known."""
    return [Path(evidence_dir), *([bot_folder(env_file)] if env_file is not None else [])]


def record_for_bot(env_file: Path, record: HaltRecord) -> Path:
    """Append `record` to the bot's own incident log (its private folder is made, git-ignored, when missing)."""
    from harness.probes.envfile import private_folder

    folder = private_folder(env_file)
    append(folder, record)
    return folder / FILE_NAME


def lock_reason(evidence_dir: Path, env_file: Path | None = None) -> str | None:
    """Why nothing may resume now (an open incident in the evidence directory or in the bot's own log, or a log
    that cannot show there is none), or None."""
    for folder in places(evidence_dir, env_file):
        incident, problem = open_incident(folder)
        if problem:
            return f"{problem}: it cannot show that no incident is open; repair or restore it"
        if incident is not None:
            bot = f" --bot-dir {Path(env_file).parent}" if env_file is not None and folder != Path(evidence_dir) \
                else ""
            return (f"an incident is open ({incident.summary}, in {folder / FILE_NAME}); do not resume until the root "
                    f"cause is identified and verified fixed, then close it with "
                    f"`{RESOLVE_COMMAND.replace('--by NAME', '--by NAME' + bot)}`")
    return None


def resolve(evidence_dir: Path, by: str, note: str) -> HaltRecord:
    """Close the open incident(s). Raises ValueError when none is open, the note is empty or the log is unreadable."""
    if not note.strip():
        raise ValueError("say what the root cause was and how it was verified fixed: --note TEXT")
    incident, problem = open_incident(evidence_dir)
    if problem:
        raise ValueError(problem)
    if incident is None:
        raise ValueError(f"no incident is open in {evidence_dir}: nothing to resolve")
    return append(evidence_dir, HaltRecord(RESOLUTION, now_text(), reason=incident.summary, by=by.strip(),
                                           note=note.strip()))
