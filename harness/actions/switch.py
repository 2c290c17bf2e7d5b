"""The switch itself: DRY_RUN/PAPER_TRADING (and IBKR_PORT on request) changed, nothing else.

Shared by `harness switch` and the embedded world, so the demo exercises the operator's own code path.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from harness.core.ibkr import LIVE_PORTS
from harness.probes.envfile import (
    MODE_KEYS,
    EnvEditError,
    EnvFileFacts,
    EnvWrite,
    SwitchPlan,
    atomic_write,
    load_env_bytes,
    parse_env_bytes,
    plan_edit,
    read_bool,
    write_env,
)

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
    notes = unreadable_before(parse_env_bytes(data, env_path), updates)
    if env_path.is_symlink():
        notes += (f"{env_path} is a link to {os.path.realpath(env_path)}: that file is switched, and the link is "
                  "kept",)
    return replace(plan, notes=notes)


def unreadable_before(before: EnvFileFacts, updates: dict[str, str]) -> tuple[str, ...]:
    """A mode key the switch overwrites whose old value was not a boolean: the bot's past mode is unknown."""
    notes = []
    for key, new in updates.items():
        if key not in MODE_KEYS or key not in before.values:
            continue
        setting = read_bool(before, key)
        if setting.value is not None:
            continue
        was = f"{key} was {setting.raw!r} (not a boolean)" if setting.raw is not None else f"{key} had no value"
        notes.append(f"{was}: the bot may have read it as false (a `== 'true'` test) or as true (Python's bool() of "
                     f"any non-empty text), so its last run's log says which mode it really ran in; now {new}")
    return tuple(notes)


def apply_switch(plan: SwitchPlan) -> Path:
    """Back up, then write atomically. Returns the backup path (what is not private is logged as a warning)."""
    return atomic_write(Path(plan.path), plan.after)


def write_switch(plan: SwitchPlan) -> EnvWrite:
    """Back up, then write atomically. Returns where the backup is and what is not as private as it should be, for
    the command to say in its own words."""
    return write_env(Path(plan.path), plan.after)
