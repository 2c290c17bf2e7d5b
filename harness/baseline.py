"""The baseline: what the .env said before the switch, kept without its secrets, and the diff against it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from harness.envfile import MODE_KEYS, EnvFileFacts
from harness.redact import fingerprint, is_secret_key, is_secret_value, redact_text

FORMAT = "harness-baseline/1"


@dataclass(frozen=True)
class Baseline:
    path: str  # the .env it was taken from
    taken_at: str
    file_sha256: str
    keys: Mapping[str, Mapping[str, object]] = field(default_factory=dict)  # key -> {secret, value|sha256}


def _is_secret(key: str, value: str | None) -> bool:
    return is_secret_key(key) or bool(value and is_secret_value(value))


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
        taken_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        file_sha256=facts.sha256,
        keys=keys,
    )


def write_baseline(baseline: Baseline, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "path": baseline.path, "taken_at": baseline.taken_at,
               "file_sha256": baseline.file_sha256, "keys": baseline.keys}
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(target)


def load_baseline(source: Path) -> tuple[Baseline | None, str | None]:
    """(baseline, problem). A missing or unreadable baseline is a problem, not an exception."""
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"no baseline at {source} (run `harness snapshot` before the switch)"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"baseline {source} cannot be read: {exc}"
    if not isinstance(payload, dict) or payload.get("format") != FORMAT or not isinstance(payload.get("keys"), dict):
        return None, f"{source} is not a harness baseline ({FORMAT})"
    return Baseline(payload.get("path", ""), payload.get("taken_at", ""), payload.get("file_sha256", ""),
                    payload["keys"]), None


@dataclass(frozen=True, slots=True)
class KeyChange:
    key: str
    change: str  # "changed", "added", "removed"
    before: str | None  # shown value: masked for secrets
    after: str | None


@dataclass(frozen=True)
class EnvDiff:
    changes: tuple[KeyChange, ...] = ()

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
    return EnvDiff(tuple(changes))


def _comparable(entry: Mapping[str, object]) -> object:
    return entry.get("sha256") if entry.get("secret") else entry.get("value")
