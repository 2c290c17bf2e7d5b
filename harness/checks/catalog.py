"""The one table of checks that two runners share: the steps of `pytest features/` and the rounds of
`harness watch`. Each entry is a check's title, the checklist item (harness.core.dod) it speaks to, what it looks
at, and the advice an operator acts on; a runner takes them from here and never spells them itself, so a failure
reads the same in a scenario, a watch round and the transition log.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # short, for a table row ("log mode")
    title: str  # the failure's headline
    item: str  # the checklist item (harness.core.dod) it speaks to
    looks_at: str  # what it looks at, in one line
    advice: str = ""  # what to do when it fails
    critical: bool = False  # a failure means: halt the bot
    meaning: str = ""  # what a matching line means ("dry-run mode")


# The log's markers since the bot's (newest) start: features/02_startup.feature and every watch round.
LIVE_MODE_IN_LOG = Check(
    "log live mode", "LIVE trading mode in the log", "dod_log_paper",
    "no line since the bot's start says live trading mode",
    advice="HALT THE BOT and check the gateway account", critical=True, meaning="live trading mode")
DRY_RUN_IN_LOG = Check(
    "log dry-run mode", "Still in dry-run mode", "dod_log_paper",
    "no line since the bot's start says dry-run mode",
    advice="the bot is not trading on paper, so the configuration was not loaded: re-check the .env and the "
           "environment, then restart the bot", meaning="dry-run mode")
ERRORS_IN_LOG = Check(
    "log errors", "Errors in the bot's log", "dod_no_crashes",
    "no new error or traceback in the bot's log, no restart",
    advice="diagnose before trusting the bot with orders", meaning="an error")

PAPER_MODE_AFTER_ROLLBACK = Check(
    "log paper mode after the rollback", "Still in paper trading mode after the rollback", "rollback_bot_dry_run",
    "no line since the restart after the rollback says paper trading mode",
    advice="the bot was not restarted after the rollback, or it does not read its .env: stop it, check the .env, "
           "start it again", meaning="paper trading mode")

# What only the watch looks at: the bot's life during the first hour.
BOT_RESTARTED = Check("bot restarted", "The bot started again during the watch", "dod_no_crashes",
                      "the bot's newest start is the one the previous round saw")
BOT_SILENT = Check("bot silent", "The bot went silent", "dod_no_crashes",
                   "the bot's log has a line within the heartbeat gap")

# The rounds of `harness watch` (the first hour), in the order its table shows them.
BOT_ALIVE = Check("bot alive", "The bot is not running", "dod_no_crashes",
                  "the bot's process runs and its log is not silent longer than the heartbeat gap")
LOG_MODE = Check("log mode", "The log's trading mode", "dod_log_paper",
                 "no line since the bot's start says live or dry-run mode")
BOT_CONNECTION = Check("bot connection", "The bot's connection", "dod_orders_paper",
                       "the paper gateway holds an order or execution of the bot's client id")
PAPER_ORDERS = Check("paper orders", "The bot's orders", "dod_orders_paper",
                     "every logged order is in the paper account, nothing unknown")
LIVE_ACCOUNT = Check("live account", "Activity in the live account", "dod_no_live_orders",
                     "no order or execution in the live account")
DISCORD_MODE = Check("discord", "Discord's trading mode", "dod_discord_paper",
                     "no Discord message since the bot's start says dry-run or live")

WATCH_ROUND: tuple[Check, ...] = (ERRORS_IN_LOG, BOT_ALIVE, LOG_MODE, BOT_CONNECTION, PAPER_ORDERS, LIVE_ACCOUNT,
                                  DISCORD_MODE)
