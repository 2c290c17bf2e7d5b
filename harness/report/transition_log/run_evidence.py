"""What the transition log reads of a run: the phases in the seed's order, and a run's verdict items, evidence
records and recorded gateway facts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from harness.core import names
from harness.verdict.transition import (
    EMBEDDED_WORLD,
    PHASE_ORDER,
    PHASE_RUN_COMMANDS,
    REHEARSAL_WORLD,
    REQUIRED_PHASES,
    first_record,
    records,
    run_overall,
    verdict_items,
)

__all__ = ["EMBEDDED_WORLD", "PHASE_COMMANDS", "PHASE_ORDER", "REHEARSAL_WORLD", "REQUIRED_PHASES", "RunLike",
           "embedded", "first_record", "live_account", "paper_account", "records", "rehearsed", "run_overall",
           "scenario_rows", "verdict_items"]

PHASE_COMMANDS = PHASE_RUN_COMMANDS


class RunLike(Protocol):
    """What the log reads of a run (harness.evidence.runs.RunRecord)."""

    run_id: str
    phase: str
    world: str
    started_at: str
    finished_at: str | None

    def verdict(self) -> dict | None: ...
    def rows(self) -> list[dict]: ...
    def paper_account(self) -> dict | None: ...
    def watch_rounds(self) -> list[dict]: ...


def embedded(runs: Mapping[str, RunLike]) -> bool:
    """Any run of the log checked the embedded world (the harness's own fakes)."""
    return any(run.world == EMBEDDED_WORLD for run in runs.values())


def rehearsed(runs: Mapping[str, RunLike]) -> bool:
    """Any run of the log is a rehearsal's (`harness rehearse`: a copy of the bot against the harness's fakes)."""
    return any(run.world == REHEARSAL_WORLD for run in runs.values())


def scenario_rows(run: RunLike | None, name: str) -> list[dict]:
    """The run's evidence rows of the scenario `name` (pytest-bdd's test name), in node-id order."""
    if run is None:
        return []
    return [row for row in run.rows() if isinstance(row, dict)
            and (row.get("scenario") == name or str(row.get("nodeid") or "").endswith("::" + name))]


def paper_account(run: RunLike | None) -> dict | None:
    """The paper gateway's facts: the run's paper-account.json, else the newest "paper gateway" record."""
    if run is None:
        return None
    recorded = run.paper_account()
    if isinstance(recorded, dict):
        return recorded
    seen = [facts for facts in records(run, names.PAPER_GATEWAY) if isinstance(facts, dict)]
    return max(seen, key=lambda facts: str(facts.get("observed_at") or "")) if seen else None


def live_account(run: RunLike | None) -> dict | None:
    """The live gateway's facts (read-only): the run's live-account.json, else the newest recorded read."""
    if run is None:
        return None
    reader = getattr(run, "live_account", None)
    recorded = reader() if callable(reader) else None
    if isinstance(recorded, dict):
        return recorded
    seen = [facts for facts in records(run, names.LIVE_GATEWAY) if isinstance(facts, dict)]
    return max(seen, key=lambda facts: str(facts.get("observed_at") or "")) if seen else None
