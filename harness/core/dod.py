"""The seed's checklist items (Task 4.3): one id per item, used as Gherkin tags, pytest markers,
attestation names and rows of the transition log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    section: str
    text: str
    manual: bool = False  # only a person can attest it (`harness confirm ID --by NAME`)


ITEMS: tuple[Item, ...] = (
    Item("pre_task_4_2_approved", "Pre-Transition Checklist",
         "Task 4.2 stability summary reviewed and approved by operator", manual=True),
    Item("pre_stability_criteria", "Pre-Transition Checklist",
         "All 6 stability criteria met (zero crashes, zero interventions, etc.)", manual=True),
    Item("pre_operator_authorized", "Pre-Transition Checklist",
         "Operator explicitly authorizes transition to paper trading", manual=True),
    Item("pre_paper_account", "Pre-Transition Checklist", "IBKR paper trading account accessible"),
    Item("step1_shutdown", "Step 1: Controlled Shutdown",
         "Bot stopped outside regular market hours, cleanly, with no bot process left running"),
    Item("step1_no_positions", "Step 1: Controlled Shutdown", "Zero open positions in the paper account"),
    Item("dod_env_mode", "Configuration Verified", ".env file modified: DRY_RUN=false, PAPER_TRADING=true"),
    Item("dod_env_unchanged", "Configuration Verified", "No other .env settings changed unintentionally"),
    Item("dod_env_committed", "Configuration Verified",
         "Configuration change committed to version control (with appropriate .gitignore for secrets)"),
    Item("dod_log_paper", "Paper Trading Mode Confirmed", 'Bot logs show "Paper trading mode ACTIVE" on startup'),
    Item("dod_discord_paper", "Paper Trading Mode Confirmed", 'Discord notification confirms "PAPER TRADING mode"'),
    Item("dod_orders_paper", "Paper Trading Mode Confirmed", "Orders submitted to IBKR paper account"),
    Item("dod_no_live_orders", "Paper Trading Mode Confirmed", "NO orders submitted to IBKR live account"),
    Item("dod_autostart", "Stability Maintained",
         "Bot auto-starts at 6:00 AM ET via Task Scheduler (first day after transition)"),
    Item("dod_reconnect", "Stability Maintained",
         "Bot reconnects to Gateway after 4:30 PM ET restart (first day after transition)"),
    Item("dod_no_crashes", "Stability Maintained", "No crashes or unexpected shutdowns in first 24 hours"),
    Item("dod_transition_log", "Documentation Complete",
         "docs/Task_4_3_Transition_Log.md created with transition details"),
    Item("dod_operator_reviewed", "Operator Confirmation",
         "Operator reviews transition log and confirms paper trading mode active", manual=True),
    Item("dod_operator_declared", "Operator Confirmation",
         'Operator declares: "Paper trading transition successful, ready for Task 4.4"', manual=True),
    Item("dod_board_updated", "Operator Confirmation",
         "IBKR Project Management board updated: Task 4.3 -> Complete", manual=True),
    # The seed's Rollback Plan (section 9), checked after `harness switch dry-run` and a restart (--phase rollback).
    Item("rollback_env_dry_run", "Rollback Plan",
         ".env back to DRY_RUN=true, PAPER_TRADING=false, and nothing else changed since the baseline"),
    Item("rollback_bot_dry_run", "Rollback Plan", "Bot restarted manually: its logs show dry-run mode active"),
    Item("rollback_discord_dry_run", "Rollback Plan", 'Discord notification confirms "DRY-RUN mode"'),
    Item("rollback_no_open_orders", "Rollback Plan", "All pending orders in the paper account cancelled"),
    Item("rollback_positions_closed", "Rollback Plan", "All paper trading positions closed"),
    Item("rollback_scheduler", "Rollback Plan", "Task Scheduler auto-start re-enabled: it still starts the bot"),
    # The seed's emergency procedure ends with "Do NOT resume until root cause identified and verified fixed":
    # `harness halt` records an incident, and only this attestation (with a note) closes it.
    Item("incident_resolved", "Emergency Procedure",
         "Root cause of the incident identified and verified fixed (closes the incident `harness halt` recorded)",
         manual=True),
)
BY_ID = {item.id: item for item in ITEMS}

# Tags that are not checklist items but select or classify scenarios.
PHASE_TAGS = {"preflight": "preflight", "transition": "transition", "first-day": "first_day",
              "rollback": "rollback"}
OTHER_TAGS = {
    "critical": "a failure means: halt the bot",
    "optional": "opt-in check: when it does not run, its item is decided by its other checks",
    "manual": "passes only on a recorded operator attestation",
    "needs_gateway": "needs the IB Gateway",
    "needs_discord": "needs Discord",
    "needs_logs": "needs the bot's log files",
}


def normalize_id(text: str) -> str:
    """`pre-task-4-2-approved` and `PRE_TASK_4_2_APPROVED` both name `pre_task_4_2_approved`."""
    return text.strip().lower().replace("-", "_")
