"""The default log texts in the seed's wording, and what makes a marker text valid: plain data, the ground that
the settings (their `log_*` defaults, checked as they are read) and the log probe (which matches by them) share,
so that reading the settings loads nothing of the probes. How a marker matches is harness.probes.logs.patterns's.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")


def check_marker(text: str) -> str:
    """The marker text, stripped: a phrase with words, or `re:` and a regular expression. Raises ValueError naming
    the marker when it is neither."""
    text = text.strip()
    if text[:3].lower() == "re:":
        source = text[3:].strip()
        if not source:
            raise ValueError(f"marker {text!r} has no regular expression after 're:'")
        try:
            re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"marker {text!r} is not a regular expression: {exc}") from None
        return text
    if not _WORD.search(text):
        raise ValueError(f"marker {text!r} has no words: write a phrase, or 're:' and a regular expression")
    return text


# The seed's wording (Task 4.3, Step 3 and Edge Cases), and what the harness reads as each mode. The ONE
# definition of these defaults: harness.core.settings builds its `log_*` defaults from this table, and
# harness.probes.logs matches by it.
DEFAULT_TEXTS: dict[str, tuple[str, ...]] = {
    # First line of every start; a startup block runs from it to the next one.
    "startup": ("Configuration loaded:",),
    # The line naming the gateway the bot connects to (HOST:PORT follows); reconnect lines are read too.
    "gateway_line": ("Connecting to IBKR Gateway at",),
    # The line that confirms paper mode (matched by meaning: "Paper trading mode NOT active" does not count).
    "paper_active": ("Paper trading mode ACTIVE",),
    "live_mode": (
        "live trading mode", "live mode", "live trading active", "live trading enabled",
        # "Trading mode: LIVE", "MODE=live", {"trading_mode": "live"}; not "LIVE_PORT=4001".
        r"re:(?<![^\W_])mode[\"']?\s*[:=]\s*[\"']?live(?![^\W_])",
        # "Trading mode changed to LIVE (PAPER_TRADING=false reloaded)": a switch while the bot runs.
        # Not "market data mode changed to live".
        r"re:(?<![^\W_])(?<!data )mode\s+(?:changed|switched|set|reloaded|is\s+now)\s+(?:to\s+)?[\"']?live(?![^\W_])",
    ),
    "dry_run": (
        "dry run mode", "dry run active", "dry run enabled",
        # "DRY_RUN=true" (a config dump), "Trading mode: dry-run"; not "DRY_RUN=false".
        r"re:(?<![^\W_])dry[\s_-]*run[\"']?\s*[:=]\s*[\"']?(?:true|yes|on|1)\b",
        r"re:(?<![^\W_])mode[\"']?\s*[:=]\s*[\"']?dry[\s_-]*run\b",
        r"re:(?<![^\W_])(?<!data )mode\s+(?:changed|switched|set|reloaded|is\s+now)\s+(?:to\s+)?[\"']?dry[\s_-]*run\b",
    ),
    # Level words in any case and framing (" ERROR ", "ERROR:", "[error]", "level=error", "level": "error"),
    # as whole words (\b: "error_count=0" is not one), and a Python traceback.
    "errors": ("Traceback (most recent call last)", r"re:\berror\b", r"re:\bcritical\b", r"re:\bfatal\b"),
    "shutdown": ("shutdown complete", "Shutting down", "clean shutdown"),
}
# How a person reads each default regular expression above: messages, advice and the transition log name a marker
# in these words, never by its regex (harness.probes.logs.patterns.Pattern.describe). Every `re:` default has one.
MARKER_WORDS: dict[str, str] = {
    DEFAULT_TEXTS["live_mode"][4]: 'a mode set to live ("Trading mode: LIVE", "MODE=live", "trading_mode": "live"; '
                                   'any case)',
    DEFAULT_TEXTS["live_mode"][5]: 'the mode changed to live ("Trading mode changed to LIVE", "mode is now live"; '
                                   'any case; not "market data mode")',
    DEFAULT_TEXTS["dry_run"][3]: 'dry run set to true ("DRY_RUN=true", "dry-run: yes", "dry_run=1"; any case)',
    DEFAULT_TEXTS["dry_run"][4]: 'a mode set to dry run ("Trading mode: dry-run", "MODE=DRY_RUN"; any case)',
    DEFAULT_TEXTS["dry_run"][5]: 'the mode changed to dry run ("Mode changed to DRY_RUN", "mode is now dry-run"; '
                                 'any case)',
    DEFAULT_TEXTS["errors"][1]: 'the word "error" (any case)',
    DEFAULT_TEXTS["errors"][2]: 'the word "critical" (any case)',
    DEFAULT_TEXTS["errors"][3]: 'the word "fatal" (any case)',
}


def describe_marker(text: str) -> str:
    """A marker as a person reads it: a default regex in words (MARKER_WORDS); a phrase quoted, with how it
    matches; a regular expression of the operator's own as they wrote it, said to be theirs."""
    text = text.strip()
    if text in MARKER_WORDS:
        return MARKER_WORDS[text]
    if text[:3].lower() == "re:":
        return f'your own marker "{text}" (a regular expression, any case)'
    if len(_WORD.findall(text)) > 1:
        return f'"{text}" (any case, spaces, _ or - between the words)'
    return f'"{text}" (any case, as a whole word)'


# Expected in this order after the restart in paper mode (plain text, any case).
DEFAULT_TEXTS["expected_startup"] = (
    "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
    DEFAULT_TEXTS["gateway_line"][0],
    "Gateway connection established",
    DEFAULT_TEXTS["paper_active"][0],
    "Bot initialized successfully",
)
