"""`python -m harness.fakes.tws --world FILE --port 4002`: serve a fake IB Gateway until Ctrl+C."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from harness.fakes.ports import unavailable

from .server import MAX_SERVER_VERSION, MIN_SERVER_VERSION, FakeGateway
from .world import example_world_path, load_world


def build_parser(prog: str = "python -m harness.fakes.tws") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a fake IB Gateway (TWS socket protocol) on loopback.",
    )
    parser.add_argument(
        "--world",
        default=str(example_world_path("paper")),
        help="World TOML file (default: the shipped paper world)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="Loopback address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=4002, help="Port to bind; 0 picks a free one (default 4002)"
    )
    parser.add_argument(
        "--max-version",
        type=int,
        default=MAX_SERVER_VERSION,
        help=f"Highest server version to negotiate ({MIN_SERVER_VERSION}..{MAX_SERVER_VERSION})",
    )
    return parser


def run(argv: Sequence[str] | None = None, prog: str = "python -m harness.fakes.tws") -> int:
    """Serve until Ctrl+C. `prog` is the command the operator typed (`harness fake-gateway`), for --help."""
    args = build_parser(prog).parse_args(argv)
    try:
        world = load_world(args.world)
        gateway = FakeGateway(world, host=args.host, port=args.port, max_version=args.max_version)
        gateway.start()
    except (OSError, ValueError) as exc:
        busy = unavailable(prog, args.host, args.port, exc, "another gateway or fake?") \
            if isinstance(exc, OSError) else None
        print(busy or f"{prog}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    try:  # from here Ctrl+C stops it cleanly: the gateway already serves in its own thread while this line prints
        print(
            f"fake IB Gateway on {gateway.host}:{gateway.port} (server versions {gateway.min_version}.."
            f"{gateway.max_version}), accounts: {', '.join(world.account_ids)}. Ctrl+C stops it.",
            flush=True,
        )
        while True:
            time.sleep(0.5)  # short sleeps keep Ctrl+C responsive on every platform
    except KeyboardInterrupt:
        pass
    finally:
        gateway.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
