"""Console script `harness`: snapshot, switch, confirm, halt, report, watch, demo, fake-gateway.

Options and `HARNESS_*` variables are the plugin's (one table in `harness.core.settings`), so one environment
serves `harness` and `pytest`. Every failure is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from harness.core import clock
from harness.core.refusal import Refused
from harness.core.settings import SPECS, Settings, SettingsError, resolve

__all__ = ["EXIT_INTERNAL", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "Refused", "build_parser", "main"]

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


# The settings each command reads. Every other pytest harness option is accepted too (and ignored), so one
# command line or one set of HARNESS_* variables serves `harness` and `pytest` alike.
USES: dict[str, frozenset[str]] = {
    "snapshot": frozenset({"bot_dir", "bot_env", "baseline", "evidence_dir"}),
    "switch": frozenset({"bot_dir", "bot_env", "baseline", "evidence_dir", "bot_process"}),
    "confirm": frozenset({"evidence_dir", "bot_dir", "bot_env"}),
    "halt": frozenset({"bot_dir", "bot_env", "evidence_dir", "bot_process", "gateway", "client_id", "timeout",
                       "live_gateway_port"}),
    "demo": frozenset({"evidence_dir"}),
    "report": frozenset({"bot_dir", "bot_env", "evidence_dir", "transition_log", "timeout"}),
    # The watch re-runs the monitoring checks: it reads what `pytest features/` reads.
    "watch": frozenset(spec.name for spec in SPECS) - {"phase", "place_test_order"},
}
HALT_CLIENT_ID_OFFSET = 2  # the halt's own connection: --client-id + 2 (the test order uses + 1)
SHARED_EPILOG = ("Every other option of `pytest features/` in the 'transition harness' group (--live-gateway, "
                 "--gateway, --phase, ...) is accepted here too and not used by this command.")


def _shared_options(command: str) -> argparse.ArgumentParser:
    shared = argparse.ArgumentParser(add_help=False)
    group = shared.add_argument_group("settings (the same options as pytest's, and HARNESS_* variables)")
    for spec in SPECS:
        help_text = f"{spec.help} (env: {spec.env})" if spec.name in USES[command] else argparse.SUPPRESS
        if spec.flag:
            group.add_argument(spec.option, dest=spec.name, action="store_true", default=None, help=help_text)
        else:
            group.add_argument(spec.option, dest=spec.name, default=None, metavar="VALUE", help=help_text)
    return shared


def _command(sub, name: str, help_text: str) -> argparse.ArgumentParser:
    # No abbreviations: with every pytest option accepted, `--force` must never be read as `--force-...`.
    return sub.add_parser(name, allow_abbrev=False, parents=[_shared_options(name)], epilog=SHARED_EPILOG,
                          help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness", description="The paper-trading transition harness: safe .env switch, attestations, "
        "fake IB Gateway. The checks themselves run with `pytest features/`.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    snapshot = _command(sub, "snapshot", "Record the baseline of the bot's .env before the switch (secret values "
                        "only as SHA-256); written once, bound to that .env")
    snapshot.add_argument("--replace", action="store_true",
                          help="replace an existing baseline (the keys whose recorded value would change are listed)")

    switch = _command(sub, "switch", "Switch the bot's .env to paper or dry-run: only DRY_RUN and PAPER_TRADING "
                      "change; backup, atomic write, masked diff")
    switch.add_argument("mode", choices=["paper", "dry-run"], help="the mode to switch to")
    switch.add_argument("--port", type=int, default=None, help="also set IBKR_PORT (paper: 4002 or 7497)")
    switch.add_argument("--dry-run", action="store_true", help="show the change, write nothing")
    switch.add_argument("--force-market-hours", action="store_true",
                        help="switch even while the NYSE regular session is open")
    switch.add_argument("--force-running-bot", action="store_true",
                        help="switch even while a process matching --bot-process is running")
    switch.add_argument("--force", action="store_true", help=argparse.SUPPRESS)  # gone: names the two above

    confirm = _command(sub, "confirm", "Record what only a person can attest")
    confirm.add_argument("item", help="checklist item id (see `harness confirm --list`)", nargs="?")
    confirm.add_argument("--by", help="who attests it")
    confirm.add_argument("--note", default="", help="a note (required for incident_resolved: the root cause)")
    confirm.add_argument("--list", action="store_true", help="list the items a person attests")
    confirm.add_argument("--file", type=Path, default=None,
                         help="with `screenshot`: the operator's own screenshot of the paper account (PNG or JPEG), "
                         "used in the transition log and report instead of the picture drawn from the gateway")

    halt = _command(sub, "halt", "Emergency halt: stop the bot, cancel every open order on the gateway (one global "
                    "cancel), list the positions to close by hand, record an incident (which locks the transition)")
    halt.add_argument("--reason", default="", help="why the halt was called (recorded with the incident)")
    halt.add_argument("--drill", action="store_true",
                      help="rehearse it on the paper gateway (on an embedded world it starts itself when no "
                      "--bot-dir/--bot-env is given); recorded as a drill, which locks nothing")
    halt.add_argument("--confirm-account", action="append", default=[], metavar="ACCOUNT",
                      help="on a gateway logged into a LIVE account: its full id, typed by you (once per live "
                      "account); the halt then only cancels orders there")
    halt.add_argument("--pid", type=int, default=None,
                      help="the bot's process, when several match --bot-process (they are listed) or it runs outside "
                      "--bot-dir")
    halt.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                      help="how long the cancelled orders may take to go (default 30)")

    from harness import demo
    from harness.report import command as report_command
    from harness.watch import command as watch_command

    demo.add_arguments(_command(sub, "demo", demo.HELP))
    report_command.add_arguments(_command(sub, "report", report_command.HELP))
    watch_command.add_arguments(_command(sub, "watch", watch_command.HELP))

    sub.add_parser("fake-gateway", help="Serve a fake IB Gateway on loopback for trying a bot against it "
                   "(`harness fake-gateway --help`)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    cli = {spec.name: getattr(args, spec.name, None) for spec in SPECS}
    return resolve(cli, os.environ)


def _env_path(settings: Settings) -> Path:
    path = settings.env_file
    if path is None:
        raise Refused("which .env? give --bot-dir DIR or --bot-env FILE (or HARNESS_BOT_DIR)")
    return path


def cmd_snapshot(settings: Settings, args: argparse.Namespace) -> int:
    from harness.actions.baseline import BaselineExists, in_paper_mode, snapshot, write_baseline
    from harness.probes.envfile import read_env

    facts = read_env(_env_path(settings))
    if facts.problem:
        raise Refused(facts.problem)
    if in_paper_mode(facts):
        raise Refused(
            f"{facts.path} is already in paper mode (DRY_RUN=false, PAPER_TRADING=true): a baseline records the file "
            "before the switch, or 'no other setting changed' would bless whatever changed with it. Switch back "
            "(`harness switch dry-run`), undo anything else changed since, then take the snapshot"
        )
    baseline = snapshot(facts)
    target = settings.baseline_file
    if target.exists():
        _print_replacement(target, facts)
        if not args.replace:
            raise Refused(f"a baseline already exists at {target}: it is written once, so a later snapshot cannot "
                          "hide a change. `--replace` replaces it (what it would change is listed above)")
    try:
        write_baseline(baseline, target, replace=args.replace)
    except BaselineExists as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:
        raise Refused(f"cannot write the baseline {target}: {exc.strerror}") from None
    secrets = sum(1 for entry in baseline.keys.values() if entry.get("secret"))
    print(f"baseline of {baseline.env_path} ({', '.join(f'{k}={v}' for k, v in baseline.mode.items())}): "
          f"{len(baseline.keys)} keys ({secrets} secret, stored as SHA-256) -> {target}")
    return EXIT_OK


def _print_replacement(target: Path, facts) -> None:
    """What replacing the baseline at `target` with one of `facts` would change (secret values masked)."""
    from harness.actions.baseline import diff, load_baseline

    existing, problem = load_baseline(target)
    if existing is None:
        print(f"the existing baseline cannot be read ({problem}); replacing it records {facts.path} as it is now")
        return
    print(f"{target} holds the baseline of {existing.env_path} taken at {existing.taken_at}; replacing it would "
          "record:")
    difference = diff(existing, facts)
    here = facts.resolved or facts.path
    if difference.unusable and existing.env_path != here:
        print(f"  the .env: {existing.env_path} -> {here}")
    for change in difference.changes:
        before = "(absent)" if change.change == "added" else change.before
        after = "(absent)" if change.change == "removed" else change.after
        print(f"  {change.key}: {before} -> {after}")
    if not difference.changes:
        print("  no key changes")


def cmd_switch(settings: Settings, args: argparse.Namespace) -> int:
    from harness.actions import incident
    from harness.actions.rollback import plan_rollback
    from harness.actions.switch import apply_switch, plan_switch
    from harness.core.redact import mask_value
    from harness.probes.envfile import EnvEditError, read_bool, read_env

    env_path = _env_path(settings)
    if args.mode == "paper":
        locked = incident.lock_reason(settings.evidence_dir, env_path)
        if locked:
            raise Refused(f"not switching to paper: {locked}")
    try:
        if args.mode == "dry-run" and args.port is None:
            plan = plan_rollback(env_path, settings.baseline_file)
        else:
            plan = plan_switch(env_path, args.mode, args.port)
    except EnvEditError as exc:
        raise Refused(str(exc)) from None
    if not plan.changed:
        print(f"{env_path} is already in {args.mode} mode; nothing to do")
        return EXIT_OK
    print(f"{env_path}:")
    for key, old, new in plan.changes:
        print(f"  {key}: {mask_value(key, old) if old is not None else '(absent)'} -> {mask_value(key, new)}")
    for note in plan.notes:
        print(f"  note: {note}")
    if args.dry_run:
        print("dry run: nothing written")
        return EXIT_OK
    if not args.force_market_hours:
        _refuse_if_market_open()
    if not args.force_running_bot:
        _refuse_if_bot_running(settings.bot_process, settings.bot_home)
    _baseline_before_switch(settings, env_path, args.mode)
    try:
        backup = apply_switch(plan)
    except EnvEditError as exc:
        raise Refused(str(exc)) from None
    after = read_env(env_path)
    shown = ", ".join(f"{key}={read_bool(after, key).raw}" for key in ("DRY_RUN", "PAPER_TRADING"))
    print(f"backup -> {backup}")
    print(f"re-read {env_path}: {shown}")
    return EXIT_OK


def _baseline_before_switch(settings: Settings, env_path: Path, mode: str) -> None:
    """An existing baseline must be this bot's pre-switch one; without one, switching to paper records it."""
    from harness.actions.baseline import load_baseline, snapshot, unusable_for, write_baseline
    from harness.probes.envfile import read_env

    target = settings.baseline_file
    before = read_env(env_path)
    if target.exists():
        existing, problem = load_baseline(target)
        why = problem if existing is None else unusable_for(existing, before)
        if why:
            raise Refused(f"{why}; nothing changed. Record this bot's baseline first (`harness snapshot --replace`, "
                          "or another --baseline)")
        return
    if mode != "paper":
        return  # a rollback records no baseline: it would be one of the switched file
    try:
        write_baseline(snapshot(before), target)
    except OSError as exc:
        raise Refused(f"cannot write the baseline {target}: {exc.strerror}; nothing changed") from None
    print(f"baseline of the file before the switch -> {target}")


def _now() -> datetime:
    return clock.now()


def _refuse_if_market_open() -> None:
    from harness.probes.market import session_at

    session = session_at(_now())
    if session.is_open:
        raise Refused(
            f"the NYSE regular session is open now ({session.open_at:%H:%M}-{session.close_at:%H:%M} ET): the "
            "seed says switch outside market hours; wait, or use --force-market-hours"
        )


def _refuse_if_bot_running(pattern: str, bot_dir: Path | None) -> None:
    from harness.probes.processes import find_bot_processes

    facts = find_bot_processes(pattern, bot_dir)
    if facts.bots:
        raise Refused(f"the bot looks alive ({'; '.join(p.describe() for p in facts.bots)}, matching {pattern!r}): "
                      "stop it first, or use --force-running-bot")
    if facts.hidden_python:
        raise Refused(f"Python process(es) {', '.join(map(str, facts.hidden_python))} hide their command line from "
                      "this user: any may be the bot; run as the bot's user or as administrator, or use "
                      "--force-running-bot once you have seen the bot stopped")


def cmd_confirm(settings: Settings, args: argparse.Namespace) -> int:
    from harness.actions import attest
    from harness.core import dod
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
    from harness.actions import incident

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


def cmd_halt(settings: Settings, args: argparse.Namespace) -> int:
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
    from harness.actions import incident
    from harness.actions.halt import halt

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


def cmd_fake_gateway(argv: list[str]) -> int:
    try:
        from harness.fakes.tws.__main__ import run
    except ImportError:
        raise Refused("the fake gateway is not available in this build") from None
    return int(run(argv, prog="harness fake-gateway") or 0)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["fake-gateway"]:  # its own options, help included
        try:
            return cmd_fake_gateway(argv[1:])
        except Refused as exc:
            print(f"harness: fake-gateway: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        except Exception as exc:
            return _internal_error("fake-gateway", exc, None)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "force", False):
        print("harness: switch: --force is gone: it overrode two safeguards at once. Name the one you mean: "
              "--force-market-hours (switch while the NYSE regular session is open) and/or --force-running-bot "
              "(switch while the bot's process runs)", file=sys.stderr)
        return EXIT_USAGE
    settings: Settings | None = None
    try:
        settings = _settings(args)
        if args.command == "snapshot":
            return cmd_snapshot(settings, args)
        if args.command == "switch":
            return cmd_switch(settings, args)
        if args.command == "confirm":
            return cmd_confirm(settings, args)
        if args.command == "halt":
            return cmd_halt(settings, args)
        if args.command == "demo":
            from harness import demo

            return demo.run(settings, args)
        if args.command == "report":
            from harness.report import command as report_command

            return report_command.run(settings, args)
        if args.command == "watch":
            from harness.watch import command as watch_command

            return watch_command.run(settings, args)
    except SettingsError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Refused as exc:
        print(f"harness: {args.command}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _internal_error(args.command, exc, settings)
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


def _internal_error(command: str, exc: Exception, settings: Settings | None) -> int:
    """A defect, not a fault of the world: one redacted line (a raw traceback may quote a token from the .env
    or a full account id); the traceback, redacted, only with HARNESS_DEBUG=1."""
    import traceback

    from harness.core.redact import SecretSet, redact_excerpt, redact_text

    try:
        from harness.world import known_secrets

        secrets = (known_secrets(settings.env_file, settings.discord_token) if settings is not None
                   else known_secrets(None, os.environ.get("DISCORD_BOT_TOKEN")))
    except Exception:  # an unreadable .env: the patterns (account ids, webhooks, bot tokens) still apply
        secrets = SecretSet([os.environ.get("DISCORD_BOT_TOKEN")])
    if os.environ.get("HARNESS_DEBUG") == "1":
        print(redact_text("".join(traceback.format_exception(exc)), secrets), file=sys.stderr, end="")
    message = " ".join(redact_excerpt(f"{type(exc).__name__}: {exc}", secrets, 500).splitlines())
    print(f"harness: {command}: internal error: {message} (run with HARNESS_DEBUG=1 for the traceback)",
          file=sys.stderr)
    return EXIT_INTERNAL


if __name__ == "__main__":
    # `python -m harness.cli` runs this file as __main__: the commands' own `from harness.cli import Refused` would
    # then name another class than the one this copy's main() catches (a refusal became a traceback). Run the
    # importable module's main instead.
    from harness.cli import main as _importable_main

    sys.exit(_importable_main())
