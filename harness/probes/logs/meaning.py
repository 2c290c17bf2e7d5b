"""Markers matched by meaning: a phrase or a regex, in any case, and never a negated mention.

A marker is written the way an operator would say it:

* a PHRASE ("live trading mode", "dry run mode", "error"): its words in any case, as whole words, with any run
  of spaces, `_` or `-` between them (so `DRY_RUN mode`, `Dry-run mode` and `dry run mode` are one marker);
  other punctuation in the phrase must appear, with optional spaces around it. `_` counts as a separator at
  the ends as well: "live mode" is in `LIVE_MODE=true`.
* `re:REGEX`: a regular expression, searched in any case.

A NEGATED mention does not count: a negation word just before it ("not in live mode", "no dry-run mode",
"cannot enter live mode") or a negative state just after it ("Paper trading mode NOT active", "live mode:
off", "LIVE_MODE=false", "dry run mode disabled"). What is deliberately NOT a live marker: "PAPER_TRADING=true",
"LIVE_PORT=4001" (a config dump naming the live port is not the bot being live), "not in live mode".

Markers are searched in the raw line: for a JSON-lines log the whole object, so a structured field such as
`"trading_mode": "live"` is seen as well as the message.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
_SEPARATORS = re.compile(r"[\s_-]+")
# A word boundary in which `_` separates words (Python's \b treats `_` as a letter).
WORD_START = r"(?<![^\W_])"
WORD_END = r"(?![^\W_])"

_NEGATION_WINDOW = 48  # characters before a mention searched for a negation word
_FILLERS = ("in", "into", "to", "the", "a", "an", "be", "been", "being", "yet", "running", "run", "using", "use",
            "entering", "enter", "switching", "switch", "going", "go", "starting", "start", "in the")
_NEGATION_BEFORE = re.compile(
    r"(?:" + WORD_START + r"(?:not|no|never|without|non|cannot)|n't)"
    r"(?:[\s_-]+(?:" + "|".join(sorted(_FILLERS, key=len, reverse=True)) + r"))*[\s_-]*$",
    re.IGNORECASE,
)
# After a mention: a negative state, right after it or after ':', '=' or "is/was/are". A bare "not" counts
# only before a state word or the end of the clause: "live mode: not active" is negated, "live mode: not
# paper" is not.
_STATES = r"(?:active|enabled|on|set|running|used|in[\s_-]+use|selected)"
_NEGATION_AFTER = re.compile(
    r"[\s\"']*(?:[:=]|" + WORD_START + r"(?:is|was|are)" + WORD_END + r")?[\s\"']*"
    r"(?:(?:not|n't|no)(?:[\s_-]+" + _STATES + WORD_END + r"|(?=[\s\"']*(?:[.,;:)\]}]|$)))"
    r"|(?:inactive|disabled|deactivated|off|false|none|0)" + WORD_END + ")",
    re.IGNORECASE,
)
_BOUNDARY_PREFIXES = (r"\b", WORD_START, r"(?<![a-z0-9])", r"(?<![A-Za-z0-9])")


def negated(line: str, start: int, end: int, *, after: bool = True) -> bool:
    """True when the mention line[start:end] is negated by the words just before it (or, with `after`, by a
    negative state just after it)."""
    if _NEGATION_BEFORE.search(line[max(0, start - _NEGATION_WINDOW) : start]):
        return True
    return after and _NEGATION_AFTER.match(line, end) is not None


def compile_marker(text: str) -> tuple[str, str]:
    """(regex source, keyword) for a marker text: a phrase or `re:REGEX`. Raises ValueError for a bad regex
    or an empty marker. The keyword is lowercase ASCII text every match contains ("" when none is known)."""
    text = text.strip()
    if text[:3].lower() == "re:":
        source = text[3:].strip()
        if not source:
            raise ValueError(f"marker {text!r} has no regular expression after 're:'")
        try:
            re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"marker {text!r} is not a regular expression: {exc}") from None
        return source, _regex_keyword(source)
    return phrase_regex(text)


def phrase_regex(text: str) -> tuple[str, str]:
    """(regex source, keyword) for a phrase (see the module docstring)."""
    words = _WORD.findall(text)
    if not words:
        raise ValueError(f"marker {text!r} has no words: write a phrase, or 're:' and a regular expression")
    parts: list[str] = []
    position = 0
    for found in _WORD.finditer(text):
        parts.append(_separator(text[position : found.start()], first=position == 0))
        parts.append(re.escape(found.group(0)))
        position = found.end()
    parts.append(_separator(text[position:], last=True))
    source = WORD_START * bool(_WORD.match(text)) + "".join(parts)
    if _WORD.search(text[-1]):
        source += WORD_END
    # The keyword searched first: the phrase's first word (it says what the phrase is about, and phrases
    # about one thing share it, so they are searched once), else its longest ASCII word.
    ascii_words = [word.lower() for word in words if word.isascii()]
    if not ascii_words:
        return source, ""
    first = words[0].lower()
    return source, first if first.isascii() and len(first) >= 3 else max(ascii_words, key=len)


def _separator(between: str, *, first: bool = False, last: bool = False) -> str:
    if not between:
        return ""
    punctuation = _SEPARATORS.sub("", between)
    if not punctuation:
        return "" if first or last else r"[\s_-]*"
    return r"[\s_-]*" + re.escape(punctuation) + r"[\s_-]*"


def _regex_keyword(source: str) -> str:
    """A literal word the regex must match, when it plainly starts with one (after a boundary) and has no
    top-level alternation; else "" (then the regex itself is searched)."""
    if _top_level_alternation(source):
        return ""
    rest = source
    for prefix in _BOUNDARY_PREFIXES:
        if rest.startswith(prefix):
            rest = rest[len(prefix):]
            break
    found = re.match(r"[A-Za-z]{3,}", rest)
    if found is None:
        return ""
    word = found.group(0)
    following = rest[len(word) : len(word) + 1]
    if following in ("?", "*", "{"):  # the last letter is optional: keep the letters before it
        word = word[:-1]
    return word.lower() if len(word) >= 3 else ""


def _top_level_alternation(source: str) -> bool:
    depth = 0
    in_class = False
    escaped = False
    for char in source:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False
