"""The seed's `docs/Task_4_3_Transition_Log.md`, filled from the recorded evidence of the latest run of each phase.

A box is ✅ only from a passed check (verdict item VERIFIED) or a recorded attestation (ATTESTED, with who and
when), ❌ from a failed check, and "operator to confirm" otherwise: a skip, a check that could not look, a phase
not run yet or NOT RUN never gives ✅. The log is diffed and committed, so the same evidence always gives the same
bytes: no "generated at" time, everything in a fixed order, every text from the evidence masked again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Protocol

from harness import dod
from harness.actions.attest import Attestation
from harness.evidence.jsonfiles import same_file, write_bytes_atomic
from harness.evidence.redact import redact_text
from harness.verdict.decide import Overall, Status

# The phases of the procedure in the seed's order; `first-hour` is written by `harness watch`.
PHASE_ORDER = ("preflight", "transition", "first-hour", "first-day", "rollback")
REQUIRED_PHASES = ("preflight", "transition", "first-hour", "first-day")
PHASE_COMMANDS = {
    "preflight": "pytest features/ --phase preflight",
    "transition": "pytest features/ --phase transition",
    "first-hour": "harness watch",
    "first-day": "pytest features/ --phase first-day",
    "rollback": "pytest features/ --phase rollback",
}
SUCCESS, NEEDS_REMEDIATION, INCOMPLETE = "SUCCESS", "NEEDS REMEDIATION", "INCOMPLETE"
CONFIRM = "operator to confirm"
MAX_TEXT_CHARS = 300  # one reason or message in the log
MAX_LOG_LINES = 12  # startup lines quoted
EASTERN = "America/New_York"
EMBEDDED_WORLD = "embedded"  # RunRecord.world of a run against the harness's own fakes
EMBEDDED_BANNER = ("> ⚠ Embedded world: these runs checked the harness's own fakes, not a real bot. This log "
                   "demonstrates the harness; it is not evidence of a transition.")
EMBEDDED_NEXT_STEP = "Run the procedure on your bot (README: Use it on your bot)"
# Boxes that one scenario alone decides (its row in the run's evidence), where the item holds other checks too:
# (box text, pytest-bdd's name of the scenario, its title in the feature file).
FIRST_DAY_DISCORD = ("Discord notification confirmed paper trading mode",
                     "test_the_scheduled_starts_discord_notification_says_paper_trading_mode",
                     "The scheduled start's Discord notification says paper trading mode")
# dod_autostart holds the start's time, its mode, its Discord notification and the scheduler's task: each of the
# template's Auto-Start boxes is decided by the scenarios that speak to it, so one failure reddens only its box.
FIRST_DAY_AUTOSTARTED = (
    ("test_the_bot_was_autostarted_at_0600_et_on_the_first_trading_day",
     "The bot was auto-started at 06:00 ET on the first trading day"),
    ("test_the_scheduler_starts_the_bot_at_0600_americanew_york_on_trading_days_in_paper_mode",
     "The scheduler starts the bot at 06:00 America/New_York on trading days, in paper mode"))
FIRST_DAY_STARTUP_LOGS = (("test_the_scheduled_start_was_in_paper_trading_mode",
                           "The scheduled start was in paper trading mode"),)


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


# -- text ---------------------------------------------------------------------------------------------------
def clean(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """One line of evidence text as it may appear in the log: masked again (account ids, URL credentials,
    webhook tokens), on one line, cut, with nothing that breaks the Markdown around it."""
    line = " ".join(redact_text(str(text)).split())
    line = line.replace("```", "'''")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def file_line(path: object, lineno: object) -> str:
    """`bot.log:6`: the file's name (the folder is the operator's machine's business) and the line."""
    name = str(path or "")
    name = PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name
    return f"{name}:{lineno}" if lineno not in (None, "") else name


def when(text: object) -> str:
    """`15:46 ET, 2026-11-25 (20:46:11 UTC)` for an ISO instant, as the template writes times; the text itself
    when it is not one."""
    if not text:
        return "not recorded"
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return clean(text)
    if moment.tzinfo is None:
        return clean(text)
    utc = moment.astimezone(timezone.utc)
    try:
        from zoneinfo import ZoneInfo

        eastern = moment.astimezone(ZoneInfo(EASTERN))
    except Exception:  # no time zone data on this machine: UTC alone is still exact
        return f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    return f"{eastern:%H:%M} ET, {eastern:%Y-%m-%d} ({utc:%H:%M:%S} UTC)"


def attested(attestation: Attestation) -> str:
    return f"attested by {clean(attestation.by, 80)} at {clean(attestation.at, 40)}"


# -- reading the evidence ------------------------------------------------------------------------------------
def verdict_items(run: RunLike | None) -> dict[str, dict] | None:
    """item id -> the run's verdict of it; None when there is no run; {} when the run recorded no verdict."""
    if run is None:
        return None
    verdict = run.verdict() or {}
    items = verdict.get("items") if isinstance(verdict, dict) else None
    return {str(i.get("item")): i for i in items or () if isinstance(i, dict) and i.get("item")}


def records(run: RunLike | None, name: str) -> list[Any]:
    """The facts of every record called `name` in the run's evidence rows (rows in node-id order)."""
    if run is None:
        return []
    return [record.get("facts") for row in run.rows() for record in row.get("records") or ()
            if isinstance(record, dict) and record.get("name") == name]


def first_record(run: RunLike | None, name: str) -> Any:
    found = [facts for facts in records(run, name) if facts]
    return found[0] if found else None


def paper_account(run: RunLike | None) -> dict | None:
    """The paper gateway's facts: the run's paper-account.json, else the newest "paper gateway" record."""
    if run is None:
        return None
    recorded = run.paper_account()
    if isinstance(recorded, dict):
        return recorded
    seen = [facts for facts in records(run, "paper gateway") if isinstance(facts, dict)]
    return max(seen, key=lambda facts: str(facts.get("observed_at") or "")) if seen else None


# -- boxes -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Box:
    mark: str  # "✅", "❌" or " "
    text: str
    why: str

    def render(self) -> str:
        if self.mark == "✅":
            return f"- [✅] {self.text} — {self.why}"
        if self.mark == "❌":
            return f"- [❌] {self.text} — FAILED: {self.why}"
        return f"- [ ] {self.text} — {CONFIRM}: {self.why}"


def _manual_attestation(ids: Sequence[str], attestations: Mapping[str, Attestation]) -> Attestation | None:
    """An attestation that may stand for `ids` without a run: only items a person alone can attest."""
    for item in ids:
        entry = dod.BY_ID.get(item)
        found = attestations.get(item)
        if entry is not None and entry.manual and found is not None and found.by.strip():
            return found
    return None


def judge(text: str, ids: Sequence[str], phase: str, items: Mapping[str, dict] | None,
          attestations: Mapping[str, Attestation]) -> Box:
    """One box from the verdict items `ids` of `phase`'s run. The items the run judged decide; none judged (or
    no run) leaves the box to the operator, unless an item only a person can attest was attested."""
    if items is None:
        found = _manual_attestation(ids, attestations)
        if found is not None:
            return Box("✅", text, attested(found))
        return Box(" ", text, f"the {phase} run has not been made yet (`{PHASE_COMMANDS[phase]}`)")
    present = [items[item] for item in ids if item in items]
    if not present:
        found = _manual_attestation(ids, attestations)
        if found is not None:
            return Box("✅", text, attested(found))
        return Box(" ", text, f"no check of {', '.join(ids)} in the {phase} run")
    failed = [i for i in present if i.get("status") == Status.FAILED.value]
    if failed:
        return Box("❌", text, "; ".join(f"{i['item']}: {clean(i.get('why', ''))}" for i in failed))
    good: list[str] = []
    open_: list[str] = []
    for entry in present:
        status, item = entry.get("status"), str(entry["item"])
        if status in (Status.VERIFIED.value, Status.ATTESTED.value):
            good.append(f"{item}: {clean(entry.get('why', ''))}")
        elif status == Status.OPERATOR_TO_CONFIRM.value and _manual_attestation((item,), attestations):
            good.append(f"{item}: {attested(attestations[item])}")
        else:
            open_.append(open_reason(entry))
    if open_:
        return Box(" ", text, "; ".join(open_))
    return Box("✅", text, "; ".join(good) + f" ({phase} run)")


def scenario_rows(run: RunLike | None, name: str) -> list[dict]:
    """The run's evidence rows of the scenario `name` (pytest-bdd's test name), in node-id order."""
    if run is None:
        return []
    return [row for row in run.rows() if isinstance(row, dict)
            and (row.get("scenario") == name or str(row.get("nodeid") or "").endswith("::" + name))]


def judge_scenario(text: str, name: str, title: str, phase: str, run: RunLike | None) -> Box:
    """One box from one scenario's result in `phase`'s run (judge_scenarios of that one)."""
    return judge_scenarios(text, ((name, title),), phase, run)


def judge_scenarios(text: str, scenarios: Sequence[tuple[str, str]], phase: str, run: RunLike | None) -> Box:
    """One box from the results of `scenarios` ((pytest-bdd name, title) each) in `phase`'s run: ✅ only when every
    one ran and passed (every row of it), ❌ when one failed, "operator to confirm" otherwise (skipped, not run, no
    such scenario in the run)."""
    if run is None:
        return Box(" ", text, f"the {phase} run has not been made yet (`{PHASE_COMMANDS[phase]}`)")
    judged = [(title, scenario_rows(run, name)) for name, title in scenarios]
    for title, rows in judged:
        failed = [row for row in rows if str(row.get("outcome") or "").lower() in ("failed", "error")]
        if failed:
            return Box("❌", text, f'scenario "{title}": {clean(failed[0].get("message") or "failed")}')
    for title, rows in judged:
        if not rows:
            return Box(" ", text, f'the {phase} run has no result of the scenario "{title}"')
        open_ = next((row for row in rows if str(row.get("outcome") or "").lower() != "passed"), None)
        if open_ is not None:
            why = clean(open_.get("message") or "")
            for prefix in (CONFIRM + ": ", CONFIRM):
                if why.lower().startswith(prefix):
                    why = why[len(prefix):].lstrip()
            return Box(" ", text, f'scenario "{title}" {clean(open_.get("outcome") or "no outcome", 40)}'
                                  + (f": {why}" if why else ""))
    rows = [row for _title, found in judged for row in found]
    shown = ""
    notification = next((record.get("facts") for row in rows for record in row.get("records") or ()
                         if isinstance(record, dict) and record.get("name") == "startup notification"), None)
    match = notification.get("match") if isinstance(notification, dict) else None
    if isinstance(match, dict) and match.get("content"):
        shown = f'"{clean(match.get("content"))}" (posted {when(match.get("timestamp"))}); '
    titles = "; ".join(f'"{title}"' for title, _rows in judged)
    return Box("✅", text, f"{shown}scenario{'s' if len(judged) > 1 else ''} {titles} passed ({phase} run)")


def open_reason(entry: Mapping[str, Any]) -> str:
    """`item: why` for an item neither satisfied nor failed (the why of a skip already says "operator to confirm")."""
    why = clean(entry.get("why", ""))
    for prefix in (CONFIRM + ": ", CONFIRM):
        if why.lower().startswith(prefix):
            why = why[len(prefix):].lstrip()
    status = entry.get("status")
    kind = "" if status == Status.OPERATOR_TO_CONFIRM.value else f" ({str(status or 'no status').lower()})"
    return f"{entry.get('item')}{kind}: {why}"


# -- the whole verdict -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outcome:
    status: str  # SUCCESS, NEEDS REMEDIATION, INCOMPLETE
    failed: tuple[str, ...]  # "phase: item: why"
    open: tuple[str, ...]  # phases not run, items to confirm


def _run_overall(run: RunLike) -> str | None:
    verdict = run.verdict()
    overall = verdict.get("overall") if isinstance(verdict, dict) else None
    return overall if isinstance(overall, str) else None


def outcome(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> Outcome:
    """SUCCESS only when the preflight, transition, first-hour and first-day runs are all TRANSITION VERIFIED (and
    no later rollback undid the transition); NEEDS REMEDIATION when any run needs remediation; else INCOMPLETE."""
    failed: list[str] = []
    open_: list[str] = []
    remediation = False
    for phase in PHASE_ORDER:
        run = runs.get(phase)
        if run is None:
            if phase in REQUIRED_PHASES:
                open_.append(f"{phase}: not run yet (`{PHASE_COMMANDS[phase]}`)")
            continue
        overall = _run_overall(run)
        items = verdict_items(run) or {}
        if overall == Overall.NEEDS_REMEDIATION.value:
            remediation = True
            named = [i for i in items.values() if i.get("status") == Status.FAILED.value]
            failed.extend(f"{phase}: {i['item']}: {clean(i.get('why', ''))}" for i in named)
            if not named:
                failed.append(f"{phase}: {clean((run.verdict() or {}).get('headline', 'needs remediation'))}")
        elif overall == Overall.VERIFIED.value:
            continue
        elif phase in REQUIRED_PHASES or overall is not None:
            if overall is None:
                open_.append(f"{phase}: run {clean(run.run_id, 80)} recorded no verdict")
            for item in items.values():
                if item.get("status") in (Status.VERIFIED.value, Status.ATTESTED.value, Status.FAILED.value):
                    continue
                late = _manual_attestation((str(item["item"]),), attestations)
                if item.get("status") == Status.OPERATOR_TO_CONFIRM.value and late is not None:
                    open_.append(f"{phase}: {item['item']} was {attested(late)} after the run: run the {phase} "
                                 "phase again so that its verdict includes it")
                else:
                    open_.append(f"{phase}: {open_reason(item)}")
    rollback, transition = runs.get("rollback"), runs.get("transition")
    if rollback is not None and (transition is None or _later(rollback.started_at, transition.started_at)):
        open_.append(f"rollback: the transition was rolled back (run {clean(rollback.run_id, 80)}); re-attempt the "
                     "transition after the remediation")
    if remediation:
        return Outcome(NEEDS_REMEDIATION, tuple(failed), tuple(open_))
    return Outcome(INCOMPLETE if open_ else SUCCESS, (), tuple(open_))


def _later(a: str, b: str) -> bool:
    try:
        return datetime.fromisoformat(a) > datetime.fromisoformat(b)
    except (TypeError, ValueError):
        return str(a) > str(b)


# -- the sections ----------------------------------------------------------------------------------------------
def _from_run(phase: str, run: RunLike | None) -> str:
    if run is None:
        return f"_The {phase} run has not been made yet (`{PHASE_COMMANDS[phase]}`): this section is to be filled._"
    verdict = run.verdict() or {}
    headline = clean(verdict.get("headline") or "no verdict recorded")
    return (f"_From the {phase} run `{clean(run.run_id, 120)}` ({clean(run.world, 40)} world, started "
            f"{when(run.started_at)}): {headline}_")


def _boxes(spec: Iterable[tuple[str, tuple[str, ...]]], phase: str, run: RunLike | None,
           attestations: Mapping[str, Attestation]) -> list[str]:
    items = verdict_items(run)
    return [judge(text, ids, phase, items, attestations).render() for text, ids in spec]


def _header(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    transition = runs.get("transition")
    date = when(transition.started_at) if transition else "not yet (no transition run recorded)"
    approved = attestations.get("pre_task_4_2_approved")
    authorized = attestations.get("pre_operator_authorized")
    lines = [
        "# Task 4.3 Transition Log — Paper Trading Mode Activation",
        "",
        *([EMBEDDED_BANNER, ""] if embedded(runs) else []),
        f"**Transition Date:** {date}",
        f"**Task 4.2 Completion:** {attested(approved) if approved else CONFIRM + ' (`harness confirm pre_task_4_2_approved --by NAME`)'}",  # noqa: E501
        f"**Operator Authorization:** {attested(authorized) if authorized else CONFIRM + ' (`harness confirm pre_operator_authorized --by NAME`)'}",  # noqa: E501
        "",
        "> Filled by the harness from the recorded evidence of the latest run of each phase. ✅ = a check looked and "
        "passed, or a named person attested it; ❌ = a check failed; \"operator to confirm\" = nothing was seen.",
        "",
        "| Phase | Run | World | Started | Verdict |",
        "|---|---|---|---|---|",
    ]
    for phase in PHASE_ORDER:
        run = runs.get(phase)
        if run is None:
            lines.append(f"| {phase} | not run yet | | | |")
            continue
        lines.append(f"| {phase} | `{clean(run.run_id, 120)}` | {clean(run.world, 40)} | {when(run.started_at)} | "
                     f"{clean(_run_overall(run) or 'no verdict recorded')} |")
    return [*lines, "", "---", ""]


def _pre_transition(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("preflight")
    spec = (("Task 4.2 stability summary reviewed and approved", ("pre_task_4_2_approved",)),
            ("All 6 stability criteria met", ("pre_stability_criteria",)),
            ("Operator explicitly authorized transition", ("pre_operator_authorized",)),
            ("IBKR paper trading account accessible", ("pre_paper_account",)))
    return ["## Pre-Transition Checklist", "", _from_run("preflight", run), "",
            *_boxes(spec, "preflight", run, attestations), "", "---", ""]


def _step1(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("preflight")
    lines = ["## Step 1: Controlled Shutdown", "", _from_run("preflight", run), ""]
    if run is not None:
        last = first_record(run, "last shutdown line")
        session = first_record(run, "NYSE session at shutdown")
        if isinstance(last, dict):
            lines.append(f"**Shutdown Timestamp:** {when(last.get('timestamp'))}")
        else:
            lines.append(f"**Shutdown Timestamp:** {CONFIRM} (no shutdown line was read from the bot's log)")
        lines.append(f"**Shutdown Method:** {CONFIRM} (the harness sees that the bot stopped and when, not how)")
        if isinstance(session, dict):
            state = "open" if session.get("is_open") else "closed"
            lines.append(f"**Market at Shutdown:** NYSE regular session {state}")
        if isinstance(last, dict):
            lines += ["**Last Log Entry:**", "```",
                      f"{file_line(last.get('path'), last.get('lineno'))}  {clean(last.get('text'))}", "```"]
        else:
            lines.append(f"**Last Log Entry:** {CONFIRM}")
        account = paper_account(run)
        if isinstance(account, dict) and account.get("handshake_ok"):
            count = len(account.get("positions") or ())
            orders = len(account.get("open_orders") or ())
            zero = "ZERO" if count == 0 else str(count)
            lines.append(f"**Open Positions in IBKR Paper Account:** {zero} ({orders} open order(s); read from the "
                         f"paper gateway at {when(account.get('observed_at'))})")
        else:
            lines.append(f"**Open Positions in IBKR Paper Account:** {CONFIRM} (the paper gateway was not read)")
        lines.append("")
    spec = (("Bot stopped outside regular market hours, cleanly, with no bot process left running",
             ("step1_shutdown",)),
            ("Zero open positions in the paper account", ("step1_no_positions",)))
    return [*lines, *_boxes(spec, "preflight", run, attestations), "", "---", ""]


def _mode_values(run: RunLike | None) -> tuple[dict[str, str], dict[str, str]] | None:
    changes = first_record(run, "changes since the baseline")
    if not isinstance(changes, dict):
        return None
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for change in changes.get("changes") or ():
        if isinstance(change, dict) and change.get("key") in ("DRY_RUN", "PAPER_TRADING"):
            before[change["key"]] = clean(change.get("before"), 40)
            after[change["key"]] = clean(change.get("after"), 40)
    return before, after


def _step2(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("transition")
    lines = ["## Step 2: Configuration Update", "", _from_run("transition", run), ""]
    values = _mode_values(run)
    if run is not None:
        if values is None:
            lines += [f"**Before / After:** {CONFIRM} (no change since the baseline was recorded in this run)", ""]
        else:
            before, after = values
            for title, side in (("Before (Dry-Run Mode)", before), ("After (Paper Trading Mode)", after)):
                shown = [f"{key}={side[key]}" for key in ("DRY_RUN", "PAPER_TRADING") if key in side]
                lines += [f"**{title}:**", "```", *(shown or ["(unchanged since the baseline)"]), "```", ""]
    spec = ((".env file re-opened and visually confirmed (DRY_RUN=false, PAPER_TRADING=true)", ("dod_env_mode",)),
            ("No other settings changed unintentionally", ("dod_env_unchanged",)),
            ("Configuration change committed to version control (secrets ignored)", ("dod_env_committed",)))
    return [*lines, "**Verification:**", *_boxes(spec, "transition", run, attestations), "", "---", ""]


def _step3(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("transition")
    lines = ["## Step 3: Bot Restart (Manual)", "", _from_run("transition", run), ""]
    if run is not None:
        block = first_record(run, "newest startup block")
        if isinstance(block, dict):
            lines.append(f"**Restart Timestamp:** {when(block.get('started_at'))} "
                         f"(newest startup at {file_line(*_split_where(block.get('where')))})")
            shown = [line for line in block.get("first_lines") or () if isinstance(line, dict)][:MAX_LOG_LINES]
            lines += ["**Startup Logs (Excerpt):**", "```",
                      *(f"{file_line(line.get('path'), line.get('lineno'))}  {clean(line.get('text'))}"
                        for line in shown), "```"]
        else:
            lines.append(f"**Restart Timestamp:** {CONFIRM} (no startup was read from the bot's log)")
        lines += ["", "**Discord Notification:**", '- Expected: "Bot started in PAPER TRADING mode at [timestamp]"']
        notification = first_record(run, "startup notification")
        match = notification.get("match") if isinstance(notification, dict) else None
        if isinstance(match, dict) and match.get("content"):
            lines.append(f"- Actual: \"{clean(match.get('content'))}\" (posted {when(match.get('timestamp'))} by "
                         f"{clean(match.get('author') or 'unknown', 80)})")
        elif isinstance(notification, dict) and notification.get("problem"):
            lines.append(f"- Actual: {CONFIRM} ({clean(notification.get('problem'))})")
        else:
            lines.append(f"- Actual: {CONFIRM} (no startup notification was read)")
    spec = (('Startup logs show "Paper trading mode ACTIVE" and no dry-run or live mode', ("dod_log_paper",)),
            ("Notification confirms paper trading mode", ("dod_discord_paper",)))
    return [*lines, *_boxes(spec, "transition", run, attestations), "", "---", ""]


def _split_where(where: object) -> tuple[str, str]:
    text = str(where or "")
    path, _, lineno = text.rpartition(":")
    return (path, lineno) if lineno.isdigit() else (text, "")


def live_account(run: RunLike | None) -> dict | None:
    """The live gateway's facts (read-only): the run's live-account.json, else the newest recorded read."""
    if run is None:
        return None
    reader = getattr(run, "live_account", None)
    recorded = reader() if callable(reader) else None
    if isinstance(recorded, dict):
        return recorded
    seen = [facts for facts in records(run, "live gateway (read-only)") if isinstance(facts, dict)]
    return max(seen, key=lambda facts: str(facts.get("observed_at") or "")) if seen else None


def _live_summary(account: Mapping[str, Any]) -> str:
    accounts = ", ".join(clean(a, 40) for a in account.get("accounts") or ()) or "no account"
    since = f" since {when(account.get('executions_since'))}" if account.get("executions_since") else ""
    return (f"Live account {accounts}, read-only at {when(account.get('observed_at'))}: "
            f"{len(account.get('open_orders') or ())} open order(s), "
            f"{len(account.get('executions') or ())} execution(s){since}.")


def _account_summary(account: Mapping[str, Any]) -> str:
    accounts = ", ".join(clean(a, 40) for a in account.get("accounts") or ()) or "no account"
    orders = [o for o in account.get("open_orders") or () if isinstance(o, dict)]
    states = sorted({clean(o.get("status") or "unknown", 40) for o in orders})
    return (f"Paper account {accounts} at {when(account.get('observed_at'))}: {len(orders)} open order(s)"
            f"{' (' + ', '.join(states) + ')' if states else ''}, "
            f"{len(account.get('completed_orders') or ())} completed order(s), "
            f"{len(account.get('executions') or ())} execution(s), {len(account.get('positions') or ())} position(s).")


def _step4(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation], picture: str | None) -> list[str]:
    run = runs.get("transition")
    lines = ["## Step 4: Paper Trading Mode Verification", "", _from_run("transition", run), "",
             "**Test Order Submission:**"]
    spec = (("Orders submitted to IBKR paper account (verified at the paper gateway)", ("dod_orders_paper",)),
            ("NO orders submitted to IBKR live account", ("dod_no_live_orders",)))
    lines += _boxes(spec, "transition", run, attestations)
    lines += ["", "**IBKR Paper Account Screenshot:**"]
    account = paper_account(run)
    if picture:
        lines.append(f"![IBKR paper account]({clean(picture, 200).replace(' ', '%20')})")
    else:
        lines.append(f"{CONFIRM}: no picture (`harness report` draws one from the paper gateway's recorded facts; "
                     "`harness confirm screenshot --file F --by NAME` attaches your own)")
    if isinstance(account, dict) and account.get("handshake_ok"):
        lines += ["", _account_summary(account)]
    lines += ["", "**IBKR Live Account Verification:**"]
    lines += _boxes((("ZERO orders in live account", ("dod_no_live_orders",)),), "transition", run, attestations)
    live = live_account(run)
    if isinstance(live, dict) and live.get("handshake_ok"):
        lines += ["", _live_summary(live)]
    return [*lines, "", *_first_hour(runs, attestations), "", "---", ""]


OPERATOR_ITEMS = ("dod_operator_reviewed", "dod_operator_declared", "dod_board_updated")
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


def _first_hour(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("first-hour")
    lines = ["**First Hour Monitoring:**", "", _from_run("first-hour", run), ""]
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


def _first_day(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("first-day")
    lines = ["## First 24 Hours Post-Transition", "", _from_run("first-day", run), ""]
    discord_box, discord_scenario, discord_title = FIRST_DAY_DISCORD
    by_scenarios = {"Bot auto-started via Task Scheduler": FIRST_DAY_AUTOSTARTED,
                    discord_box: ((discord_scenario, discord_title),),
                    "Logs show successful startup": FIRST_DAY_STARTUP_LOGS}
    groups = (
        ("Auto-Start (6:00 AM ET)", (
            ("Bot auto-started via Task Scheduler", ()),
            (discord_box, ()),
            ("Logs show successful startup", ()))),
        ("Order Execution", (
            ("Orders executed in paper account (if market open)", ("dod_orders_paper",)),
            ("NO orders in live account", ("dod_no_live_orders",)))),
        ("Stability", (
            ("Gateway reconnection after 4:30 PM ET restart", ("dod_reconnect",)),
            ("No crashes or unexpected shutdowns", ("dod_no_crashes",)),
            ("No error patterns in logs", ("dod_no_crashes",)))),
    )
    items = verdict_items(run)
    for title, spec in groups:
        lines.append(f"**{title}:**")
        lines += [judge_scenarios(text, by_scenarios[text], "first-day", run).render() if not ids
                  else judge(text, ids, "first-day", items, attestations).render() for text, ids in spec]
        lines.append("")
    if run is None:
        summary = "not yet: the first day has not been checked"
    else:
        summary = clean((run.verdict() or {}).get("headline") or "the first-day run recorded no verdict")
    return [*lines, f"**Summary:** {summary}", "", "---", ""]


def _rollback(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("rollback")
    lines = ["## Rollback", ""]
    if run is None:
        return [*lines, "No rollback run is recorded (`pytest features/ --phase rollback` after "
                "`harness switch dry-run` and a restart).", "", "---", ""]
    spec = tuple((item.text, (item.id,)) for item in dod.ITEMS if item.section == "Rollback Plan")
    return [*lines, _from_run("rollback", run), "", *_boxes(spec, "rollback", run, attestations),
            "", "**Reason for Rollback:** " + CONFIRM + " (note it in the remediation issue)", "", "---", ""]


def embedded(runs: Mapping[str, RunLike]) -> bool:
    """Any run of the log checked the embedded world (the harness's own fakes)."""
    return any(run.world == EMBEDDED_WORLD for run in runs.values())


def _verdict(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    result = outcome(runs, attestations)
    lines = ["## Transition Verdict", "", f"**Status:** {result.status}"]
    if result.failed:
        lines += ["", "Failed items:", *(f"- ❌ {entry}" for entry in result.failed)]
    if result.open:
        lines += ["", "Still open:", *(f"- {entry}" for entry in result.open)]
    declared = attestations.get("dod_operator_declared")
    if declared is not None and declared.by.strip():
        note = f' ("{clean(declared.note, 200)}")' if declared.note.strip() else ""
        confirmation = f"{clean(declared.by, 80)}, {clean(declared.at, 40)}{note}"
    else:
        confirmation = (f'{CONFIRM}: "Paper trading transition successful, ready for Task 4.4" '
                        "(`harness confirm dod_operator_declared --by NAME`)")
    next_step = {SUCCESS: EMBEDDED_NEXT_STEP if embedded(runs) else "Proceed to Task 4.4",
                 NEEDS_REMEDIATION: "Address issues and retry (open the remediation issue the rollback plan asks for)",
                 INCOMPLETE: "Finish the phases and confirmations still open, then regenerate this log "
                             "(`harness report`)"}[result.status]
    signed = []
    for item_id in OPERATOR_ITEMS:
        found = _manual_attestation((item_id,), attestations)
        text = dod.BY_ID[item_id].text
        signed.append(Box("✅", text, attested(found)).render() if found is not None else
                      Box(" ", text, f"`harness confirm {item_id} --by NAME`").render())
    return [*lines, "", f"**Operator Confirmation:** {confirmation}", *signed, "", f"**Next Step:** {next_step}",
            "", "---", "", "**END OF TRANSITION LOG**", ""]


def build(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation], *, picture: str | None = None) -> str:
    """The transition log (Markdown, LF line ends) from the latest run of each phase and the attestations;
    `picture` is the path, relative to where the log is written, of the paper-account PNG or screenshot."""
    runs = {phase: run for phase, run in runs.items() if run is not None}
    parts = [
        *_header(runs, attestations),
        *_pre_transition(runs, attestations),
        *_step1(runs, attestations),
        *_step2(runs, attestations),
        *_step3(runs, attestations),
        *_step4(runs, attestations, picture),
        *_first_day(runs, attestations),
        *_rollback(runs, attestations),
        *_verdict(runs, attestations),
    ]
    return "\n".join(parts)


def write(text: str, targets: Sequence[Path]) -> list[Path]:
    """Write the log to every target (UTF-8, LF, atomic through a temp file and a rename, parent folders made);
    the paths written, each once. Raises OSError when one cannot be written."""
    written: list[Path] = []
    data = text.replace("\r\n", "\n").encode("utf-8")
    for target in targets:
        target = Path(target)
        if any(same_file(target, done) for done in written):
            continue
        written.append(write_bytes_atomic(target, data))
    return written
