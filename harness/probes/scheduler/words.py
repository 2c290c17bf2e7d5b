"""Command lines cut into words, as cmd, PowerShell and POSIX shells quote them."""

from __future__ import annotations

import re
import shlex

ASSIGNMENT = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.S)  # NAME=value, one word of a shell or a unit file


def program_name(word: str) -> str:
    """The file name of a program as written (`C:\\bot\\python.exe` -> `python.exe`), lower case."""
    return re.split(r"[\\/]", word.strip().strip("\"'"))[-1].lower()


def split_words(text: str, windows: bool) -> list[str]:
    """Words of one simple command; quotes removed. Unbalanced quotes fall back to spaces."""
    try:
        words = shlex.split(text, posix=not windows)
    except ValueError:
        words = text.split()
    return [w[1:-1] if windows and len(w) >= 2 and w[0] == w[-1] and w[0] in "\"'" else w for w in words]


def unquote_whole(text: str) -> str:
    text = text.strip()
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def outside_quotes(text: str, separators: str, quotes: str = "\"'") -> list[str]:
    """Split `text` at any of the (single-character) `separators` that is not inside `quotes`."""
    parts, current, quote = [], [], ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in quotes:
            quote = char
        elif char in separators:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts
