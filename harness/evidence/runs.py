"""One directory per run under `<evidence-dir>/runs/` (docs/evidence-layout.md): made, finished, and read back.

A run directory is named `<UTC yyyymmddThhmmssZ>-<phase>-<world>` and holds `run.json` (what the run was, and
`finished_at` once it ended), `verdict.json`, `evidence*.jsonl` and the rest. Readers never raise for a run
directory that is half-written, malformed or unreadable: it is skipped (listing) or read as absent (a file).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.core import clock
from harness.core.jsonfiles import exclusive, write_json_atomic
from harness.core.names import (
    ALLURE_RESULTS_DIR,
    EVIDENCE_GLOB,
    HISTORY_FILE,
    LIVE_ACCOUNT_FILE,
    PAPER_ACCOUNT_FILE,
    RUN_FILE,
    RUNS_DIR,
    VERDICT_FILE,
    WATCH_ROUNDS_FILE,
)

PHASES = ("preflight", "transition", "first-hour", "first-day", "rollback")
FILES = "files"  # run.json and the history: the fingerprints of the run's files
FINGERPRINTED = (VERDICT_FILE, EVIDENCE_GLOB, WATCH_ROUNDS_FILE)
CLOCK_OFFSET = "clock_offset_seconds"  # run.json: the pinned clock's distance from the system's, when pinned
MAX_SUFFIX = 1000  # run ids taken in the same second before giving up


def _slug(text: str) -> str:
    """`bot directory` -> `bot-directory`: lower case, runs of anything but letters and digits become one dash."""
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-") or "unknown"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def run_id(phase: str, world: str, started: datetime) -> str:
    """`20261125T194108Z-transition-embedded`: sorts by start time, says the phase and the world."""
    return f"{_utc(started):%Y%m%dT%H%M%SZ}-{_slug(phase)}-{_slug(world)}"


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds")


def new_run_dir(evidence_dir: Path, phase: str, world: str, started: datetime | None = None, **info: Any) -> Path:
    """Make `runs/<run id>/` (with `-2`, `-3`, ... when that id is taken) and write its run.json, without
    `finished_at`. `info` adds fields to run.json (harness_version, baseline, allure_results, ...).
    Raises OSError when the evidence directory cannot be written."""
    started = _utc(started or clock.now())
    base = run_id(phase, world, started)
    runs = Path(evidence_dir) / RUNS_DIR
    for attempt in range(1, MAX_SUFFIX + 1):
        name = base if attempt == 1 else f"{base}-{attempt}"
        target = runs / name
        try:
            # Atomic: two runs starting in the same second never share a directory. The parents are made here
            # too, in case a run that ran nothing removed an empty runs/ meanwhile.
            target.mkdir(parents=True)
        except FileExistsError:
            continue
        break
    else:
        raise OSError(f"no free run directory for {base} in {runs}")
    body = {"run_id": name, "phase": phase, "world": world, "started_at": _iso(started), **info}
    shift = clock.offset()
    if shift:  # a pinned clock (the embedded world on another day): what real time stamps must be moved by
        body[CLOCK_OFFSET] = round(shift.total_seconds(), 3)
    write_json_atomic(target / RUN_FILE, body)
    return target


def finish_run(run_dir: Path, **fields: Any) -> None:
    """Add `finished_at` (now, UTC), `fields` and the fingerprints of the run's files to its run.json, and append
    the same to the evidence directory's history (runs/history.jsonl), which a later edit of those files cannot
    match. Raises OSError when it cannot be written."""
    source = Path(run_dir) / RUN_FILE
    try:
        body = json.loads(source.read_text(encoding="utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError):
        body = {}
    if not isinstance(body, dict):
        body = {}
    body.update(fields)
    body["finished_at"] = _iso(clock.now())
    body[FILES] = fingerprints(run_dir)
    write_json_atomic(source, body)
    entry = {"run_id": body.get("run_id") or Path(run_dir).name, "phase": body.get("phase"),
             "finished_at": body["finished_at"], FILES: body[FILES]}
    history_file = Path(run_dir).parent / HISTORY_FILE
    with exclusive(history_file), history_file.open("a", encoding="utf-8", newline="\n") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def fingerprints(run_dir: Path) -> dict[str, str]:
    """SHA-256 of each file a run's verdict is judged from (its verdict, its checks' rows, a watch's rounds)."""
    found: dict[str, str] = {}
    for pattern in FINGERPRINTED:
        for path in sorted(Path(run_dir).glob(pattern)):
            try:
                found[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue
    return found


def history(evidence_dir: Path) -> dict[str, dict[str, Any]]:
    """run id -> what the history recorded when it finished (its phase, end and files' fingerprints)."""
    recorded: dict[str, dict[str, Any]] = {}
    for row in _read_jsonl(Path(evidence_dir) / RUNS_DIR / HISTORY_FILE):
        if isinstance(row.get("run_id"), str) and isinstance(row.get(FILES), dict):
            recorded[row["run_id"]] = row
    return recorded


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The object rows of a JSON-lines file; lines that are not JSON objects (a torn last line) are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


@dataclass(frozen=True)
class RunRecord:
    """One run directory as read back. `info` is its run.json; the files are read on demand."""

    path: Path
    run_id: str
    phase: str
    world: str
    started_at: str
    finished_at: str | None
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def finished(self) -> bool:
        return bool(self.finished_at)

    @property
    def clock_offset_ms(self) -> float:
        """How far the run's clock was from the system's (ms; 0 unless the embedded world's clock was pinned)."""
        value = self.info.get(CLOCK_OFFSET)
        return float(value) * 1000 if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0

    def fingerprints(self) -> dict[str, str]:
        return fingerprints(self.path)

    def verdict(self) -> dict[str, Any] | None:
        body = _read_json(self.path / VERDICT_FILE)
        return body if isinstance(body, dict) else None

    def rows(self) -> list[dict[str, Any]]:
        """Every scenario's evidence row, from every evidence*.jsonl (one per xdist worker), by node id."""
        rows: list[dict[str, Any]] = []
        for source in sorted(self.path.glob(EVIDENCE_GLOB)):
            rows.extend(_read_jsonl(source))
        return sorted(rows, key=lambda row: (str(row.get("nodeid", "")), str(row.get("scenario", ""))))

    def paper_account(self) -> dict[str, Any] | None:
        body = _read_json(self.path / PAPER_ACCOUNT_FILE)
        return body if isinstance(body, dict) else None

    def live_account(self) -> dict[str, Any] | None:
        body = _read_json(self.path / LIVE_ACCOUNT_FILE)
        return body if isinstance(body, dict) else None

    def watch_rounds(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.path / WATCH_ROUNDS_FILE)

    def allure_results(self) -> Path | None:
        """Where this run's Allure results are: its own allure-results/, or the --alluredir run.json names."""
        named = self.info.get("allure_results")
        if isinstance(named, str) and named:
            candidate = Path(named)
            if not candidate.is_absolute():
                candidate = self.path / candidate
            if candidate.is_dir():
                return candidate
        own = self.path / ALLURE_RESULTS_DIR
        return own if own.is_dir() else None


def read_run(run_dir: Path) -> RunRecord | None:
    """The run in `run_dir`, or None when its run.json is missing, unreadable or malformed."""
    info = _read_json(Path(run_dir) / RUN_FILE)
    if not isinstance(info, dict):
        return None
    fields = {name: info.get(name) for name in ("run_id", "phase", "world", "started_at")}
    if not all(isinstance(value, str) and value for value in fields.values()):
        return None
    finished = info.get("finished_at")
    return RunRecord(path=Path(run_dir), run_id=fields["run_id"], phase=fields["phase"], world=fields["world"],
                     started_at=fields["started_at"], finished_at=finished if isinstance(finished, str) else None,
                     info=info)


def list_runs(evidence_dir: Path) -> list[RunRecord]:
    """Every readable run under `<evidence_dir>/runs/`, oldest first (by start time, then directory name)."""
    runs_dir = Path(evidence_dir) / RUNS_DIR
    try:
        candidates = [entry for entry in runs_dir.iterdir() if entry.is_dir()]
    except OSError:
        return []
    records = []
    for candidate in candidates:
        try:
            record = read_run(candidate)
        except OSError:
            record = None
        if record is not None:
            records.append(record)
    return sorted(records, key=lambda record: (_sort_time(record.started_at), record.path.name))


def _sort_time(text: str) -> str:
    """A comparable UTC time for an ISO string ("" sorts first when it cannot be read)."""
    try:
        return _iso(datetime.fromisoformat(text))
    except ValueError:
        return ""


def latest_runs(evidence_dir: Path) -> dict[str, RunRecord]:
    """phase -> its newest finished run (a run still going, or one that crashed, has no finished_at)."""
    latest: dict[str, RunRecord] = {}
    for record in list_runs(evidence_dir):
        if record.finished:
            latest[record.phase] = record
    return latest


def bot_dir_info(bot_dir: Path | None) -> str | None:
    """How run.json names the bot a run looked at (its directory, resolved), so a later phase finds its runs."""
    if bot_dir is None:
        return None
    try:
        return str(Path(bot_dir).resolve())
    except OSError:
        return str(Path(bot_dir).absolute())


def first_hour_ends(evidence_dir: Path, bot_dir: Path | None) -> tuple[datetime, ...]:
    """When each finished first-hour watch of the bot in `bot_dir` ended (aware, oldest first); a watch of another
    bot (or of an embedded world, whose bot lived in a folder of its own) does not end this bot's first hour."""
    wanted = bot_dir_info(bot_dir)
    if wanted is None:
        return ()
    ends = []
    for record in list_runs(evidence_dir):
        if record.phase != "first-hour" or record.finished_at is None or record.info.get("bot_dir") != wanted:
            continue
        try:
            ends.append(_utc(datetime.fromisoformat(record.finished_at)))
        except ValueError:
            continue
    return tuple(sorted(ends))
