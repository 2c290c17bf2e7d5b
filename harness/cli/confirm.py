"""`harness confirm ITEM --by NAME`: what only a person can attest, and the resolution of an incident."""

from __future__ import annotations

import argparse

from harness.cli.common import EXIT_OK, EXIT_USAGE
from harness.core.refusal import Refused
from harness.core.settings import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    from harness.core import dod
    from harness.evidence import attestations as attest
    from harness.verdict import record as verdict_file

    if args.item and args.item.strip().lower() == "screenshot":
        from harness.report import screenshot

        return screenshot.confirm(settings, args)
    if args.list or not args.item:
        for item in dod.ITEMS:
            kind = "" if item.manual else " (stands in only for a check that could not look)"
            print(f"{item.id:28} {item.text}{kind}")
        return EXIT_OK if args.list else EXIT_USAGE
    item_id = dod.normalize_id(args.item)
    if item_id not in dod.BY_ID:
        raise Refused(f"{args.item!r} is not a checklist item; `harness confirm --list` shows them")
    if not args.by or not args.by.strip():
        raise Refused("say who attests it: --by NAME")
    refusal = verdict_file.attestation_refusal(settings.evidence_dir, item_id)
    if refusal:
        raise Refused(refusal)
    if item_id == "incident_resolved":
        _resolve_incident(settings, args.by, args.note)
    try:
        record = attest.record(settings.evidence_dir, item_id, args.by, args.note)
    except (OSError, ValueError) as exc:
        raise Refused(f"cannot record the attestation in {settings.evidence_dir}: {exc}") from None
    print(f"{record.item} confirmed by {record.by} at {record.at} -> {settings.evidence_dir}")
    return EXIT_OK


def _resolve_incident(settings: Settings, by: str, note: str) -> None:
    """Close the open incident in the evidence directory and, given the bot (--bot-dir), in the bot's own log."""
    from harness.evidence import incidents as incident

    closed_any = False
    for folder in incident.places(settings.evidence_dir, settings.env_file):
        pending, problem = incident.open_incident(folder)
        if pending is None and problem is None:
            continue
        try:
            closed = incident.resolve(folder, by, note)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        except OSError as exc:
            raise Refused(f"cannot record the resolution in {folder}: {exc}") from None
        closed_any = True
        print(f"closed: {closed.reason} -> {folder / incident.FILE_NAME}")
    if not closed_any:
        where = " or the bot's own log" if settings.env_file is not None else " (give --bot-dir for the bot's own log)"
        raise Refused(f"no incident is open in {settings.evidence_dir}{where}: nothing to resolve")

