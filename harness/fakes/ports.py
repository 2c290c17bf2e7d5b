"""What a fake says when its port cannot be had: one line an operator can act on, never a traceback."""

from __future__ import annotations

import errno

# EADDRINUSE as Linux and macOS say it, and as Windows' sockets do (WSAEADDRINUSE).
ADDRESS_IN_USE = {errno.EADDRINUSE, 10048}
# Windows: the port is in a range it reserves (Hyper-V, WSL, Docker) or another program holds it exclusively.
ACCESS_FORBIDDEN = 10013  # WSAEACCES


def where(host: str, port: int) -> str:
    """`127.0.0.1:4002`, `[::1]:4002`."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def unavailable(prog: str, host: str, port: int, exc: OSError, holder: str) -> str | None:
    """The one line for a port that is taken (`holder`: who may hold it, e.g. "another gateway or fake?"), or None
    when `exc` is another fault."""
    codes = {exc.errno, getattr(exc, "winerror", None)}
    if codes & ADDRESS_IN_USE:
        return f"{prog}: {where(host, port)} is already in use ({holder}): choose another --port"
    if ACCESS_FORBIDDEN in codes:
        return (f"{prog}: {where(host, port)} cannot be used (Windows reserves it, or another program holds it; "
                "`netsh interface ipv4 show excludedportrange protocol=tcp` lists the reserved ranges): choose another "
                "--port")
    return None
