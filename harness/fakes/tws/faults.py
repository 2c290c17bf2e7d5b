"""The fake gateway's fault knobs: a frozen value the test thread replaces and the sessions read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Faults:
    """answer_delay: seconds before each answer after startApi; drop_mid_sync: close the socket on the first
    sync request; silent_handshake: accept TCP, read the hello, never answer; silent_pnl: accept reqPnL
    subscriptions but never send a pnl message."""

    answer_delay: float = 0.0
    drop_mid_sync: bool = False
    silent_handshake: bool = False
    silent_pnl: bool = False
