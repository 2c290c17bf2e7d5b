"""How evidence text appears in the transition log: masked again, on one line, cut; times in ET; file:line."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import PurePosixPath, PureWindowsPath

from harness.verdict.wording import CONFIRM, MAX_TEXT_CHARS, attested, clean, without_confirm

__all__ = ["CONFIRM", "EASTERN", "MAX_TEXT_CHARS", "attested", "clean", "file_line", "when", "without_confirm"]

EASTERN = "America/New_York"


def file_line(path: object, lineno: object) -> str:
    """`bot.log:6`: the file's name (the folder is the operator's machine's business) and the line."""
    name = str(path or "")
    name = PureWindowsPath(name).name if "\\" in name else PurePosixPath(name).name
    return f"{name}:{lineno}" if lineno not in (None, "") else name


def when(text: object) -> str:
    """`15:46 ET, 2026-11-25 (20:46:11 UTC)` for an ISO instant, as the template writes times; the text itself
    when it is not one."""
    if not text:
        return "not recorded"
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return clean(text)
    if moment.tzinfo is None:
        return clean(text)
    utc = moment.astimezone(timezone.utc)
    try:
        from zoneinfo import ZoneInfo

        eastern = moment.astimezone(ZoneInfo(EASTERN))
    except Exception:  # no time zone data on this machine: UTC alone is still exact
        return f"{utc:%Y-%m-%d %H:%M:%S} UTC"
    return f"{eastern:%H:%M} ET, {eastern:%Y-%m-%d} ({utc:%H:%M:%S} UTC)"
