"""The switch itself: DRY_RUN/PAPER_TRADING (and IBKR_PORT on request) changed, nothing else.

Shared by `harness switch` and the embedded world, so the demo exercises the operator's own code path.
"""

from __future__ import annotations

from pathlib import Path

from harness.envfile import (
    EnvEditError,
    SwitchPlan,
    atomic_write,
    load_env_bytes,
    parse_env_bytes,
    plan_edit,
    read_bool,
)
from harness.settings import LIVE_PORTS

MODES: dict[str, dict[str, str]] = {
    "paper": {"DRY_RUN": "false", "PAPER_TRADING": "true"},
    "dry-run": {"DRY_RUN": "true", "PAPER_TRADING": "false"},
}


def plan_switch(env_path: Path, mode: str, port: int | None = None) -> SwitchPlan:
    """What the switch would write. Raises EnvEditError (one line) to refuse; touches nothing."""
    if mode not in MODES:
        raise EnvEditError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if port is not None and port in LIVE_PORTS:
        raise EnvEditError(f"port {port} is a LIVE trading port; paper is 4002 (Gateway) or 7497 (TWS)")
    updates = dict(MODES[mode])
    if port is not None:
        updates["IBKR_PORT"] = str(port)
    env_path = Path(env_path)
    data, failed = load_env_bytes(env_path)
    if data is None:
        raise EnvEditError(failed.problem if failed else f"{env_path} cannot be read")
    plan = plan_edit(env_path, data, updates)  # refuses undecodable, unparseable and duplicated files
    after = parse_env_bytes(plan.after.encode("utf-8"), env_path)
    dry, paper = read_bool(after, "DRY_RUN"), read_bool(after, "PAPER_TRADING")
    if dry.value is False and paper.value is False:
        raise EnvEditError("the result would be LIVE mode (DRY_RUN=false, PAPER_TRADING=false); refused")
    return plan


def apply_switch(plan: SwitchPlan) -> Path:
    """Back up, then write atomically. Returns the backup path."""
    return atomic_write(Path(plan.path), plan.after)
