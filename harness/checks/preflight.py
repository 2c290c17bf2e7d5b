"""Preflight checks (the seed's Step 0 and Step 1) that need no gateway."""

from __future__ import annotations

from datetime import datetime

from harness.checks import CheckFailed, CouldNotLook, advice
from harness.core.dod import BY_ID
from harness.evidence.attestations import Attestation
from harness.probes.market import SessionFacts
from harness.probes.processes import ProcessFacts


def check_attested(attestations: dict[str, Attestation], item: str) -> Attestation:
    """A manual item passes only on a recorded attestation."""
    if item in attestations:
        return attestations[item]
    text = BY_ID[item].text if item in BY_ID else item
    raise CouldNotLook(f"{text}. Record it with `harness confirm {item} --by NAME`")


def check_shutdown_outside_session(shutdown_at: datetime | None, source: str, session: SessionFacts | None) -> None:
    if shutdown_at is None or session is None:
        raise CouldNotLook(f"when the bot was stopped is not known ({source}); give --shutdown-time")
    if session.is_open:
        raise CheckFailed(
            "Bot stopped during market hours",
            f"the bot stopped at {session.at:%Y-%m-%d %H:%M %Z} ({source}), inside the NYSE regular session "
            f"({session.open_at:%H:%M}-{session.close_at:%H:%M} ET): orders may have been left half-handled",
        )


def check_bot_not_running(processes: ProcessFacts) -> str | None:
    """No process of the bot runs (those outside its directory are other programs: named, not failed). A Python
    process whose command line this user cannot read could be the bot: operator to confirm."""
    if not processes.looked:
        raise CouldNotLook(processes.problem or "processes not inspected")
    if processes.bots:
        raise CheckFailed(
            "The bot is still running",
            "; ".join(p.describe() for p in processes.bots) + f" (matching {processes.pattern!r}): stop the bot "
            f"({advice.stop_the_bot()}) before editing its .env",
        )
    if processes.hidden_python:
        raise CouldNotLook(f"Python process(es) {', '.join(map(str, processes.hidden_python))} hide their command "
                           "line from this user (a task run with highest privileges): any may be the bot; run as "
                           "the bot's user or as administrator, or confirm by hand that the bot is stopped "
                           f"({advice.find_the_process()})")
    if processes.elsewhere:
        return ("not the bot (outside its directory): " + "; ".join(p.describe() for p in processes.elsewhere))
    return None
