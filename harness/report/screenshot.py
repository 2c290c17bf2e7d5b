"""`harness confirm screenshot --file F`: the operator's own screenshot of the paper account."""

from __future__ import annotations

import argparse


def confirm(settings, args: argparse.Namespace) -> int:
    from harness.cli import Refused

    raise Refused("not built yet")
