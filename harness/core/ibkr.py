"""What Interactive Brokers fixes, shared by every layer: which ports and account ids are paper and which
are live, and the client id the harness connects with. The one place these facts live; no I/O, no imports
beyond the standard library, so settings and checks can use them without loading ib_async."""

from __future__ import annotations

from collections.abc import Iterable

GATEWAY_PAPER_PORT = 4002  # the seed's port: IB Gateway logged into the paper account
PAPER_PORTS = {GATEWAY_PAPER_PORT: "IB Gateway paper", 7497: "TWS paper"}
LIVE_PORTS = {4001: "IB Gateway live", 7496: "TWS live"}
PAPER_ACCOUNT_PREFIXES = ("DU", "DF", "DI")  # paper individual, paper FA master, paper IBroker master
LIVE_ACCOUNT_PREFIXES = ("U", "F", "I")
# The harness's own API client id: far from the small ids bots use (0..10), so it never takes the bot's.
PROBE_CLIENT_ID = 917


def account_is_paper(account_id: str) -> bool | None:
    """DU/DF/DI... -> True, U/F/I... -> False, anything else -> None (unknown)."""
    account_id = account_id.strip().upper()
    if account_id.startswith(PAPER_ACCOUNT_PREFIXES):
        return True
    if account_id.startswith(LIVE_ACCOUNT_PREFIXES) and account_id[1:2].isdigit():
        return False
    return None


def accounts_all_paper(accounts: Iterable[str]) -> bool | None:
    """True when every account is a paper one; False when any is live; None when unknown or none."""
    verdicts = [account_is_paper(a) for a in accounts]
    if not verdicts:
        return None
    if any(v is False for v in verdicts):
        return False
    return True if all(verdicts) else None


def port_is_paper(port: int) -> bool | None:
    """4002/7497 -> True, 4001/7496 -> False, other ports -> None (a custom port proves nothing)."""
    if port in PAPER_PORTS:
        return True
    if port in LIVE_PORTS:
        return False
    return None
