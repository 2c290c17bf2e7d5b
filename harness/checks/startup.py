"""Startup checks (the seed's Step 3): the bot's log and its Discord notification say paper trading.

Pure: log facts (harness.probes.logs) and notification facts (harness.probes.discord) in; `CheckFailed` / `CouldNotLook`
out. Checks never receive secret values: a quoted log line is shown through `redact_text`'s patterns (URL
credentials, webhook and bot tokens, account ids), and pytest's report hooks redact all failure text again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from harness.checks import CheckFailed, CouldNotLook
from harness.core.ibkr import LIVE_PORTS, PAPER_PORTS
from harness.core.log_texts import describe_marker
from harness.core.redact import redact_text
from harness.probes.bot_log import NewestStart
from harness.probes.discord import NotificationFacts
from harness.probes.envfile import strict_bool
from harness.probes.logs import (
    ConfigurationLine,
    GatewayLine,
    LogLine,
    OrderedMatch,
    Pattern,
    ScanFacts,
    StartupBlock,
    message_text,
)

HALT_TEXT = "the seed's rule: if the bot is not in PAPER TRADING mode, HALT IMMEDIATELY"
PAPER_PORT_TEXT = ", ".join(f"{port} {name}" for port, name in sorted(PAPER_PORTS.items()))
QUOTE_CHARS = 300
MAX_EXAMPLES = 5
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def quote(line: LogLine) -> str:
    """A log line as a failure message may show it: where it is, and its message (a JSON record's), redacted."""
    return f"{line.where}: {redact_text(message_text(line.text).strip()[: QUOTE_CHARS * 2])[:QUOTE_CHARS]!r}"


def check_startup_found(start: NewestStart) -> StartupBlock:
    """The newest startup block exists (after --since, when given). When it does not, say when the newest one
    was and how the log's times were read, whenever a time decides."""
    if start.problem is not None:
        if start.spec is None:
            raise CouldNotLook(start.problem)
        raise CouldNotLook(f"the bot's log cannot be read: {start.problem} (give --bot-log)")
    if start.block is not None:
        return start.block
    since_text = f"since {start.since.isoformat()}" if start.since else "at all"
    found = f"no line containing {start.startup_text!r} {since_text} in {', '.join(start.files)}"
    newest = start.newest_any
    if newest is not None:
        when = f"at {newest.started_at.isoformat()}" if newest.started_at else "at a time that cannot be read"
        found += f"; the newest is {newest.path}:{newest.first_lineno}, {when}"
    if newest is not None or start.since is not None:
        found += f" (log times read as {start.zone})"
    raise CheckFailed("No startup in the bot's log",
                      f"{found}: the bot has not been (re)started since the switch; start it, then run the checks "
                      "again")


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


def check_paper_line(block: StartupBlock, paper: Pattern) -> LogLine:
    """A line of the newest startup block says paper trading mode is active, by meaning (any case; "Paper
    trading mode NOT active" or "... ACTIVE: false" never counts)."""
    for line in block.lines:
        if paper.matches(line.text):
            return line
    first = quote(block.lines[0]) if block.lines else f"{block.path}:{block.first_lineno}"
    denied = [line for line in block.lines if _mentions(paper, line.text)]
    extra = ""
    if denied:
        extra = " (it says it only negated: " + "; ".join(quote(line) for line in denied[:MAX_EXAMPLES]) + ")"
    capped = f" in its first {len(block.lines)} lines" if block.lines_capped else ""
    raise CheckFailed("The startup log never says paper trading mode is active",
                      f"the startup block beginning {first} has no line matching {paper.describe()}{capped}{extra}: "
                      f"{HALT_TEXT}", critical=True)


def _mentions(pattern: Pattern, text: str) -> bool:
    """The pattern occurs in the line, negated or not."""
    return Pattern(pattern.text, regex=pattern.regex, ignore_case=pattern.ignore_case).matches(text)


def check_absent(scan: ScanFacts, title: str, *, critical: bool, advice: str, meaning: str = "") -> None:
    """No line since the startup matches any scanned pattern; the failure names each marker in words (never its
    regex) and its first line. `meaning`: what the markers mean ("dry-run mode")."""
    offending = [fact for fact in scan.patterns if fact.count]
    if not offending:
        return
    examples = "; ".join(
        f"{fact.count} line(s) match {fact.words or describe_marker(fact.pattern)}, first {quote(fact.first[0])}"
        for fact in offending if fact.first
    )
    start = f" ({scan.from_block})" if scan.from_block else ""
    meaning = meaning.strip().removeprefix("(").removesuffix(")")
    says = f", the log says {meaning}" if meaning else ""
    raise CheckFailed(title, f"since the startup{start}{says}: {examples}. {advice}", critical=critical)


def check_configuration_paper(config: ConfigurationLine | None, block: StartupBlock) -> str:
    """The startup line says DRY_RUN=false and PAPER_TRADING=true (strict booleans). Returns a note."""
    if config is None:
        raise CheckFailed("No configuration line", f"the startup block at {block.path}:{block.first_lineno} is empty")
    problems = []
    for key, wanted in (("DRY_RUN", False), ("PAPER_TRADING", True)):
        raw = config.value(key)
        value = strict_bool(raw)  # the .env reader's own rule
        if raw is None:
            problems.append(f"it does not say {key}")
        elif value is None:
            problems.append(f"{key}={raw!r} is not true or false")
        elif value is not wanted:
            problems.append(f"{key}={raw} (expected {str(wanted).lower()})")
    if problems:
        raise CheckFailed("The bot did not load paper trading",
                          f"{quote(config.line)}: {'; '.join(problems)}. The bot loaded a configuration other "
                          f"than DRY_RUN=false, PAPER_TRADING=true: {HALT_TEXT}", critical=True)
    return f"{config.line.where}: DRY_RUN=false, PAPER_TRADING=true"


def same_host(a: str, b: str) -> bool:
    """localhost, 127.0.0.1 and ::1 are one host; any other name or address is only itself."""
    return _host_key(a) == _host_key(b)


def _host_key(host: str) -> str:
    text = host.strip().strip("[]").rstrip(".").lower()
    if text in _LOOPBACK_NAMES:
        return "loopback"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")):
        return "loopback"
    return address.compressed


def check_gateway_lines(lines: Sequence[GatewayLine], block: StartupBlock, gateway_text: str,
                        env_host: str | None, env_port: str | None) -> str:
    """Every line of the newest startup block naming the gateway the bot (re)connects to names a paper port
    (4002 IB Gateway paper, 7497 TWS paper) and the .env's IBKR_HOST:IBKR_PORT. Returns a note."""
    if not lines:
        capped = f" (its first {len(block.lines)} lines)" if block.lines_capped else ""
        raise CheckFailed("No gateway line in the startup log",
                          f"the startup block at {block.path}:{block.first_lineno}{capped} has no line with "
                          f"{gateway_text!r} HOST:PORT: which gateway the bot uses cannot be told")
    wrong: list[str] = []
    for item in lines:
        if item.port is None or item.host is None:
            wrong.append(f"{quote(item.line)} names no HOST:PORT (read {item.address!r})")
        elif item.port in LIVE_PORTS:
            wrong.append(f"{quote(item.line)} connects to {item.host}:{item.port}, the {LIVE_PORTS[item.port]} port")
        elif item.port not in PAPER_PORTS:
            wrong.append(f"{quote(item.line)} connects to {item.host}:{item.port}, not a paper port "
                         f"({PAPER_PORT_TEXT})")
    if wrong:
        raise CheckFailed("The bot connects to a gateway that is not paper",
                          f"{'; '.join(wrong[:MAX_EXAMPLES])}: expected a paper port ({PAPER_PORT_TEXT}). {HALT_TEXT}",
                          critical=True)
    addresses = ", ".join(sorted({f"{item.host}:{item.port}" for item in lines}))
    if not env_host or not env_port:
        missing = " and ".join(key for key, value in (("IBKR_HOST", env_host), ("IBKR_PORT", env_port)) if not value)
        raise CouldNotLook(f"the bot's .env sets no {missing}, so the log's gateway address ({addresses}, a paper "
                           "port) cannot be compared with it: check the bot's connection settings")
    try:
        port = int(env_port.strip())
    except ValueError:
        raise CheckFailed("The .env's gateway port is not a number",
                          f"IBKR_PORT={env_port.strip()!r} in the bot's .env; the log says {addresses}") from None
    for item in lines:
        if item.port != port or not same_host(item.host or "", env_host):
            wrong.append(f"{quote(item.line)} connects to {item.host}:{item.port}")
    if wrong:
        raise CheckFailed("The bot connects to another gateway than its .env names",
                          f"{'; '.join(wrong[:MAX_EXAMPLES])}, but the .env says IBKR_HOST={env_host.strip()} "
                          f"IBKR_PORT={port}: the bot does not run with this .env. {HALT_TEXT}", critical=True)
    return f"{len(lines)} gateway line(s), all {addresses} (the .env's IBKR_HOST:IBKR_PORT, a paper port)"


def check_discord_paper(notification: NotificationFacts, near: str = "") -> None:
    """`near`: the startup time and how it was read, for the failure message."""
    if not notification.looked:
        raise CouldNotLook(notification.problem or "Discord was not read")
    if notification.match is None:
        why = notification.problem or "no message says it"
        if notification.outside_window:
            why += f" ({len(notification.outside_window)} PAPER TRADING message(s) outside the startup window)"
        when = f" ({near})" if near else ""
        raise CheckFailed("No PAPER TRADING notification",
                          f"expected 'Bot started in PAPER TRADING mode at <time>' near the startup{when}: {why}")


def check_discord_no_wrong_mode(notification: NotificationFacts) -> str | None:
    """No message of this start names a wrong mode; one from before it (an earlier start's) is only told."""
    if not notification.looked:
        raise CouldNotLook(notification.problem or "Discord was not read")
    if notification.forbidden:
        found = "; ".join(f"{m.mode}: {m.message.content[:200]!r} at {m.message.timestamp:%H:%M:%S}Z"
                          for m in notification.forbidden)
        raise CheckFailed("Discord announces the wrong mode", f"{found}: {HALT_TEXT}", critical=True)
    if notification.earlier_start:
        told = "; ".join(f"{m.mode}: {m.message.content[:120]!r} at {m.message.timestamp:%H:%M:%S}Z"
                         for m in notification.earlier_start[:MAX_EXAMPLES])
        return f"before this start (an earlier start's, not this one's): {told}"
    return None
