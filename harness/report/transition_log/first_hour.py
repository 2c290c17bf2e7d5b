"""The first hour's monitoring (under Step 4), from the first-hour run that `harness watch` writes: its boxes and
a table of the watch's rounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.evidence.attestations import Attestation
from harness.report.transition_log.boxes import judge
from harness.report.transition_log.header import from_run
from harness.report.transition_log.run_evidence import RunLike, verdict_items
from harness.report.transition_log.text import clean, when
from harness.verdict.decide import Status
from harness.verdict.transition import FIRST_HOUR, instant

FIRST_HOUR_SPEC = (("No crashes or unexpected shutdowns", ("dod_no_crashes",)),
                   ("No mode switches or errors in logs", ("dod_log_paper", "dod_discord_paper")),
                   ("Paper account activity reflects bot behavior", ("dod_orders_paper", "dod_no_live_orders")))
_PASSED = frozenset({"passed", "pass", "ok", "verified", "attested"})
_FAILED = frozenset({"failed", "fail", "error", "needs remediation"})


def _rounds_items(rounds: Sequence[Mapping[str, Any]]) -> dict[str, dict]:
    """Verdict-like items from the watch's rounds: an item failed in any round is FAILED, passed in every round
    that checked it VERIFIED, anything else (could not look, no status) OPERATOR TO CONFIRM."""
    seen: dict[str, list[tuple[str, str, str]]] = {}
    for number, round_ in enumerate(rounds, 1):
        for check in round_.get("checks") or ():
            if isinstance(check, dict) and check.get("item"):
                seen.setdefault(str(check["item"]), []).append(
                    (str(round_.get("round", number)), str(check.get("status", "")).lower(),
                     f"{check.get('name', '')}: {check.get('message', '')}"))
    items: dict[str, dict] = {}
    for item, checks in seen.items():
        bad = [c for c in checks if c[1] in _FAILED]
        unseen = [c for c in checks if c[1] not in _FAILED | _PASSED]
        if bad:
            items[item] = {"item": item, "status": Status.FAILED.value,
                           "why": f"round {bad[0][0]}: {bad[0][2]} ({len(bad)} failing check(s) over the rounds)"}
        elif unseen:
            items[item] = {"item": item, "status": Status.OPERATOR_TO_CONFIRM.value,
                           "why": f"round {unseen[0][0]}: {unseen[0][2]}"}
        else:
            items[item] = {"item": item, "status": Status.VERIFIED.value,
                           "why": f"{len(checks)} check(s) passed over {len({c[0] for c in checks})} round(s)"}
    return items


def section(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("first-hour")
    lines = ["**First Hour Monitoring:**", "", from_run("first-hour", run), "", *_watched(run)]
    items = verdict_items(run)
    rounds = [r for r in run.watch_rounds() if isinstance(r, dict)] if run is not None else []
    if items is not None and rounds:
        items = {**_rounds_items(rounds), **items}  # the run's verdict decides where it judged an item
    lines += [judge(text, ids, "first-hour", items, attestations).render() for text, ids in FIRST_HOUR_SPEC]
    if rounds:
        lines += ["", "| Round | At | Status | Checks not passing |", "|---|---|---|---|"]
        for number, round_ in enumerate(rounds, 1):
            failing = [f"{clean(c.get('name', ''), 80)} ({clean(c.get('status', ''), 30)})"
                       for c in round_.get("checks") or ()
                       if isinstance(c, dict) and str(c.get("status", "")).lower() not in _PASSED]
            lines.append(f"| {clean(round_.get('round', number), 20)} | {when(round_.get('at'))} | "
                         f"{clean(round_.get('status', ''), 40)} | {clean('; '.join(failing) or 'none', 600)} |")
    return lines


def _watched(run: RunLike | None) -> list[str]:
    """How long the bot was watched, from the run's recorded start and end (the seed's hour is 60 minutes)."""
    if run is None:
        return []
    started, finished = instant(run.started_at), instant(run.finished_at)
    if started is None or finished is None:
        return ["**Watched:** not known: the watch recorded no end (it was cut short)", ""]
    seconds = int((finished - started).total_seconds())
    length = f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"
    short = "" if finished - started >= FIRST_HOUR else " (shorter than the seed's hour)"
    return [f"**Watched:** {length}{short}, from {when(run.started_at)} to {when(run.finished_at)}", ""]
