"""How a recorded reason reads wherever the verdict is told (the transition log, the board card, a refusal):
masked again, on one line, cut."""

from __future__ import annotations

from harness.core.redact import redact_text
from harness.evidence.attestations import Attestation

CONFIRM = "operator to confirm"
MAX_TEXT_CHARS = 300  # one reason or message


def clean(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """One line of evidence text as it may be shown: masked again (account ids, URL credentials, webhook tokens),
    on one line, cut, with nothing that breaks the Markdown around it."""
    line = " ".join(redact_text(str(text)).split())
    line = line.replace("```", "'''")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def without_confirm(why: str) -> str:
    """A reason without its leading "operator to confirm" (the box already says it)."""
    for prefix in (CONFIRM + ": ", CONFIRM):
        if why.lower().startswith(prefix):
            why = why[len(prefix):].lstrip()
    return why


def attested(attestation: Attestation) -> str:
    return f"attested by {clean(attestation.by, 80)} at {clean(attestation.at, 40)}"
