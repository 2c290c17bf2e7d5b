"""How evidence text appears in the transition log: masked again, on one line, cut; times in ET; file:line."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import PurePosixPath, PureWindowsPath

from harness.actions.attest import Attestation
from harness.evidence.redact import redact_text

CONFIRM = "operator to confirm"
MAX_TEXT_CHARS = 300  # one reason or message in the log
EASTERN = "America/New_York"


def clean(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """One line of evidence text as it may appear in the log: masked again (account ids, URL credentials,
    webhook tokens), on one line, cut, with nothing that breaks the Markdown around it."""
    line = " ".join(redact_text(str(text)).split())
    line = line.replace("```", "'''")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def without_confirm(why: str) -> str:
    """A reason without its leading "operator to confirm" (the box already says it)."""
    for prefix in (CONFIRM + ": ", CONFIRM):
        if why.lower().startswith(prefix):
            why = why[len(prefix):].lstrip()
    return why


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


def attested(attestation: Attestation) -> str:
    return f"attested by {clean(attestation.by, 80)} at {clean(attestation.at, 40)}"
