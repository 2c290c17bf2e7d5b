"""The rollback's `.env` edit (`harness switch dry-run`): DRY_RUN=true and PAPER_TRADING=false again.

When a backup the switch made (`.harness-backups/.env.bak-*`) is byte for byte the file the baseline recorded
(its SHA-256), and restoring it changes no value other than the two mode keys, the rollback restores that file
exactly: comments, spacing and the old spelling of the two values come back too. Otherwise only the two keys
are switched back, as the switch to paper switched them. Either way nothing else changes, and the refusals are
the switch's own (an unparseable file, duplicated keys, a result that would be live mode).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.actions.switch import plan_switch
from harness.evidence.baseline import Baseline, load_baseline, unusable_for
from harness.probes.envfile import (
    MAX_ENV_BYTES,
    MODE_KEYS,
    EnvFileFacts,
    NotReadable,
    SwitchPlan,
    backup_dir,
    parse_env_bytes,
    read_bool,
    read_env,
    read_regular_file,
)


def plan_rollback(env_path: Path, baseline_file: Path | None) -> SwitchPlan:
    """What the rollback would write. Raises EnvEditError (one line) to refuse; touches nothing."""
    env_path = Path(env_path)
    plan = plan_switch(env_path, "dry-run")
    if not plan.changed:
        return plan
    baseline, why_not = _usable_baseline(env_path, baseline_file)
    if baseline is None:
        return _noted(plan, f"the two keys switched back ({why_not})")
    switched = parse_env_bytes(plan.after.encode("utf-8"), env_path)
    for backup in sorted(backup_dir(env_path).glob(f"{env_path.name}.bak-*"), reverse=True):  # newest first
        try:
            data = read_regular_file(backup, MAX_ENV_BYTES, "a backup")
            text = data.decode("utf-8")
        except (NotReadable, UnicodeDecodeError):
            continue
        facts = parse_env_bytes(data, backup)
        if facts.sha256 != baseline.file_sha256:
            continue
        if not _same_settings(facts, switched):
            return _noted(plan, f"the two keys switched back: restoring {backup.name} (the baseline's file) would "
                                "also undo other changes made since the baseline")
        return _noted(replace(plan, after=text), f"restored byte for byte from {backup.name}, the file the baseline "
                                                 f"recorded at {baseline.taken_at}")
    return _noted(plan, "the two keys switched back (no backup in .harness-backups is the file the baseline recorded)")


def _same_settings(first: EnvFileFacts, second: EnvFileFacts) -> bool:
    """The same values, the two mode keys compared by what they mean (`True` in the old file is `true`)."""
    others = [{key: value for key, value in facts.values.items() if key not in MODE_KEYS} for facts in (first, second)]
    return others[0] == others[1] and all(read_bool(first, key).value == read_bool(second, key).value
                                          for key in MODE_KEYS)


def _noted(plan: SwitchPlan, note: str) -> SwitchPlan:
    return replace(plan, notes=(*plan.notes, note))


def _usable_baseline(env_path: Path, baseline_file: Path | None) -> tuple[Baseline | None, str]:
    if baseline_file is None:
        return None, "no baseline given"
    baseline, problem = load_baseline(baseline_file)
    if baseline is None:
        return None, problem or "no baseline"
    unusable = unusable_for(baseline, read_env(env_path))
    if unusable:
        return None, unusable
    return baseline, ""
