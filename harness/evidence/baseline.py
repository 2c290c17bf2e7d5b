"""The baseline: what the .env said before the switch, kept without its secrets, and the diff against it.

A baseline is bound to one bot: it records the resolved path of the .env it was taken from and that file's
mode (DRY_RUN / PAPER_TRADING). A baseline of another .env, or one taken after the switch, cannot vouch
that "nothing else changed", and the diff says so instead of comparing. It is written once: replacing it is
an explicit act (`harness snapshot --replace`), so a second snapshot after the switch cannot bless a change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.core import clock
from harness.core.jsonfiles import write_json_atomic
from harness.core.redact import fingerprint, is_secret_setting, redact_text
from harness.probes.envfile import MODE_KEYS, EnvFileFacts, read_bool, same_file_path

FORMAT = "harness-baseline/2"
OLD_FORMAT = "harness-baseline/1"  # no binding recorded: bound to its `path` when that is absolute


class BaselineExists(FileExistsError):
    """The baseline is write-once; the message names it and the way to replace it."""


@dataclass(frozen=True)
class Baseline:
    path: str  # the .env it was taken from, as given
    taken_at: str
    file_sha256: str
    keys: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # key -> {secret, value|sha256}
    env_path: str = ""  # that .env's absolute path, symlinks resolved: the bot this baseline belongs to
    mode: Mapping[str, str | None] = field(default_factory=dict)  # DRY_RUN / PAPER_TRADING when it was taken


def in_paper_mode(facts: EnvFileFacts) -> bool:
    """DRY_RUN=false and PAPER_TRADING=true: the file is already switched (not a pre-switch baseline)."""
    return read_bool(facts, "DRY_RUN").value is False and read_bool(facts, "PAPER_TRADING").value is True


def _mode_text(mode: Mapping[str, str | None]) -> str:
    return ", ".join(f"{key}={mode.get(key)}" for key in MODE_KEYS)


def _is_secret(key: str, value: str | None) -> bool:
    return is_secret_setting(key, value)


def snapshot(facts: EnvFileFacts) -> Baseline:
    """Keys, values of non-secrets, SHA-256 of secret values, the file's hash and the time."""
    keys: dict[str, dict[str, object]] = {}
    for key, value in facts.values.items():
        if _is_secret(key, value):
            keys[key] = {"secret": True, "sha256": fingerprint(value or "")}
        else:
            keys[key] = {"secret": False, "value": value}
    return Baseline(
        path=facts.path,
        taken_at=clock.now().isoformat(timespec="seconds"),
        file_sha256=facts.sha256,
        keys=keys,
        env_path=facts.resolved or os.path.abspath(facts.path),
        mode={key: facts.values.get(key) for key in MODE_KEYS},
    )


def write_baseline(baseline: Baseline, target: Path, *, replace: bool = False) -> None:
    """Write the baseline; raises BaselineExists when one is there and `replace` is not given."""
    target = Path(target)
    if target.exists() and not replace:
        raise BaselineExists(f"a baseline already exists at {target}; it is written once (replace it with "
                             "`harness snapshot --replace`)")
    payload = {"format": FORMAT, "path": baseline.path, "env_path": baseline.env_path, "mode": dict(baseline.mode),
               "taken_at": baseline.taken_at, "file_sha256": baseline.file_sha256, "keys": baseline.keys}
    write_json_atomic(target, payload, sort_keys=True)


def load_baseline(source: Path) -> tuple[Baseline | None, str | None]:
    """(baseline, problem). A missing or unreadable baseline is a problem, not an exception."""
    from harness.probes.envfile import MAX_ENV_BYTES, NotReadable, read_regular_file

    try:
        payload = json.loads(read_regular_file(source, 20 * MAX_ENV_BYTES, "a baseline").decode("utf-8"))
    except NotReadable as exc:
        if not exc.exists:
            return None, f"no baseline at {source} (run `harness snapshot` before the switch)"
        return None, f"baseline {source} cannot be read: {exc}"
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"baseline {source} cannot be read: {exc}"
    if (not isinstance(payload, dict) or payload.get("format") not in (FORMAT, OLD_FORMAT)
            or not isinstance(payload.get("keys"), dict)):
        return None, f"{source} is not a harness baseline ({FORMAT})"
    path = str(payload.get("path", ""))
    env_path = str(payload.get("env_path") or (path if os.path.isabs(path) else ""))
    if not env_path:
        return None, (f"baseline {source} does not say which .env it was taken from (an older harness wrote it "
                      f"with the relative path {path!r}): take it again before the switch")
    mode = payload.get("mode") if isinstance(payload.get("mode"), dict) else {}
    return Baseline(path, str(payload.get("taken_at", "")), str(payload.get("file_sha256", "")), payload["keys"],
                    env_path=env_path, mode=mode), None


def unusable_for(baseline: Baseline, facts: EnvFileFacts) -> str | None:
    """Why `baseline` cannot show what changed in `facts`' file: taken from another .env, or after the switch."""
    here = facts.resolved or os.path.abspath(facts.path)
    if not same_file_path(baseline.env_path, here):
        return (f"the baseline was taken from {baseline.env_path} (at {baseline.taken_at}), not from this bot's "
                f"{here}: it says nothing about what changed here. Give this bot's baseline (--baseline)")
    was = {key: str(baseline.mode.get(key) or "").lower() for key in MODE_KEYS}
    if was == {"DRY_RUN": "false", "PAPER_TRADING": "true"}:
        return (f"the baseline of {baseline.env_path} was taken at {baseline.taken_at} when the file was already in "
                f"paper mode ({_mode_text(baseline.mode)}): it cannot show what the switch changed")
    return None


@dataclass(frozen=True, slots=True)
class KeyChange:
    key: str
    change: str  # "changed", "added", "removed"
    before: str | None  # shown value: masked for secrets
    after: str | None


@dataclass(frozen=True)
class EnvDiff:
    changes: tuple[KeyChange, ...] = ()
    unusable: str | None = None  # the baseline cannot vouch for this file (another bot's, or post-switch)

    def unexpected(self, expected: tuple[str, ...] = MODE_KEYS) -> tuple[KeyChange, ...]:
        return tuple(c for c in self.changes if c.key not in expected)


def _shown(entry: Mapping[str, object] | None, secrets: tuple[str, ...]) -> str | None:
    if entry is None:
        return None
    if entry.get("secret"):
        return "****"
    value = entry.get("value")
    return None if value is None else redact_text(str(value), secrets)


def diff(baseline: Baseline, facts: EnvFileFacts) -> EnvDiff:
    """Keys changed, added and removed since the baseline; secret values never shown."""
    now = snapshot(facts).keys
    secrets = facts.secret_values()
    changes: list[KeyChange] = []
    for key in sorted(set(baseline.keys) | set(now)):
        before, after = baseline.keys.get(key), now.get(key)
        if before is None:
            changes.append(KeyChange(key, "added", None, _shown(after, secrets)))
        elif after is None:
            changes.append(KeyChange(key, "removed", _shown(before, secrets), None))
        elif _comparable(before) != _comparable(after):
            changes.append(KeyChange(key, "changed", _shown(before, secrets), _shown(after, secrets)))
    return EnvDiff(tuple(changes), unusable_for(baseline, facts))


def _comparable(entry: Mapping[str, object]) -> object:
    return entry.get("sha256") if entry.get("secret") else entry.get("value")
