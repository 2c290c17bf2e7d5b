"""What the log probe looks for: `Pattern`, and the default patterns in the seed's wording.

One table of defaults, so an operator whose bot words its lines differently overrides only the entries it
needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pattern:
    """What a log line must contain: a plain substring (default) or a regular expression.

    `ignore_case` folds ASCII letters when searching bytes; the decoded line is then compared with
    `str.lower()`. A regex is searched in the raw bytes (its source encoded as UTF-8 and cp1252) and
    confirmed on the decoded line, so a character class that must match non-ASCII text may miss.
    """

    text: str
    regex: bool = False
    ignore_case: bool = False

    def matches(self, line: str) -> bool:
        """True when the decoded line text satisfies this pattern."""
        if self.regex:
            flags = re.IGNORECASE if self.ignore_case else 0
            return re.search(self.text, line, flags) is not None
        if self.ignore_case:
            return self.text.lower() in line.lower()
        return self.text in line

    def __str__(self) -> str:
        return self.text


PatternLike = str | Pattern


def _pattern(value: PatternLike) -> Pattern:
    return value if isinstance(value, Pattern) else Pattern(value)


def _ci(*texts: str) -> tuple[Pattern, ...]:
    return tuple(Pattern(text, ignore_case=True) for text in texts)


# The seed's wording (Task 4.3, Step 3 and Edge Cases). One table: an operator whose bot words its lines
# differently overrides the entries it needs.
DEFAULT_PATTERNS: dict[str, tuple[Pattern, ...]] = {
    # First line of every start; a startup block runs from it to the next one.
    "startup": (Pattern("Configuration loaded:"),),
    # Expected in this order after the restart in paper mode.
    "expected_startup": (
        Pattern("Configuration loaded: DRY_RUN=false, PAPER_TRADING=true"),
        Pattern("Connecting to IBKR Gateway at"),
        Pattern("Gateway connection established"),
        Pattern("Paper trading mode ACTIVE"),
        Pattern("Bot initialized successfully"),
    ),
    "live_mode": (Pattern("Live trading mode"),),
    "dry_run": (Pattern("DRY_RUN mode active"), Pattern("DRY-RUN mode"), Pattern("dry-run mode")),
    "errors": (Pattern("Traceback (most recent call last)"), Pattern(" ERROR "), Pattern("CRITICAL")),
    "shutdown": _ci("shutdown complete", "Shutting down", "clean shutdown"),
}
DEFAULT_STARTUP_PATTERN: Pattern = DEFAULT_PATTERNS["startup"][0]
DEFAULT_EXPECTED_STARTUP: tuple[Pattern, ...] = DEFAULT_PATTERNS["expected_startup"]
DEFAULT_FORBIDDEN: tuple[Pattern, ...] = (
    DEFAULT_PATTERNS["live_mode"] + DEFAULT_PATTERNS["dry_run"] + DEFAULT_PATTERNS["errors"]
)
DEFAULT_SHUTDOWN_PATTERNS: tuple[Pattern, ...] = DEFAULT_PATTERNS["shutdown"]
