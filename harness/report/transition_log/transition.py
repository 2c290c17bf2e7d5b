"""The template's Steps 2-4 (configuration update, restart, paper trading mode verification), from the transition
run; Step 4 ends with the first hour's monitoring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core import names
from harness.evidence.attestations import Attestation
from harness.report.transition_log import first_hour
from harness.report.transition_log.boxes import box_lines
from harness.report.transition_log.header import from_run
from harness.report.transition_log.run_evidence import RunLike, first_record, live_account, paper_account
from harness.report.transition_log.text import CONFIRM, clean, file_line, when

MAX_LOG_LINES = 12  # startup lines quoted


def _mode_values(run: RunLike | None) -> tuple[dict[str, str], dict[str, str]] | None:
    changes = first_record(run, names.CHANGES_SINCE_BASELINE)
    if not isinstance(changes, dict):
        return None
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for change in changes.get("changes") or ():
        if isinstance(change, dict) and change.get("key") in ("DRY_RUN", "PAPER_TRADING"):
            before[change["key"]] = clean(change.get("before"), 40)
            after[change["key"]] = clean(change.get("after"), 40)
    return before, after


def step2(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("transition")
    lines = ["## Step 2: Configuration Update", "", from_run("transition", run), ""]
    values = _mode_values(run)
    if run is not None:
        if values is None:
            lines += [f"**Before / After:** {CONFIRM} (no change since the baseline was recorded in this run)", ""]
        else:
            before, after = values
            for title, side in (("Before (Dry-Run Mode)", before), ("After (Paper Trading Mode)", after)):
                shown = [f"{key}={side[key]}" for key in ("DRY_RUN", "PAPER_TRADING") if key in side]
                lines += [f"**{title}:**", "```", *(shown or ["(unchanged since the baseline)"]), "```", ""]
    spec = ((".env file re-opened and confirmed: DRY_RUN=false, PAPER_TRADING=true (read back by the harness, not by "
             "eye)", ("dod_env_mode",)),
            ("No other settings changed unintentionally", ("dod_env_unchanged",)),
            ("Configuration change committed to version control (secrets ignored)", ("dod_env_committed",)))
    return [*lines, "**Verification:**", *box_lines(spec, "transition", run, attestations), "", "---", ""]


def step3(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("transition")
    lines = ["## Step 3: Bot Restart (Manual)", "", from_run("transition", run), ""]
    if run is not None:
        block = first_record(run, names.NEWEST_STARTUP_BLOCK)
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
        notification = first_record(run, names.STARTUP_NOTIFICATION)
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
    return [*lines, *box_lines(spec, "transition", run, attestations), "", "---", ""]


def _split_where(where: object) -> tuple[str, str]:
    text = str(where or "")
    path, _, lineno = text.rpartition(":")
    return (path, lineno) if lineno.isdigit() else (text, "")


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


def step4(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation], picture: str | None) -> list[str]:
    run = runs.get("transition")
    lines = ["## Step 4: Paper Trading Mode Verification", "", from_run("transition", run), "",
             "**Test Order Submission:**"]
    spec = (("Orders submitted to IBKR paper account (verified at the paper gateway)", ("dod_orders_paper",)),
            ("NO orders submitted to IBKR live account", ("dod_no_live_orders",)))
    lines += box_lines(spec, "transition", run, attestations)
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
    lines += box_lines((("ZERO orders in live account", ("dod_no_live_orders",)),), "transition", run, attestations)
    live = live_account(run)
    if isinstance(live, dict) and live.get("handshake_ok"):
        lines += ["", _live_summary(live)]
    return [*lines, "", *first_hour.section(runs, attestations), "", "---", ""]
