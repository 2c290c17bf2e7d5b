"""How a secret value can appear in text, written independently of harness.core.redact so that tests do not grade
redaction with its own list: raw, Python-escaped, JSON-escaped, URL-encoded, as a bytes repr, escaped twice,
each of its lines, and any piece of it long enough to matter."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

# A Discord token as an operator might paste it wrong: a newline, both quotes, Latin-1 and non-Latin-1.
WEIRD_TOKEN = 'MTk4NjIy.Gx"q\'Zé€✓\nsecond-line_Ab9Cd'
PIECE_CHARS = 10  # a piece of a secret this long, in any form, counts as a leak


def written_forms(value: str) -> dict[str, str]:
    forms = {
        "raw": value,
        "repr": repr(value)[1:-1],
        "ascii": ascii(value)[1:-1],
        "json": json.dumps(value)[1:-1],
        "json (utf-8)": json.dumps(value, ensure_ascii=False)[1:-1],
        "url": quote(value, safe=""),
        "url (path)": quote(value),
        "url (form)": quote_plus(value),
        "bytes repr": repr(value.encode("utf-8"))[2:-1],
        "repr of repr": repr(repr(value))[1:-1],
        "json of repr": json.dumps(repr(value))[1:-1],
    }
    for number, line in enumerate(value.splitlines()):
        if len(line) >= 4:
            forms[f"line {number + 1}"] = line
    return forms


def leaks(text: str, value: str, *, pieces: bool = False) -> list[str]:
    """The names of the forms of `value` found in `text`; with `pieces`, also any PIECE_CHARS-long piece of
    its raw, repr and JSON forms (what a cut or a line split could leave)."""
    found = [name for name, form in written_forms(value).items() if form in text]
    if pieces:
        for name in ("raw", "repr", "json"):
            form = written_forms(value)[name]
            for start in range(max(len(form) - PIECE_CHARS + 1, 0)):
                piece = form[start:start + PIECE_CHARS]
                if "\n" not in piece and piece in text:
                    found.append(f"{name} piece {piece!r}")
                    break
    return found
