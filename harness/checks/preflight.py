"""Preflight checks (the seed's Step 0 and Step 1) that need no gateway."""

from __future__ import annotations

from datetime import datetime

from harness.actions.attest import Attestation
from harness.checks import CheckFailed, CouldNotLook
from harness.dod import BY_ID
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


def check_bot_not_running(processes: ProcessFacts) -> None:
    if not processes.looked:
        raise CouldNotLook(processes.problem or "processes not inspected")
    if processes.matches:
        pids = ", ".join(str(p.pid) for p in processes.matches)
        raise CheckFailed(
            "The bot is still running",
            f"process {pids} matches {processes.pattern!r}: stop the bot before editing its .env",
        )
