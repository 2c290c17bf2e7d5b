"""The template's Pre-Transition Checklist and Step 1 (Controlled Shutdown), from the preflight run."""

from __future__ import annotations

from collections.abc import Mapping

from harness.core import names
from harness.evidence.attestations import Attestation
from harness.report.transition_log.boxes import box_lines
from harness.report.transition_log.header import from_run
from harness.report.transition_log.run_evidence import RunLike, first_record, paper_account
from harness.report.transition_log.text import CONFIRM, clean, file_line, when


def checklist(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("preflight")
    spec = (("Task 4.2 stability summary reviewed and approved", ("pre_task_4_2_approved",)),
            ("All 6 stability criteria met", ("pre_stability_criteria",)),
            ("Operator explicitly authorized transition", ("pre_operator_authorized",)),
            ("IBKR paper trading account accessible", ("pre_paper_account",)))
    return ["## Pre-Transition Checklist", "", from_run("preflight", run), "",
            *box_lines(spec, "preflight", run, attestations), "", "---", ""]


def step1(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("preflight")
    lines = ["## Step 1: Controlled Shutdown", "", from_run("preflight", run), ""]
    if run is not None:
        last = first_record(run, names.LAST_SHUTDOWN_LINE)
        session = first_record(run, names.NYSE_SESSION_AT_SHUTDOWN)
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
    return [*lines, *box_lines(spec, "preflight", run, attestations), "", "---", ""]
