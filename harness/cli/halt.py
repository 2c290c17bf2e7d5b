"""`harness halt`: stop the bot, cancel every open order, list the positions to close, record an incident
or a drill."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import EXIT_OK, EXIT_REFUSED
from harness.core.refusal import Refused
from harness.core.settings import Settings

HALT_CLIENT_ID_OFFSET = 2  # the halt's own connection: --client-id + 2 (the test order uses + 1)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from harness.actions.halt import HaltRequest

    if not 0 < args.wait <= 600:
        raise Refused(f"--wait {args.wait:g} is not a number of seconds between 0 and 600")
    if args.drill and settings.env_file is None:
        return _drill_on_embedded_world(settings, args)
    env_values = None
    if settings.env_file is not None:
        from harness.probes.envfile import read_env

        facts = read_env(settings.env_file)
        if facts.problem:
            print(f"harness: note: the bot's .env cannot be read ({facts.problem}): paper cannot be proven")
        else:
            env_values = dict(facts.values)
    request = HaltRequest(settings.gateway.host, settings.gateway.port, settings.client_id + HALT_CLIENT_ID_OFFSET,
                          env_values, settings.bot_process, tuple(args.confirm_account), args.drill, args.wait,
                          settings.timeout, say=_say, live_port=settings.live_gateway_port,
                          bot_dir=settings.bot_home,
                          pid=args.pid)
    return _halt_and_record(settings.evidence_dir, request, args.reason, settings.env_file)


def _say(line: str) -> None:
    print(line, flush=True)


def _drill_on_embedded_world(settings: Settings, args: argparse.Namespace) -> int:
    """`harness halt --drill` with no bot given: rehearse on an embedded world started for the drill."""
    import tempfile

    from harness.actions.halt import HaltRequest
    from harness.probes.envfile import read_env
    from harness.world import drill_world

    print("harness: no --bot-dir or --bot-env: starting an embedded world to rehearse on...", flush=True)
    # The stand-in bot may still hold a file when the folder goes (Windows): that must not fail the drill.
    with tempfile.TemporaryDirectory(prefix="harness-drill-", ignore_cleanup_errors=True) as scratch:
        try:
            with drill_world(settings, Path(scratch)) as world:
                for note in world.notes:
                    print(f"harness: {note}")
                assert world.gateway is not None and world.env_file is not None
                request = HaltRequest(world.gateway.host, world.gateway.port,
                                      settings.client_id + HALT_CLIENT_ID_OFFSET, dict(read_env(world.env_file).values),
                                      world.bot_process, (), True, args.wait, settings.timeout, say=_say)
                return _halt_and_record(settings.evidence_dir, request, args.reason, settings.env_file)
        except RuntimeError as exc:  # the embedded world could not start (its message says why and what to do)
            raise Refused(f"the drill's embedded world could not start: {exc}") from None


def _halt_and_record(evidence_dir: Path, request, reason: str, env_file: Path | None = None) -> int:
    """Run the halt, record it (incident or drill; an incident in the bot's own log too, given its .env) and print
    what was done and what is left. 0 only when complete."""
    from harness.actions.halt import halt
    from harness.evidence import incidents as incident

    result = halt(request)
    kind = "drill" if request.drill else "incident"
    reason = reason.strip() or ("drill" if request.drill else "no reason given (--reason)")
    record = result.record(reason)
    try:
        incident.append(evidence_dir, record)
        recorded, kept = f"{kind} recorded -> {evidence_dir / incident.FILE_NAME}", True
    except (OSError, ValueError) as exc:
        recorded, kept = f"the {kind} could NOT be recorded in {evidence_dir}: {exc}", False
    if kind == "incident" and env_file is not None:
        try:
            recorded += f" and {incident.record_for_bot(env_file, record)}"
        except (OSError, ValueError) as exc:
            recorded, kept = f"{recorded}; NOT in the bot's own log beside {env_file}: {exc}", False
    if result.refused:
        raise Refused(f"{result.refused}. Nothing was done; {recorded}")
    print(f"{kind.upper()}: {result.outcome}")
    for warning in result.warnings:
        print(f"  {warning}")
    for gateway in result.gateways:
        where = "LIVE" if gateway.live else "paper" if gateway.accounts else "unread"
        accounts = f" ({', '.join(gateway.accounts)})" if gateway.accounts else ""
        print(f"  {where} gateway {gateway.gateway}{accounts}, from {gateway.why}: {gateway.outcome}")
    for order in result.open_before:
        print(f"  was open: {order}")
    for line in result.done:
        print(f"  done: {line}")
    for line in result.left:
        print(f"  LEFT FOR YOU: {line}")
    print(f"  {recorded}")
    if kind == "incident":
        print(f"  the transition is locked until `{incident.RESOLVE_COMMAND}`")
    return EXIT_OK if result.complete and kept else EXIT_REFUSED

