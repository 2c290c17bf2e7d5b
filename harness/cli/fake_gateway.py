"""`harness fake-gateway`: a fake IB Gateway on loopback for trying a bot against it (its own options)."""

from __future__ import annotations

from harness.core.refusal import Refused


def run(argv: list[str]) -> int:
    try:
        from harness.fakes.tws.__main__ import run
    except ImportError:
        raise Refused("the fake gateway is not available in this build") from None
    return int(run(argv, prog="harness fake-gateway") or 0)

