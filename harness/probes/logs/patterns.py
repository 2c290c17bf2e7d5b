"""What the log probe looks for, and how it finds it in raw bytes: `Pattern`, markers matched by meaning, and the
default texts in the seed's wording.

One table of defaults (`DEFAULT_TEXTS`, kept in harness.core.log_texts, the ground both read): the settings
(`harness.core.settings`) take their `log_*` defaults from it, so an operator whose bot words its lines differently
overrides only the entries it needs.

A marker says what a line MEANS, not one literal, written the way an operator would say it:

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

Searching works on bytes: each pattern's encoded forms (UTF-8 and cp1252) are found with `bytes.find` (or a bytes
regex) over whole buffers, which runs at memory speed; only matching lines are decoded, and a pattern that is not
plain ASCII (or a regex, or a marker found by its keyword) is confirmed on the decoded line.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from harness.core.log_texts import DEFAULT_TEXTS, check_marker, describe_marker
from harness.probes.logs.files import Source, decode

# --- markers by meaning ------------------------------------------------------------------------------------------

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
    text = check_marker(text)
    if text[:3].lower() == "re:":
        source = text[3:].strip()
        return source, _regex_keyword(source)
    return phrase_regex(text)


def phrase_regex(text: str) -> tuple[str, str]:
    """(regex source, keyword) for a phrase (see the module docstring)."""
    words = _WORD.findall(check_marker(text))
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


# --- patterns and the defaults -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pattern:
    """What a log line must contain: a plain substring (default) or a regular expression.

    `ignore_case` folds ASCII letters when searching bytes; the decoded line is then compared with
    `str.lower()`. A regex is searched in the raw bytes (its source encoded as UTF-8 and cp1252) and
    confirmed on the decoded line, so a character class that must match non-ASCII text may miss.
    `keyword`: lowercase ASCII text every match contains; the bytes are searched for it (fast) and each line
    holding it is confirmed with the regex. `negation`: which negated mentions do not count, "before" ("not in
    live mode") or "around" (also "live mode: off"); see the module doc. `label`: the marker's text as given (a
    phrase or `re:REGEX`; default: text), which names the pattern in facts. What a person reads is `describe()`.
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
            return any(not negated(line, found.start(), found.end(), after=after)
                       for found in re.finditer(self.text, line, flags))
        if self.ignore_case:
            return self.text.lower() in line.lower()
        return self.text in line

    def __str__(self) -> str:
        return self.label or self.text

    def describe(self) -> str:
        """The pattern as a person reads it, never a compiled regex: a marker in words (a default regex by what it
        means, a phrase quoted with how it matches, the operator's own regex as they wrote it); a plain text
        quoted."""
        if self.regex and self.label:
            return describe_marker(self.label)
        if self.regex:  # a regex made in code, not from a marker: nothing better is known than its source
            return f"text matching the regular expression {self.text!r}"
        return f'"{self.text}"' + (" (any case)" if self.ignore_case else "")


PatternLike = str | Pattern


def as_pattern(value: PatternLike) -> Pattern:
    """A pattern as given, or a plain substring."""
    return value if isinstance(value, Pattern) else Pattern(value)


def _ci(*texts: str) -> tuple[Pattern, ...]:
    return tuple(Pattern(text, ignore_case=True) for text in texts)


def marker(text: str, negation: str = "around") -> Pattern:
    """A marker matched by meaning: a phrase (any case, whole words, space/_/- between words) or `re:REGEX`
    (any case); a negated mention does not count. Reports name it by `text`. Raises ValueError for a bad one."""
    source, keyword = compile_marker(text)
    return Pattern(source, regex=True, ignore_case=True, keyword=keyword, negation=negation, label=text.strip())


def markers(texts: Iterable[str], negation: str = "around") -> tuple[Pattern, ...]:
    return tuple(marker(text, negation) for text in texts if text.strip())


def error_markers(texts: Iterable[str]) -> tuple[Pattern, ...]:
    """Error markers: "no error" does not count, but "ERROR: None" does (a level word is followed by the
    message, not by a state)."""
    return markers(texts, negation="before")


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


# --- finding patterns in raw bytes ------------------------------------------------------------------------------


class Matcher:
    """One pattern compiled for searching raw bytes."""

    def __init__(self, pattern: Pattern) -> None:
        self.pattern = pattern
        self.label = pattern.text
        # A keyword is lowercase: it is always searched in the lowered buffer.
        self.lowered = bool(pattern.keyword) or (pattern.ignore_case and not pattern.regex)
        self.regexes: list[re.Pattern[bytes]] = []
        self.needles: list[bytes] = []
        if pattern.keyword:
            # Every match holds the keyword: find it at memory speed, confirm each line with the pattern.
            self.needles = [form for form in _encoded_forms(pattern.keyword.lower()) if form]
            self.verify = True
            self.empty = not self.needles
            return
        sources = _encoded_forms(pattern.text.lower() if self.lowered else pattern.text)
        if pattern.regex:
            flags = re.MULTILINE | (re.IGNORECASE if pattern.ignore_case else 0)
            for source in sources:
                # `$` before CRLF: the bytes still hold the CR, the decoded line does not.
                source = re.sub(rb"(?<!\\)\$$", rb"\\r?$", source)
                with contextlib.suppress(re.error):
                    self.regexes.append(re.compile(source, flags))
            self.verify = True
        else:
            self.needles = [form for form in sources if form]
            self.verify = not pattern.text.isascii()
        self.empty = not self.needles and not self.regexes

    @property
    def search_key(self) -> tuple[object, ...]:
        """Matchers with equal keys find the same candidate lines."""
        return (self.lowered, tuple(self.needles), tuple(regex.pattern for regex in self.regexes))

    def rfind_in(self, haystack: bytes | bytearray, start: int, end: int) -> int:
        """Where the last needle in haystack[start:end] starts, or -1 (needles only: a regex is searched forwards)."""
        return max((haystack.rfind(needle, start, end) for needle in self.needles), default=-1)

    def find_from(self, haystack: bytes, start: int, end: int) -> int:
        best = -1
        for needle in self.needles:
            found = haystack.find(needle, start, end)
            if found != -1 and (best == -1 or found < best):
                best = found
        for regex in self.regexes:
            hit = regex.search(haystack, start, end)
            if hit is not None and (best == -1 or hit.start() < best):
                best = hit.start()
        return best


def _encoded_forms(text: str) -> list[bytes]:
    forms = [text.encode("utf-8")]
    with contextlib.suppress(UnicodeEncodeError):
        cp1252 = text.encode("cp1252")
        if cp1252 not in forms:
            forms.append(cp1252)
    return forms


def matches_in_buffer(
    buf: bytes, matchers: Sequence[Matcher], src: Source, end: int | None = None
) -> list[tuple[int, int, list[int]]]:
    """Lines of buf[:end] matching any matcher: (line start, line end, matcher indexes), in file order.

    Matchers searching the same bytes (markers sharing a keyword, e.g. every "live ..." phrase) are searched
    once; each candidate line is decoded once and confirmed for each of them.
    """
    limit = len(buf) if end is None else end
    newline = src.newline
    found: dict[int, tuple[int, list[int]]] = {}
    lowered: bytes | None = None
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, matcher in enumerate(matchers):
        if not matcher.empty:
            groups.setdefault(matcher.search_key, []).append(index)
    for indexes in groups.values():
        searcher = matchers[indexes[0]]
        if searcher.lowered:
            if lowered is None:
                lowered = buf.lower()
            haystack = lowered
        else:
            haystack = buf
        position = searcher.find_from(haystack, 0, limit)
        while position != -1:
            line_start = buf.rfind(newline, 0, position) + 1
            line_end = buf.find(newline, position, limit)
            if line_end == -1:
                line_end = limit
            text: str | None = None
            for index in indexes:
                matcher = matchers[index]
                if matcher.verify:
                    if text is None:
                        text = decode(src, buf[line_start:line_end])[0]
                    if not matcher.pattern.matches(text):
                        continue
                entry = found.get(line_start)
                if entry is None:
                    found[line_start] = (line_end, [index])
                elif index not in entry[1]:
                    entry[1].append(index)
            position = searcher.find_from(haystack, line_end + 1, limit)
    return [(start, end, sorted(indexes)) for start, (end, indexes) in sorted(found.items())]


def last_match_in_buffer(
    buf: bytes | bytearray, matchers: Sequence[Matcher], src: Source, begin: int = 0
) -> tuple[int, int] | None:
    """The last line of buf[begin:] matching any matcher: (line start, line end without its newline), or None.

    What `matches_in_buffer(...)[-1]` gives, found from the END with `rfind`, so reading a log backwards costs a
    search up to the match rather than every match of the buffer; matchers holding a regex are searched forwards.
    """
    newline = src.newline
    best: tuple[int, int] | None = None
    forwards = [matcher for matcher in matchers if matcher.regexes]
    if forwards:
        hits = matches_in_buffer(bytes(buf[begin:]), forwards, src)
        if hits:
            best = (begin + hits[-1][0], begin + hits[-1][1])
    lowered: bytes | bytearray | None = None
    for matcher in matchers:
        if matcher.empty or matcher.regexes:
            continue
        if matcher.lowered:
            if lowered is None:
                lowered = buf.lower()
            haystack = lowered
        else:
            haystack = buf
        end = len(buf)
        floor = best[0] if best is not None else begin  # only a later line can be the last
        while (position := matcher.rfind_in(haystack, floor, end)) != -1:
            found = buf.rfind(newline, begin, position)
            line_start = found + 1 if found != -1 else begin
            line_end = buf.find(newline, position)
            if line_end == -1:
                line_end = len(buf)
            if not matcher.verify or matcher.pattern.matches(decode(src, bytes(buf[line_start:line_end]))[0]):
                if best is None or line_start > best[0]:
                    best = (line_start, line_end)
                break
            end = line_start
    return best
