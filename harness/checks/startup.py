"""Startup checks (the seed's Step 3): the bot's log and its Discord notification say paper trading."""

from __future__ import annotations

from collections.abc import Sequence

from harness.checks import CheckFailed, CouldNotLook
from harness.discord import NotificationFacts
from harness.logs import LogFacts, LogLine, OrderedMatch, ScanFacts, StartupBlock
from harness.redact import redact_text

HALT_TEXT = "the seed's rule: if the bot is not in PAPER TRADING mode, HALT IMMEDIATELY"


def quote(line: LogLine, secrets: Sequence[str] = ()) -> str:
    """A log line as a failure message may show it: where it is, and its text redacted."""
    return f"{line.where}: {redact_text(line.text.strip(), secrets)[:300]}"


def check_startup_found(logs: LogFacts, block: StartupBlock | None, startup: str, since_text: str) -> StartupBlock:
    if logs.problem is not None:
        raise CouldNotLook(f"the bot's log cannot be read: {logs.problem} (give --bot-log)")
    if block is None:
        raise CheckFailed(
            "No startup in the bot's log",
            f"no line containing {startup!r} {since_text} in {', '.join(logs.paths)}: the bot has not (re)started",
        )
    return block


def check_lines_in_order(match: OrderedMatch, block: StartupBlock) -> None:
    if match.all_in_order:
        return
    parts = []
    if match.missing:
        parts.append("missing: " + "; ".join(repr(p) for p in match.missing))
    if match.out_of_order:
        parts.append("out of order: " + "; ".join(repr(p) for p in match.out_of_order))
    raise CheckFailed(
        "Startup lines not as expected",
        f"in the startup block at {block.path}:{block.first_lineno}, " + ", ".join(parts),
    )


def check_line_present(block: StartupBlock, text: str, secrets: Sequence[str] = ()) -> LogLine:
    for line in block.lines:
        if text in line.text:
            return line
    first = quote(block.lines[0], secrets) if block.lines else f"{block.path}:{block.first_lineno}"
    raise CheckFailed(f"{text!r} not in the startup log",
                      f"the startup block beginning {first} never says {text!r}: {HALT_TEXT}", critical=True)


def check_absent(scan: ScanFacts, patterns: Sequence[str], title: str, *, critical: bool,
                 advice: str, secrets: Sequence[str] = ()) -> None:
    offending = [fact for fact in scan.patterns if fact.pattern in patterns and fact.count]
    if not offending:
        return
    examples = "; ".join(
        f"{fact.count} line(s) with {fact.pattern!r}, first {quote(fact.first[0], secrets)}"
        for fact in offending if fact.first
    )
    raise CheckFailed(title, f"since the startup: {examples}. {advice}", critical=critical)


def check_discord_paper(notification: NotificationFacts) -> None:
    if not notification.looked:
        raise CouldNotLook(notification.problem or "Discord was not read")
    if notification.match is None:
        why = notification.problem or "no message says it"
        if notification.outside_window:
            why += f" ({len(notification.outside_window)} PAPER TRADING message(s) outside the startup window)"
        raise CheckFailed("No PAPER TRADING notification",
                          f"expected 'Bot started in PAPER TRADING mode at <time>' near the startup: {why}")


def check_discord_no_wrong_mode(notification: NotificationFacts) -> None:
    if not notification.looked:
        raise CouldNotLook(notification.problem or "Discord was not read")
    if notification.forbidden:
        found = "; ".join(f"{m.mode}: {m.message.content[:200]!r} at {m.message.timestamp:%H:%M:%S}Z"
                          for m in notification.forbidden)
        raise CheckFailed("Discord announces the wrong mode", f"{found}: {HALT_TEXT}", critical=True)
