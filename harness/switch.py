"""The switch itself: DRY_RUN/PAPER_TRADING (and IBKR_PORT on request) changed, nothing else.

Shared by `harness switch` and the embedded world, so the demo exercises the operator's own code path.
"""

from __future__ import annotations

from pathlib import Path

from harness.envfile import EnvEditError, SwitchPlan, atomic_write, parse_env_bytes, plan_edit, read_bool
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
    if not env_path.exists():
        raise EnvEditError(f"{env_path} does not exist")
    facts = parse_env_bytes(_read(env_path), env_path)
    if facts.problem:
        raise EnvEditError(facts.problem)
    plan = plan_edit(env_path, _read(env_path), updates)
    after = parse_env_bytes(plan.after.encode("utf-8"), env_path)
    dry, paper = read_bool(after, "DRY_RUN"), read_bool(after, "PAPER_TRADING")
    if dry.value is False and paper.value is False:
        raise EnvEditError("the result would be LIVE mode (DRY_RUN=false, PAPER_TRADING=false); refused")
    return plan


def _read(path: Path) -> bytes:
    from harness.envfile import MAX_ENV_BYTES

    try:
        if path.is_dir():
            raise EnvEditError(f"{path} is a directory, not a .env file")
        size = path.stat().st_size
        if size > MAX_ENV_BYTES:
            raise EnvEditError(f"{path} is {size / 1e6:.1f} MB; a .env is a few KB. Is this the right file?")
        return path.read_bytes()
    except PermissionError:
        raise EnvEditError(f"{path} cannot be read by this user (permission denied)") from None
    except OSError as exc:
        raise EnvEditError(f"{path} cannot be read: {exc.strerror}") from None


def apply_switch(plan: SwitchPlan) -> Path:
    """Back up, then write atomically. Returns the backup path."""
    return atomic_write(Path(plan.path), plan.after)
