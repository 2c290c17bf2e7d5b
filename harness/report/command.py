"""`harness report`: the HTML report, the transition log and the board card from the latest run of each phase."""

from __future__ import annotations

import argparse

HELP = ("Write the evidence a person opens: one self-contained HTML report, the transition log "
        "(docs/Task_4_3_Transition_Log.md) and the board card, from the latest run of each phase")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's own options (the shared settings are added by harness.cli)."""


def run(settings, args: argparse.Namespace) -> int:
    from harness.cli import Refused

    raise Refused("not built yet")
