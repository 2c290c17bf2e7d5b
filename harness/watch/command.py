"""`harness watch --for 1h --every 5m`: rounds of the monitoring checks over the first hour."""

from __future__ import annotations

import argparse

HELP = ("Watch the first hour: re-run the monitoring checks every few minutes (log errors, the bot's connection, "
        "paper orders against the log, the live account, Discord), with a live table and an optional Discord alert")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's own options (the shared settings are added by harness.cli)."""


def run(settings, args: argparse.Namespace) -> int:
    from harness.cli import Refused

    raise Refused("not built yet")
