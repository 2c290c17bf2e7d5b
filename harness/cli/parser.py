"""The `harness` command line: one sub-command per command module, every pytest harness option accepted by each."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import USES
from harness.core.settings import SPECS

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
        "fake IB Gateway. The checks themselves run with `harness check` (or `pytest features/` in a clone).")
    from harness import __version__

    parser.add_argument("--version", "-V", action="version", version=f"harness {__version__}")
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

    from harness.cli import demo
    from harness.cli import rehearse as rehearse_command
    from harness.cli import report as report_command
    from harness.cli import watch as watch_command

    demo.add_arguments(_command(sub, "demo", demo.HELP))
    report_command.add_arguments(_command(sub, "report", report_command.HELP))
    watch_command.add_arguments(_command(sub, "watch", watch_command.HELP))
    rehearse_command.add_arguments(_command(sub, "rehearse", rehearse_command.HELP))

    sub.add_parser("check", help="Run the checks (the packaged features) from any folder, with every option of "
                   "`pytest features/` (`harness check --help`)")
    sub.add_parser("fake-gateway", help="Serve a fake IB Gateway on loopback for trying a bot against it "
                   "(`harness fake-gateway --help`)")
    sub.add_parser("fake-discord", help="Serve a fake Discord (channel and webhook) on loopback for rehearsing "
                   "the operator's path (`harness fake-discord --help`)")
    return parser

