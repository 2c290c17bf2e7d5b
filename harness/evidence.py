"""Evidence: records facts and verdicts, always redacted. It never decides a verdict.

Facts go to the running test's Allure result (when allure-pytest-bdd is writing results) and, with every
test's outcome, to `<evidence-dir>/evidence.jsonl`, from which the transition log is built.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from harness.redact import MASK, is_secret_key, mask_value, redact_text

EVIDENCE_FILE = "evidence.jsonl"


class Redactor:
    """Knows the run's secret values and scrubs them from anything recorded."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, values: Iterable[str]) -> None:
        self._secrets.update(v for v in values if v)

    def text(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def data(self, obj: Any) -> Any:
        """A JSON-able, redacted copy of facts (dataclasses, mappings, sequences, datetimes, paths)."""
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            names = [f.name for f in dataclasses.fields(obj)]
            row = {name: getattr(obj, name) for name in names}
            if "key" in row and "value" in row and isinstance(row["key"], str):
                row["value"] = mask_value(row["key"], row["value"])
            return {k: self.data(v) for k, v in row.items()}
        if isinstance(obj, Mapping):
            return {
                str(k): (MASK if isinstance(k, str) and is_secret_key(k) and v else self.data(v))
                for k, v in obj.items()
            }
        if isinstance(obj, (list, tuple, set, frozenset)):
            return [self.data(v) for v in obj]
        if isinstance(obj, (datetime, date)):
            return obj.isoformat()
        if isinstance(obj, Enum):
            return obj.value
        if isinstance(obj, Path):
            return self.text(str(obj))
        if isinstance(obj, str):
            return self.text(obj)
        if obj is None or isinstance(obj, (bool, int, float)):
            return obj
        return self.text(repr(obj))


class Evidence:
    """One per test session. Steps call `record` and `note`; the plugin's hooks call `finish_test`."""

    def __init__(self, evidence_dir: Path) -> None:
        self.evidence_dir = evidence_dir
        self.redactor = Redactor()
        self._current: list[dict[str, Any]] = []
        self._rows: list[dict[str, Any]] = []

    def record(self, name: str, facts: Any) -> None:
        data = self.redactor.data(facts)
        self._current.append({"name": name, "facts": data})
        _allure_attach(name, json.dumps(data, indent=2, ensure_ascii=False))

    def note(self, text: str) -> None:
        text = self.redactor.text(text)
        self._current.append({"name": "note", "facts": text})
        _allure_attach("note", text, json_body=False)

    def finish_test(self, nodeid: str, name: str, tags: list[str], outcome: str, message: str) -> None:
        self._rows.append({
            "nodeid": nodeid, "scenario": name, "tags": sorted(tags), "outcome": outcome,
            "message": self.redactor.text(message), "records": self._current,
        })
        self._current = []

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def write(self) -> Path | None:
        if not self._rows:
            return None
        try:
            self.evidence_dir.mkdir(parents=True, exist_ok=True)
            target = self.evidence_dir / EVIDENCE_FILE
            with target.open("w", encoding="utf-8", newline="\n") as out:
                for row in self._rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
        except OSError:
            return None
        return target


def _allure_attach(name: str, body: str, *, json_body: bool = True) -> None:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest-bdd is a dependency
        return
    kind = allure.attachment_type.JSON if json_body else allure.attachment_type.TEXT
    allure.attach(body, name=name, attachment_type=kind)
