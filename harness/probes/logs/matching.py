"""Finding the lines that match patterns in raw bytes, and decoding only those.

Each pattern's encoded forms (UTF-8 and cp1252) are found with `bytes.find` (or a bytes regex) over whole
buffers, which runs at memory speed; only matching lines are decoded, and a pattern that is not plain ASCII
(or a regex) is confirmed on the decoded line.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence

from harness.probes.logs.encoding import decode_line
from harness.probes.logs.files import _Source
from harness.probes.logs.patterns import Pattern


class _Matcher:
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


def _strip_eol(raw: bytes, newline: bytes) -> bytes:
    if raw.endswith(newline):
        raw = raw[:-1]
    if newline == b"\n" and raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw


def _decode(src: _Source, raw: bytes) -> tuple[str, str, bool]:
    raw = _strip_eol(raw, src.newline)
    if src.encoding.wide:
        text = raw.decode("utf-8", "replace")
        return text, src.encoding.codec, "\ufffd" in text
    return decode_line(raw)


def _matches_in_buffer(
    buf: bytes, matchers: Sequence[_Matcher], src: _Source, end: int | None = None
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
                        text = _decode(src, buf[line_start:line_end])[0]
                    if not matcher.pattern.matches(text):
                        continue
                entry = found.get(line_start)
                if entry is None:
                    found[line_start] = (line_end, [index])
                elif index not in entry[1]:
                    entry[1].append(index)
            position = searcher.find_from(haystack, line_end + 1, limit)
    return [(start, end, sorted(indexes)) for start, (end, indexes) in sorted(found.items())]


def _split_lines(buf: bytes, newline: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset in buf, raw line with its newline) for every line of a buffer."""
    start = 0
    size = len(buf)
    while start < size:
        end = buf.find(newline, start)
        end = size if end == -1 else end + 1
        yield start, buf[start:end]
        start = end
