"""The chain of one transition: which recorded run stands for each phase, and what between the runs keeps the
transition from being verified. Computed from the whole record each time, never read back.

From every run recorded (finished or not, oldest first), the incidents and the attestations:

* an incident `harness halt` recorded and nobody resolved needs remediation; a log of incidents that cannot be
  read cannot show that none is open, so it needs remediation too;
* after an incident (resolved or not), only runs started after it count: the transition is verified again;
* beside runs of a real bot, runs of a rehearsal (`harness rehearse`: a copy of the bot against the harness's fakes)
  and of the embedded world (a demonstration) do not count, and beside a rehearsal's runs the embedded world's do
  not; runs whose run.json names another bot's directory than the transition's do not count;
* the transition run is the newest; the preflight is the newest one started before it (a preflight run again
  after the switch is not the pre-switch one); the first hour the newest watch started after that preflight; the
  first day the newest run started after the transition;
* a run with no recorded end was cut short (killed, a closed terminal): a failure it recorded needs remediation,
  else it is open, never verified;
* a finished run's recorded verdict must agree with the checks it recorded (an item is VERIFIED only when its
  checks passed, every failure is FAILED); a verdict that does not is named as edited or corrupt;
* the first hour of a real bot was watched for at least 60 minutes (a shorter watch is fine for trying or
  rehearsing, but cannot stand for the seed's hour);
* nothing is too old to count: the preflight began at most 24 hours before the transition run, the first hour at
  most 24 hours after it.

Pure: the runs are read by the caller (harness.evidence.runs), nothing here opens a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from harness.core import dod
from harness.evidence.incidents import INCIDENT, RESOLUTION, RESOLVE_COMMAND
from harness.verdict.decide import INCIDENT_OPEN, SATISFIED, Overall, Status

EMBEDDED_WORLD = "embedded"
REHEARSAL_WORLD = "rehearsal"  # `harness rehearse`: the operator's bot, copied, against the harness's fakes
# Worlds whose runs are never evidence of a transition, each beside the ones before it: a real bot's runs set aside a
# rehearsal's and the embedded world's, a rehearsal's set aside the embedded world's.
NOT_EVIDENCE = {REHEARSAL_WORLD: "a rehearsal (`harness rehearse`: a copy of the bot against the harness's fakes) "
                                 "is not evidence of this bot's transition",
                EMBEDDED_WORLD: "the embedded world (a demonstration) is not evidence of this bot's transition"}
# The phases of the procedure in the seed's order; `first-hour` is written by `harness watch`.
PHASE_ORDER = ("preflight", "transition", "first-hour", "first-day", "rollback")
REQUIRED_PHASES = ("preflight", "transition", "first-hour", "first-day")
FIRST_HOUR = timedelta(minutes=60)  # the seed: "Keep bot running manually for 1 hour"
TIMELY = timedelta(hours=24)  # the preflight before the switch, and the first hour after it, are that close to it
PHASE_RUN_COMMANDS = {
    "preflight": "harness check --phase preflight",
    "transition": "harness check --phase transition",
    "first-hour": "harness watch --for 1h",
    "first-day": "harness check --phase first-day",
    "rollback": "harness check --phase rollback",
}
PASSED, FAILED, UNSEEN = "passed", "failed", "unseen"
_UNDATED = datetime.min.replace(tzinfo=timezone.utc)


class RunView(Protocol):
    """What the chain reads of a recorded run (harness.evidence.runs.RunRecord)."""

    run_id: str
    phase: str
    world: str
    started_at: str
    finished_at: str | None
    info: dict

    def verdict(self) -> dict | None: ...
    def rows(self) -> list[dict]: ...
    def watch_rounds(self) -> list[dict]: ...
    def fingerprints(self) -> dict[str, str]: ...


class IncidentView(Protocol):
    """What the chain reads of a record of `harness halt` (harness.evidence.incidents.HaltRecord)."""

    kind: str
    at: str

    @property
    def summary(self) -> str: ...


@dataclass(frozen=True)
class Chain:
    runs: dict[str, Any]  # phase -> the run that stands for it
    failed: tuple[str, ...] = ()  # what needs remediation, found between the runs
    open: tuple[str, ...] = ()  # what keeps the transition from being verified, found between the runs
    set_aside: tuple[tuple[str, str], ...] = ()  # (run id, why) of each run recorded but not counted
    cut_short: frozenset[str] = frozenset()  # run ids with no recorded end
    edited: frozenset[str] = frozenset()  # run ids whose recorded verdict does not match their recorded checks
    incidents: tuple[Any, ...] = ()  # every record of `harness halt`, in order
    first_hour_watched: timedelta | None = None  # how long the counted first-hour watch ran
    last_incident: datetime | None = None  # runs and attestations before it do not count

    def attestations(self, recorded: Mapping[str, Any]) -> dict[str, Any]:
        """The attestations (item -> the latest, with an ISO `at`) that still count: none made before the last
        incident, whose transition is verified again from the start."""
        if self.last_incident is None:
            return dict(recorded)
        return {item: found for item, found in recorded.items()
                if (instant(getattr(found, "at", None)) or self.last_incident) > self.last_incident}


def instant(text: object) -> datetime | None:
    """An aware instant from a recorded ISO text; None when it is not one."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def overall_of(items: Iterable[Mapping[str, Any]] | None) -> str | None:
    """The overall verdict the items say (never the `overall` a file claims): NEEDS REMEDIATION when one failed,
    TRANSITION VERIFIED when every one was verified or attested, else INCOMPLETE; None without items."""
    statuses = [str(item.get("status")) for item in items or () if isinstance(item, Mapping)]
    if not statuses:
        return None
    if Status.FAILED.value in statuses:
        return Overall.NEEDS_REMEDIATION.value
    if all(status in {s.value for s in SATISFIED} for status in statuses):
        return Overall.VERIFIED.value
    return Overall.INCOMPLETE.value


def started(run: RunView) -> datetime:
    """When the run started, for ordering runs (a start that cannot be read sorts first)."""
    return instant(run.started_at) or _UNDATED


def records(run: RunView | None, name: str) -> list[Any]:
    """The facts of every record called `name` in the run's evidence rows (rows in node-id order)."""
    if run is None:
        return []
    return [record.get("facts") for row in run.rows() for record in row.get("records") or ()
            if isinstance(record, dict) and record.get("name") == name]


def first_record(run: RunView | None, name: str) -> Any:
    found = [facts for facts in records(run, name) if facts]
    return found[0] if found else None


def run_overall(run: RunView) -> str | None:
    """The run's overall verdict (TRANSITION VERIFIED, ...) as its recorded items say it, never the `overall` the
    file claims; None when it recorded none."""
    verdict = run.verdict()
    return overall_of(verdict.get("items") if isinstance(verdict, dict) else None)


def verdict_items(run: RunView | None) -> dict[str, dict] | None:
    """item id -> the run's verdict of it; None when there is no run; {} when the run recorded no verdict."""
    if run is None:
        return None
    verdict = run.verdict() or {}
    items = verdict.get("items") if isinstance(verdict, dict) else None
    return {str(i.get("item")): i for i in items or () if isinstance(i, dict) and i.get("item")}


def observations(run: RunView) -> list[tuple[str, str, str]]:
    """(item, passed/failed/unseen, message) for every check the run recorded: its scenarios' rows, or the rounds
    of a watch. A skipped opt-in check says nothing."""
    seen: list[tuple[str, str, str]] = []
    for row in run.rows():
        tags = [str(tag) for tag in row.get("tags") or ()]
        if "optional" in tags and row.get("outcome") == "skipped":
            continue
        kind = {"passed": PASSED, "failed": FAILED, "error": FAILED, "skipped": UNSEEN}.get(str(row.get("outcome")))
        if kind is None:
            continue
        items = [tag for tag in tags if tag in dod.BY_ID or tag == INCIDENT_OPEN] or ["untagged"]
        seen.extend((item, kind, str(row.get("message") or row.get("scenario") or "")) for item in items)
    for round_ in run.watch_rounds():
        for check in round_.get("checks") or ():
            if not isinstance(check, Mapping):
                continue
            kind = {"passed": PASSED, "failed": FAILED}.get(str(check.get("status")), UNSEEN)
            seen.append((str(check.get("item") or "untagged"), kind,
                         f"round {round_.get('round')}: {check.get('name')}: {check.get('message') or ''}"))
    return seen


def disagreement(run: RunView) -> str | None:
    """How the run's recorded verdict contradicts the checks it recorded, or None when it does not."""
    verdict = run.verdict()
    items = verdict.get("items") if isinstance(verdict, Mapping) else None
    if not isinstance(items, list):
        return None
    seen = observations(run)
    by_item: dict[str, set[str]] = {}
    for item, kind, _message in seen:
        by_item.setdefault(item, set()).add(kind)
    recorded = {str(i.get("item")): str(i.get("status")) for i in items if isinstance(i, Mapping)}
    for item, kinds in sorted(by_item.items()):
        if FAILED in kinds and recorded.get(item, Status.FAILED.value) != Status.FAILED.value:
            return f"{item} is {recorded[item]} although a check of it failed"
    for item, status in sorted(recorded.items()):
        kinds = by_item.get(item, set())
        if status == Status.VERIFIED.value and (PASSED not in kinds or kinds - {PASSED}):
            what = "no check of it was recorded" if not kinds else "not every check of it passed"
            return f"{item} is VERIFIED although {what}"
    return None


def judge_chain(runs: Sequence[RunView], incidents: Sequence[IncidentView] = (),
                incident_problem: str | None = None, history: Mapping[str, Mapping[str, Any]] | None = None
                ) -> Chain:
    """The chain of the transition recorded in `runs` (any order; finished or not); `history`: what the evidence
    directory's history recorded of each run as it finished (harness.evidence.runs.history), to tell a file edited
    or a run removed since."""
    ordered = sorted(runs, key=lambda run: (started(run), run.run_id))
    failed: list[str] = _against_history(ordered, history or {})
    open_: list[str] = []
    aside: list[tuple[str, str]] = []
    last_incident = _last_incident(incidents)
    counted = _after_the_last_incident(ordered, incidents, incident_problem, last_incident, failed, aside)
    counted = _of_one_world(counted, aside)
    counted = _of_one_bot(counted, aside)
    chosen = _choose(counted, aside)
    cut_short, edited = set(), set()
    for phase, run in chosen.items():
        if not run.finished_at:
            cut_short.add(run.run_id)
            broken = [(item, message) for item, kind, message in observations(run) if kind == FAILED]
            if broken:
                item, message = broken[0]
                failed.append(f"{phase}: run {run.run_id} was cut short (no end recorded) after recording a failure: "
                              f"{item}: {_first_line(message)}")
            else:
                open_.append(f"{phase}: run {run.run_id} was cut short (no end recorded; still running, killed, or its "
                             f"terminal closed): run it again (`{PHASE_RUN_COMMANDS.get(phase, phase)}`)")
            continue
        contradiction = disagreement(run)
        if contradiction:
            edited.add(run.run_id)
            failed.append(f"{phase}: the recorded verdict of run {run.run_id} does not match the checks it recorded "
                          f"({contradiction}): it was edited or is corrupt; run the {phase} phase again")
    _timely(chosen, open_)
    watched = _first_hour(chosen.get("first-hour"), open_)
    return Chain(dict(chosen), tuple(failed), tuple(open_), tuple(aside), frozenset(cut_short), frozenset(edited),
                 tuple(incidents), watched, last_incident)


def _against_history(runs: Sequence[RunView], history: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What no longer matches the history: a run's file changed since it finished, a finished run gone."""
    found = []
    present = {run.run_id for run in runs}
    for run in runs:
        recorded = history.get(run.run_id)
        if recorded is None or not run.finished_at:
            continue
        now, then = run.fingerprints(), recorded.get("files") or {}
        changed = sorted(name for name in set(now) | set(then) if now.get(name) != then.get(name))
        if changed:
            found.append(f"{run.phase}: {', '.join(changed)} of run {run.run_id} changed after the run finished "
                         "(the evidence directory's history recorded other contents): edited or corrupt; run the "
                         f"{run.phase} phase again")
    for run_id, recorded in sorted(history.items()):
        if run_id not in present:
            found.append(f"{recorded.get('phase') or 'a phase'}: run {run_id}, which finished at "
                         f"{recorded.get('finished_at')}, is gone from the evidence directory (its history keeps "
                         "it): restore it, or start the transition's evidence again in a new directory")
    return found


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _last_incident(incidents: Sequence[IncidentView]) -> datetime | None:
    times = [instant(record.at) for record in incidents if record.kind == INCIDENT]
    return max((at for at in times if at is not None), default=None)


def _after_the_last_incident(runs: list, incidents: Sequence[IncidentView], problem: str | None,
                             last: datetime | None, failed: list[str], aside: list[tuple[str, str]]) -> list:
    if problem:
        failed.append(f"incidents: {problem}: it cannot show that no incident is open; repair or restore it")
    pending = None
    for record in incidents:
        if record.kind == INCIDENT:
            pending = pending or record
        elif record.kind == RESOLUTION:
            pending = None
    if pending is not None:
        failed.append(f"incident open: {pending.summary}; do not resume until the root cause is identified and "
                      f"verified fixed, then `{RESOLVE_COMMAND}` and verify the transition again")
    if last is None:
        return runs
    kept = []
    for run in runs:
        started = instant(run.started_at)
        if started is not None and started > last:
            kept.append(run)
        else:
            aside.append((run.run_id, f"started before the incident of {last.isoformat()}: after an incident the "
                                      "transition is verified again"))
    return kept


def _of_one_world(runs: list, aside: list[tuple[str, str]]) -> list:
    """Beside runs of a real bot, a rehearsal's runs and the embedded world's (a demonstration) are not evidence;
    beside a rehearsal's, the embedded world's are not part of it. Runs of one kind alone are judged as that kind."""
    rank = [None, REHEARSAL_WORLD, EMBEDDED_WORLD]  # None: a real bot's world ("live", "bot directory")
    present = {run.world if run.world in NOT_EVIDENCE else None for run in runs}
    kept_kind = next((kind for kind in rank if kind in present), None)
    kept = []
    for run in runs:
        kind = run.world if run.world in NOT_EVIDENCE else None
        if kind == kept_kind:
            kept.append(run)
        else:
            aside.append((run.run_id, NOT_EVIDENCE[run.world]))
    return kept


def rehearsal(runs: Iterable[RunView]) -> bool:
    """The runs are a rehearsal's (`harness rehearse`): every one of them checked the world "rehearsal"."""
    worlds = [run.world for run in runs]
    return bool(worlds) and all(world == REHEARSAL_WORLD for world in worlds)


def _of_one_bot(runs: list, aside: list[tuple[str, str]]) -> list:
    """The transition's bot is the one its newest transition run (else its newest run) names."""
    named = [run for run in runs if run.info.get("bot_dir")]
    if not named:
        return runs
    transitions = [run for run in named if run.phase == "transition"]
    bot = (transitions or named)[-1].info["bot_dir"]
    kept = []
    for run in runs:
        other = run.info.get("bot_dir")
        if other and other != bot:
            aside.append((run.run_id, f"checked another bot ({other}), not {bot}"))
        else:
            kept.append(run)
    return kept


def _newest(runs: list, phase: str, after: datetime | None = None, before: datetime | None = None):
    found = None
    for run in runs:
        started = instant(run.started_at)
        if run.phase != phase or (after is not None and (started is None or started < after)):
            continue
        if before is not None and (started is None or started >= before):
            continue
        found = run
    return found


def _choose(runs: list, aside: list[tuple[str, str]]) -> dict[str, Any]:
    chosen: dict[str, Any] = {}
    transition = _newest(runs, "transition")
    switch = instant(transition.started_at) if transition is not None else None
    preflight = _newest(runs, "preflight", before=switch) if switch is not None else _newest(runs, "preflight")
    for run in runs:
        if run.phase == "preflight" and switch is not None and (instant(run.started_at) or switch) >= switch:
            aside.append((run.run_id, f"a preflight after the transition run {transition.run_id}: the preflight "
                                      "that counts is the one before the switch"))
    begun = instant(preflight.started_at) if preflight is not None else None
    first_hour = _newest(runs, "first-hour", after=begun)
    first_day = _newest(runs, "first-day", after=switch)
    rollback = _newest(runs, "rollback")
    for phase, run in (("preflight", preflight), ("transition", transition), ("first-hour", first_hour),
                       ("first-day", first_day), ("rollback", rollback)):
        if run is not None:
            chosen[phase] = run
    told = {run_id for run_id, _why in aside}
    for run in runs:  # every other attempt stays in the story, with its verdict
        standing = chosen.get(run.phase)
        if run.run_id in told or run is standing:
            continue
        verdict = run_overall(run) or ("cut short (no end recorded)" if not run.finished_at else "no verdict")
        instead = f"run {standing.run_id} stands for the {run.phase} phase" if standing is not None else \
            f"it is not in the order the procedure asks for ({PHASE_RUN_COMMANDS.get(run.phase, run.phase)})"
        aside.append((run.run_id, f"an earlier attempt ({verdict}); {instead}"))
    return chosen


def _timely(chosen: Mapping[str, Any], open_: list[str]) -> None:
    """Nothing too old to count: the preflight just before the switch, the first hour just after it."""
    transition, preflight, first_hour = (chosen.get(p) for p in ("transition", "preflight", "first-hour"))
    switch = instant(transition.started_at) if transition is not None else None
    if switch is None:
        return
    before = instant(preflight.started_at) if preflight is not None else None
    if before is not None and switch - before > TIMELY:
        open_.append(f"preflight: run {preflight.run_id} was {_hours(switch - before)} before the transition run "
                     f"{transition.run_id}: what it saw (the bot stopped, no position) is too old to stand for the "
                     f"switch; run the preflight again just before switching (`{PHASE_RUN_COMMANDS['preflight']}`)")
    after = instant(first_hour.started_at) if first_hour is not None else None
    if after is not None and after - switch > TIMELY:
        open_.append(f"first-hour: run {first_hour.run_id} began {_hours(after - switch)} after the transition run "
                     f"{transition.run_id}: the first hour is the one right after the restart")


def _hours(length: timedelta) -> str:
    hours = length.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def _first_hour(run, open_: list[str]) -> timedelta | None:
    if run is None or not run.finished_at:
        return None
    started, finished = instant(run.started_at), instant(run.finished_at)
    if started is None or finished is None:
        return None
    watched = finished - started
    if run.world not in NOT_EVIDENCE and watched < FIRST_HOUR:
        minutes = int(watched.total_seconds() // 60)
        open_.append(f"first-hour: run {run.run_id} watched the bot for {minutes} min; the seed's first hour is "
                     f"60 minutes at the desk: `{PHASE_RUN_COMMANDS['first-hour']}` (a shorter watch is for trying)")
    return watched
