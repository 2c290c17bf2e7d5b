"""Console script `harness`: check, snapshot, switch, confirm, halt, report, watch, demo, fake-gateway, fake-discord.

The command line front end: the parser (`parser`), the exit statuses and the settings each command reads
(`common`), and one module per command, each with a `run`. Options and `HARNESS_*` variables are the plugin's
(one table in `harness.core.settings`), so one environment serves `harness` and `pytest`. Every failure is one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from harness.cli.common import EXIT_INTERNAL, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from harness.cli.parser import build_parser
from harness.core.refusal import Refused
from harness.core.settings import SPECS, Settings, SettingsError, resolve

__all__ = ["EXIT_INTERNAL", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "Refused", "build_parser", "main"]

# Each command's module (harness.cli.<module>), imported only when that command runs.
COMMANDS = {"snapshot": "snapshot", "switch": "switch", "confirm": "confirm", "halt": "halt", "demo": "demo",
            "report": "report", "watch": "watch", "rehearse": "rehearse"}
# Commands that parse their own argv (everything after the command's name is theirs).
RAW_COMMANDS = {"check": "check", "fake-gateway": "fake_gateway", "fake-discord": "fake_discord"}


def _settings(args: argparse.Namespace) -> Settings:
    cli = {spec.name: getattr(args, spec.name, None) for spec in SPECS}
    return resolve(cli, os.environ)



def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["--version"], ["-V"]):
        from harness import __version__

        print(f"harness {__version__}")
        return EXIT_OK
    if argv[:1] and argv[0] in RAW_COMMANDS:  # their own options (pytest's, a fake's), help included
        command = argv[0]
        try:
            module = importlib.import_module(f"harness.cli.{RAW_COMMANDS[command]}")
            return module.run(argv[1:])
        except Refused as exc:
            print(f"harness: {command}: {exc}", file=sys.stderr)
            return EXIT_REFUSED
        except Exception as exc:
            return _internal_error(command, exc, None)
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
        if args.command in COMMANDS:
            command = importlib.import_module(f"harness.cli.{COMMANDS[args.command]}")
            return command.run(settings, args)
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

