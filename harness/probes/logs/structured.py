"""JSON-lines logs (structlog's JSONRenderer, loguru's `serialize=True`, python-json-logger): a record's message
and fields. A line that is not a JSON object is its own message.

Searching needs none of this (markers and patterns are found in the raw line, so a structured field such as
`"trading_mode": "live"` is seen too); it serves what reads a line's WORDS: the values of the configuration
line, the gateway address, and the excerpt a failure message quotes. Times are read in `timestamps`.
"""

from __future__ import annotations

import json
from typing import Any

# structlog, python-json-logger / logging, others; last, loguru's formatted "text" when its record has no message
_MESSAGE_KEYS = ("event", "message", "msg", "text")


def record_of(text: str) -> dict[str, Any] | None:
    """The JSON object a line holds, or None for a plain text line."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        record = json.loads(stripped)
    except (ValueError, RecursionError):  # not JSON after all, or nested too deep
        return None
    return record if isinstance(record, dict) else None


def message_text(text: str) -> str:
    """The message of a log line: a JSON record's "event"/"message"/"msg" (loguru: record.message), else the
    line as it is."""
    record = record_of(text)
    if record is None:
        return text
    inner = record.get("record")
    if isinstance(inner, dict) and isinstance(inner.get("message"), str):  # loguru serialize=True
        return inner["message"]
    for key in _MESSAGE_KEYS:
        if isinstance(record.get(key), str):
            return record[key]
    return text


def fields_of(text: str) -> dict[str, Any]:
    """A JSON record's top-level fields (loguru: its record's "extra" too); {} for a plain line."""
    record = record_of(text)
    if record is None:
        return {}
    inner = record.get("record")
    extra = inner.get("extra") if isinstance(inner, dict) else None
    return {**record, **extra} if isinstance(extra, dict) else record
