"""Rollback checks (the seed's Rollback Plan): after `harness switch dry-run` and a manual restart, the bot is in
dry-run mode again everywhere it says so, the paper account is left with nothing open, and the scheduler still
starts the bot. Pure: facts in, `CheckFailed` / `CouldNotLook` out."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from harness.checks import CheckFailed, CouldNotLook, advice
from harness.checks.configuration import check_not_live
from harness.checks.startup import quote
from harness.core.redact import mask_account
from harness.evidence.baseline import EnvDiff
from harness.probes.discord import NotificationFacts
from harness.probes.envfile import EnvFileFacts, read_bool, strict_bool
from harness.probes.gateway import GatewayFacts
from harness.probes.logs import ConfigurationLine, LogLine, Pattern, StartupBlock
from harness.probes.scheduler import ScheduledTask

ROLLBACK_RULE = "the seed's Rollback Plan: DRY_RUN=true, PAPER_TRADING=false, restart, verify dry-run mode active"
BY_HAND = "in the IBKR paper account portal"


def check_mode_is_dry_run(env: EnvFileFacts) -> None:
    """DRY_RUN=true and PAPER_TRADING=false, strictly; live mode is critical."""
    check_not_live(env)
    dry, paper = read_bool(env, "DRY_RUN"), read_bool(env, "PAPER_TRADING")
    for setting in (dry, paper):
        if setting.problem:
            raise CheckFailed("The rollback is not complete", f"{setting.problem}: {ROLLBACK_RULE}")
    wrong = [f"{key}={setting.raw} (line {setting.line})" for key, setting, wanted in
             (("DRY_RUN", dry, True), ("PAPER_TRADING", paper, False)) if setting.value is not wanted]
    if wrong:
        raise CheckFailed("The .env is not back in dry-run mode",
                          f"{', '.join(wrong)} in {env.path}: run `harness switch dry-run` ({ROLLBACK_RULE})")


def check_back_to_baseline(difference: EnvDiff) -> None:
    """The rolled-back .env says what the baseline (taken before the switch, in dry-run) said: every key, the two
    mode keys included."""
    if difference.unusable:
        raise CheckFailed("The baseline is not this bot's pre-switch .env", difference.unusable)
    if difference.changes:
        lines = "; ".join(
            f"{c.key} {c.change}" + (f" ({c.before!r} -> {c.after!r})" if c.change == "changed" else "")
            for c in difference.changes)
        raise CheckFailed("The .env differs from the baseline after the rollback",
                          f"since the baseline taken before the switch: {lines}")


def check_dry_run_line(block: StartupBlock, dry_run: Sequence[Pattern], config: ConfigurationLine | None) -> LogLine:
    """A line of the newest startup block, other than its configuration line, says dry-run mode is active (by
    meaning: "dry run mode disabled" never counts)."""
    skip = config.line.lineno if config is not None else None
    for line in block.lines:
        if line.lineno != skip and any(p.matches(line.text) for p in dry_run):
            return line
    first = quote(block.lines[0]) if block.lines else f"{block.path}:{block.first_lineno}"
    capped = f" in its first {len(block.lines)} lines" if block.lines_capped else ""
    raise CheckFailed("The bot did not restart in dry-run mode",
                      f"the newest startup block, beginning {first}, never says dry-run mode is active{capped} "
                      "(the configuration line does not count): restart the bot after the rollback, and verify "
                      "dry-run mode active", critical=True)


def check_configuration_dry_run(config: ConfigurationLine | None, block: StartupBlock) -> str:
    """The startup line says DRY_RUN=true and PAPER_TRADING=false (strict booleans). Returns a note."""
    if config is None:
        raise CheckFailed("No configuration line", f"the startup block at {block.path}:{block.first_lineno} is empty")
    problems = []
    for key, wanted in (("DRY_RUN", True), ("PAPER_TRADING", False)):
        raw = config.value(key)
        if raw is None:
            problems.append(f"it does not say {key}")
        elif strict_bool(raw) is None:
            problems.append(f"{key}={raw!r} is not true or false")
        elif strict_bool(raw) is not wanted:
            problems.append(f"{key}={raw} (expected {str(wanted).lower()})")
    if problems:
        raise CheckFailed("The bot did not load the rolled-back configuration",
                          f"{quote(config.line)}: {'; '.join(problems)}. Restart the bot after the rollback; if it "
                          "still loads this, something overrides the .env", critical=True)
    return f"{config.line.where}: DRY_RUN=true, PAPER_TRADING=false"


def check_discord_dry_run(notification: NotificationFacts, near: str = "") -> None:
    if not notification.looked:
        raise CouldNotLook(notification.problem or "Discord was not read")
    if notification.match is None:
        why = notification.problem or "no message says it"
        when = f" ({near})" if near else ""
        raise CheckFailed("No DRY-RUN notification",
                          f"expected 'Bot started in DRY-RUN mode at <time>' near the restart{when}: {why}")


def check_discord_not_paper_or_live(notification: NotificationFacts) -> None:
    if not notification.looked:
        raise CouldNotLook(notification.problem or "Discord was not read")
    if notification.forbidden:
        found = "; ".join(f"{m.mode}: {m.message.content[:200]!r} at {m.message.timestamp:%H:%M:%S}Z"
                          for m in notification.forbidden)
        live = any(m.mode.upper() == "LIVE" for m in notification.forbidden)
        raise CheckFailed("Discord announces another mode than dry-run after the rollback",
                          f"{found}: the bot is not in dry-run mode", critical=live)


def _positions(facts: GatewayFacts) -> list[str]:
    return [f"{p.quantity:g} {p.symbol} in {mask_account(p.account)}" for p in facts.positions if p.quantity]


def check_no_open_orders(facts: GatewayFacts) -> str:
    """No open order is left in the paper account; a failure lists each order and the positions to close."""
    if facts.open_orders:
        orders = "; ".join(
            f"order {o.order_id} (client {o.client_id}) {o.action} {o.quantity:g} {o.symbol} {o.order_type}"
            + (f" @ {o.limit_price:g}" if o.limit_price is not None else "") + f" in {mask_account(o.account)} "
            f"({o.status})" for o in facts.open_orders)
        held = _positions(facts)
        also = f". Positions to close as well: {'; '.join(held)}" if held else ""
        raise CheckFailed("Orders left open after the rollback",
                          f"{len(facts.open_orders)} open order(s): {orders}{also}. Cancel them {BY_HAND} (or with "
                          "`harness halt` before the .env is rolled back)")
    return f"no open order in {', '.join(mask_account(a) for a in facts.accounts) or 'the paper account'}"


def check_positions_closed(facts: GatewayFacts, declared: Sequence[tuple[str, float]] = ()) -> str | None:
    """Every paper position is closed, except the ones the operator declared may stay (--declared-positions)."""
    held: dict[str, float] = {}
    for p in facts.positions:
        if p.quantity:
            held[p.symbol.upper()] = held.get(p.symbol.upper(), 0.0) + p.quantity
    expected = {symbol.upper(): quantity for symbol, quantity in declared}
    left = [f"{qty:g} {symbol}" for symbol, qty in sorted(held.items()) if expected.get(symbol) != qty]
    if left:
        where = ", ".join(sorted({mask_account(p.account) for p in facts.positions if p.quantity}))
        raise CheckFailed("Positions left open after the rollback",
                          f"close by hand {BY_HAND} (Portfolio -> Positions): {'; '.join(left)} in {where}, or "
                          "declare the ones that stay (--declared-positions SYMBOL:QTY)")
    if expected:
        return "declared positions held: " + ", ".join(f"{s} {q:g}" for s, q in sorted(expected.items()))
    return None


def _path_key(text: str) -> str:
    """A path as Windows compares them (case, separators, `..`), without touching the file system."""
    return os.path.normcase(os.path.normpath(text.strip().strip('"')))


def check_scheduled_task(task: ScheduledTask, bot_dir: Path | None) -> str:
    """The task is enabled, has an enabled trigger and starts the bot in `bot_dir` (an absolute path: its working
    directory, or its command line naming it). Returns a note."""
    if not task.looked:
        raise CouldNotLook(f"the Task Scheduler task could not be read: {task.problem}")
    name = task.name or task.source
    if task.enabled is None:  # a systemd timer: its unit file does not say whether it is enabled
        raise CouldNotLook(f"whether {name} is enabled is not in its definition: {' '.join(task.notes)}")
    if not task.enabled:
        raise CheckFailed("The bot's scheduled task is disabled",
                          f"{name} is disabled: re-enable it ({advice.enable_the_schedule(kind=task.kind)}), or the "
                          "bot will not start at 6:00 AM ET")
    triggers = [t for t in task.triggers if t.enabled]
    if not triggers:
        raise CheckFailed("The bot's scheduled task never starts", f"{name} has no enabled trigger")
    if not task.actions:
        raise CheckFailed("The bot's scheduled task starts nothing", f"{name} has no program to start")
    when = "; ".join(f"{t.kind} {t.schedule} from {t.start}".replace("  ", " ").strip() for t in triggers)
    if bot_dir is None:
        return f"{name}: enabled, {when} (no --bot-dir: which bot it starts was not compared)"
    here = _path_key(str(bot_dir))
    for action in task.actions:
        if action.working_directory and _path_key(action.working_directory) == here:
            return f"{name}: enabled, {when}; starts {action.command} in {action.working_directory}"
        if here in os.path.normcase(f"{action.command} {action.arguments}"):
            return f"{name}: enabled, {when}; starts {action.command} {action.arguments}"
    started = "; ".join(f"{a.command} {a.arguments} in {a.working_directory or '(no working directory)'}"
                        for a in task.actions)
    raise CheckFailed("The scheduled task does not start this bot",
                      f"{name} starts {started}, not the bot in {bot_dir}: it would not read this .env")
