"""The template's First 24 Hours Post-Transition, from the first-day run: the Auto-Start boxes each decided by
the scenarios that speak to it, the others by the run's verdict items."""

from __future__ import annotations

from collections.abc import Mapping

from harness.core import names
from harness.evidence.attestations import Attestation
from harness.report.transition_log.boxes import judge, judge_scenarios
from harness.report.transition_log.header import from_run
from harness.report.transition_log.run_evidence import RunLike, first_record, rehearsed, verdict_items
from harness.report.transition_log.text import clean

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
FIRST_HOUR_BASIS = "first hour's end from"  # the first-day step's record of where the first hour's end came from
FIRST_DAY_STARTUP_LOGS = (("test_the_scheduled_start_was_in_paper_trading_mode",
                           "The scheduled start was in paper trading mode"),)


def section(runs: Mapping[str, RunLike], attestations: Mapping[str, Attestation]) -> list[str]:
    run = runs.get("first-day")
    told = from_run("first-day", run)
    if run is None and rehearsed(runs):
        told = ("_Left to the live run: a rehearsal does not live the bot's first day (a real bot lives on real time: "
                "its 06:00 ET auto-start, the 16:30 ET gateway restart). Run `pytest features/ --phase first-day` "
                "after the live transition's first day._")
    lines = ["## First 24 Hours Post-Transition", "", told, "", *_which_day(run)]
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
        summary = ("left to the live run (a rehearsal)" if rehearsed(runs)
                   else "not yet: the first day has not been checked")
    else:
        summary = clean((run.verdict() or {}).get("headline") or "the first-day run recorded no verdict")
    return [*lines, f"**Summary:** {summary}", "", "---", ""]


def _which_day(run: RunLike | None) -> list[str]:
    """Which day was read as the first day, and why (the day of the first 06:00 ET auto-start after the first
    hour, docs/first-day.md)."""
    day = first_record(run, names.FIRST_DAY)
    if not isinstance(day, dict) or not day.get("first trading day"):
        return []
    return [f"**First Day:** {clean(day.get('first trading day'), 40)}: the day of the first scheduled start after the "
            f"first hour ({clean(day.get(FIRST_HOUR_BASIS), 200)})", ""]
