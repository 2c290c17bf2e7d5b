"""What the log probe looks for: `Pattern`, markers matched by meaning, and the default texts in the seed's wording.

One table of defaults (`DEFAULT_TEXTS`): the settings (`harness.settings`) take their `log_*` defaults from it, so
an operator whose bot words its lines differently overrides only the entries it needs.

Markers (`marker`) say what a line MEANS, not one literal: "live trading mode" catches `LIVE TRADING MODE
ACTIVE`, `Live Trading Mode enabled` and `live-trading-mode`; "dry run mode" catches `DRY_RUN mode active` and
`Dry-run mode ACTIVE`. The rules are in `harness.probes.logs.meaning`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from harness.probes.logs import meaning


@dataclass(frozen=True, slots=True)
class Pattern:
    """What a log line must contain: a plain substring (default) or a regular expression.

    `ignore_case` folds ASCII letters when searching bytes; the decoded line is then compared with
    `str.lower()`. A regex is searched in the raw bytes (its source encoded as UTF-8 and cp1252) and
    confirmed on the decoded line, so a character class that must match non-ASCII text may miss.
    `keyword`: lowercase ASCII text every match contains; the bytes are searched for it (fast) and each line
    holding it is confirmed with the regex. `negation`: which negated mentions do not count, "before" ("not in
    live mode") or "around" (also "live mode: off"); see `harness.probes.logs.meaning`. `label`: how reports name the
    pattern (default: text).
    """

    text: str
    regex: bool = False
    ignore_case: bool = False
    keyword: str = ""
    negation: str = ""  # "": every match counts; "before": not after a negation word; "around": nor before a
    label: str = ""  # negative state ("... mode: off")

    def matches(self, line: str) -> bool:
        """True when the decoded line text satisfies this pattern."""
        if self.regex:
            flags = re.IGNORECASE if self.ignore_case else 0
            if self.keyword:
                flags |= re.ASCII  # fold ASCII letters only, as the byte search for the keyword does
            if not self.negation:
                return re.search(self.text, line, flags) is not None
            after = self.negation == "around"
            return any(not meaning.negated(line, found.start(), found.end(), after=after)
                       for found in re.finditer(self.text, line, flags))
        if self.ignore_case:
            return self.text.lower() in line.lower()
        return self.text in line

    def __str__(self) -> str:
        return self.label or self.text


PatternLike = str | Pattern


def _pattern(value: PatternLike) -> Pattern:
    return value if isinstance(value, Pattern) else Pattern(value)


def _ci(*texts: str) -> tuple[Pattern, ...]:
    return tuple(Pattern(text, ignore_case=True) for text in texts)


def marker(text: str, negation: str = "around") -> Pattern:
    """A marker matched by meaning: a phrase (any case, whole words, space/_/- between words) or `re:REGEX`
    (any case); a negated mention does not count. Reports name it by `text`. Raises ValueError for a bad one."""
    source, keyword = meaning.compile_marker(text)
    return Pattern(source, regex=True, ignore_case=True, keyword=keyword, negation=negation, label=text.strip())


def markers(texts: Iterable[str], negation: str = "around") -> tuple[Pattern, ...]:
    return tuple(marker(text, negation) for text in texts if text.strip())


def error_markers(texts: Iterable[str]) -> tuple[Pattern, ...]:
    """Error markers: "no error" does not count, but "ERROR: None" does (a level word is followed by the
    message, not by a state)."""
    return markers(texts, negation="before")


# The seed's wording (Task 4.3, Step 3 and Edge Cases), and what the harness reads as each mode. The ONE
# definition of these defaults: harness.settings builds its `log_*` defaults from this table.
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
    ),
    "dry_run": (
        "dry run mode", "dry run active", "dry run enabled",
        # "DRY_RUN=true" (a config dump), "Trading mode: dry-run"; not "DRY_RUN=false".
        r"re:(?<![^\W_])dry[\s_-]*run[\"']?\s*[:=]\s*[\"']?(?:true|yes|on|1)\b",
        r"re:(?<![^\W_])mode[\"']?\s*[:=]\s*[\"']?dry[\s_-]*run\b",
    ),
    # Level words in any case and framing (" ERROR ", "ERROR:", "[error]", "level=error", "level": "error"),
    # as whole words (\b: "error_count=0" is not one), and a Python traceback.
    "errors": ("Traceback (most recent call last)", r"re:\berror\b", r"re:\bcritical\b", r"re:\bfatal\b"),
    "shutdown": ("shutdown complete", "Shutting down", "clean shutdown"),
}
# Expected in this order after the restart in paper mode (plain text, any case).
DEFAULT_TEXTS["expected_startup"] = (
    "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
    DEFAULT_TEXTS["gateway_line"][0],
    "Gateway connection established",
    DEFAULT_TEXTS["paper_active"][0],
    "Bot initialized successfully",
)

DEFAULT_PATTERNS: dict[str, tuple[Pattern, ...]] = {
    "startup": (Pattern(DEFAULT_TEXTS["startup"][0]),),
    "expected_startup": _ci(*DEFAULT_TEXTS["expected_startup"]),
    "gateway_line": _ci(*DEFAULT_TEXTS["gateway_line"]),
    "paper_active": markers(DEFAULT_TEXTS["paper_active"]),
    "live_mode": markers(DEFAULT_TEXTS["live_mode"]),
    "dry_run": markers(DEFAULT_TEXTS["dry_run"]),
    "errors": error_markers(DEFAULT_TEXTS["errors"]),
    "shutdown": _ci(*DEFAULT_TEXTS["shutdown"]),
}
DEFAULT_STARTUP_PATTERN: Pattern = DEFAULT_PATTERNS["startup"][0]
DEFAULT_EXPECTED_STARTUP: tuple[Pattern, ...] = DEFAULT_PATTERNS["expected_startup"]
DEFAULT_FORBIDDEN: tuple[Pattern, ...] = (
    DEFAULT_PATTERNS["live_mode"] + DEFAULT_PATTERNS["dry_run"] + DEFAULT_PATTERNS["errors"]
)
DEFAULT_SHUTDOWN_PATTERNS: tuple[Pattern, ...] = DEFAULT_PATTERNS["shutdown"]
