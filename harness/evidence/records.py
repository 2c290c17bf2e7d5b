"""Evidence: records facts and verdicts, always redacted and bounded. It never decides a verdict.

Facts go to the running test's Allure result (when allure-pytest-bdd is writing results) and, with every
test's outcome, to the run's `evidence.jsonl` (docs/evidence-layout.md), from which the transition log is built.
Every string is redacted and cut to MAX_EXCERPT_CHARS, every list to MAX_ITEMS, and every record to
MAX_RECORD_CHARS, so a 100 MB log line costs a few KB of evidence.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from itertools import islice
from pathlib import Path
from typing import Any

from harness.core.jsonfiles import write_json_atomic, write_jsonl_atomic
from harness.core.names import EVIDENCE_FILE
from harness.core.redact import (
    MASK,
    MAX_EXCERPT_CHARS,
    Secret,
    SecretSet,
    is_secret_key,
    is_secret_setting,
    redact_excerpt,
    redact_text,
)

MAX_ITEMS = 200  # entries kept of one list or mapping in a record
MAX_DEPTH = 12  # nesting kept of one record
MAX_RECORD_CHARS = 100_000  # one record, serialised; beyond it only an excerpt of the record is kept
MAX_MESSAGE_CHARS = 8_000  # a scenario's failure or skip message


class Redactor:
    """Knows the run's secret values and scrubs them from anything recorded."""

    def __init__(self) -> None:
        self._secrets = SecretSet()

    def add(self, values: Iterable[str | Secret | None] | SecretSet) -> None:
        self._secrets.add(values)

    @property
    def secrets(self) -> SecretSet:
        return self._secrets

    def text(self, text: str) -> str:
        """The whole text, redacted (failure reports, log records): never cut."""
        return redact_text(text, self._secrets)

    def excerpt(self, text: str, limit: int = MAX_EXCERPT_CHARS) -> str:
        """The text redacted and cut to `limit` characters with a "… [N more characters]" marker."""
        return redact_excerpt(text, self._secrets, limit)

    def data(self, obj: Any, _depth: int = 0) -> Any:
        """A JSON-able, redacted, bounded copy of facts (dataclasses, mappings, sequences, datetimes, paths)."""
        if _depth > MAX_DEPTH:
            return "… [nested too deep]"
        deeper = _depth + 1
        if isinstance(obj, (Secret, SecretSet)):
            return MASK
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            names = [f.name for f in dataclasses.fields(obj)]
            row = {name: getattr(obj, name) for name in names}
            if "key" in row and "value" in row and isinstance(row["key"], str) and \
                    is_secret_setting(row["key"], row["value"] if isinstance(row["value"], str) else None):
                row["value"] = MASK if row["value"] else row["value"]
            return {k: self.data(v, deeper) for k, v in row.items()}
        if isinstance(obj, Mapping):
            out: dict[str, Any] = {}
            for index, (k, v) in enumerate(obj.items()):
                if index == MAX_ITEMS:
                    out["…"] = f"[{len(obj) - MAX_ITEMS} more entries]"
                    break
                key = self.excerpt(str(k), 200)
                out[key] = MASK if isinstance(k, str) and is_secret_key(k) and v else self.data(v, deeper)
            return out
        if isinstance(obj, (set, frozenset)) or (isinstance(obj, Sequence) and not isinstance(obj, (str, bytes))):
            # Any sequence, lazy ones too (a startup block's lines parse on demand): only what is kept is read.
            kept = [self.data(v, deeper) for v in islice(obj, MAX_ITEMS)]
            if len(obj) > MAX_ITEMS:
                kept.append(f"… [{len(obj) - MAX_ITEMS} more items]")
            return kept
        if isinstance(obj, (datetime, date)):
            return obj.isoformat()
        if isinstance(obj, Enum):
            return self.data(obj.value, deeper)
        if isinstance(obj, Path):
            return self.excerpt(str(obj))
        if isinstance(obj, str):
            return self.excerpt(obj)
        if obj is None or isinstance(obj, (bool, int, float)):
            return obj
        if isinstance(obj, (bytes, bytearray)):
            return self.excerpt(repr(bytes(obj[: MAX_EXCERPT_CHARS * 2])))
        return self.excerpt(repr(obj))

    def record(self, facts: Any) -> Any:
        """`data(facts)`, and if even that is too large serialised, an excerpt of it in its place."""
        data = self.data(facts)
        size = len(json.dumps(data, ensure_ascii=False))
        if size <= MAX_RECORD_CHARS:
            return data
        return {"omitted": f"the record is {size} characters serialised (at most {MAX_RECORD_CHARS} are kept)",
                "excerpt": json.dumps(data, ensure_ascii=False)[:MAX_EXCERPT_CHARS]}


MAX_KEPT_TEXT_CHARS = 20_000  # a whole-run text kept beside the evidence (the stand-in bot's output)


class Evidence:
    """One per test session. Steps call `record` and `note`; the plugin's hooks call `finish_test`.

    With a run directory (`runs/<run id>/`, set by the plugin) the rows, kept texts and kept facts are written
    there, a pytest-xdist worker's under its own names (evidence-gw0.jsonl); without one, evidence.jsonl and
    the texts go to the evidence directory itself."""

    def __init__(self, evidence_dir: Path, run_dir: Path | None = None, worker: str | None = None) -> None:
        self.evidence_dir = evidence_dir
        self.run_dir = run_dir
        self.worker = worker
        self.redactor = Redactor()
        self._current: list[dict[str, Any]] = []
        self._rows: list[dict[str, Any]] = []
        self._texts: dict[str, str] = {}
        self._facts: dict[str, Any] = {}

    def record(self, name: str, facts: Any) -> None:
        name = self.redactor.excerpt(name, 200)
        data = self.redactor.record(facts)
        self._current.append({"name": name, "facts": data})
        _allure_attach(name, json.dumps(data, indent=2, ensure_ascii=False))

    def note(self, text: str) -> None:
        text = self.redactor.excerpt(text)
        self._current.append({"name": "note", "facts": text})
        _allure_attach("note", text, json_body=False)

    def finish_test(self, nodeid: str, name: str, tags: list[str], outcome: str, message: str) -> None:
        self._rows.append({
            "nodeid": nodeid, "scenario": name, "tags": sorted(tags), "outcome": outcome,
            "message": self.redactor.excerpt(message, MAX_MESSAGE_CHARS), "records": self._current,
        })
        self._current = []

    def keep_text(self, file_name: str, text: str) -> None:
        """A text kept beside the run's evidence at the end of the run (redacted, capped): e.g. the end of the
        stand-in bot's output, which no single scenario owns."""
        self._texts[Path(file_name).name] = self.redactor.excerpt(text, MAX_KEPT_TEXT_CHARS)

    def keep_facts(self, file_name: str, facts: Any) -> None:
        """Facts kept as one JSON file in the run directory at the end of the run (redacted, bounded, account
        ids masked): e.g. the paper gateway's facts as the session read them (paper-account.json)."""
        self._facts[Path(file_name).name] = self.redactor.record(facts)

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def _own_name(self, file_name: str) -> str:
        """`evidence.jsonl` -> `evidence-gw0.jsonl` in a pytest-xdist worker: workers share the run directory."""
        if not self.worker:
            return file_name
        stem, dot, suffix = file_name.partition(".")
        return f"{stem}-{self.worker}{dot}{suffix}"

    @property
    def file(self) -> Path:
        """Where this process writes the scenarios' rows: the run directory's evidence.jsonl (a pytest-xdist
        worker's evidence-gw0.jsonl), or without a run directory the evidence directory's."""
        folder = self.run_dir if self.run_dir is not None else self.evidence_dir
        return folder / self._own_name(EVIDENCE_FILE)

    def write(self) -> Path | None:
        if not self._rows:
            return None
        folder = self.run_dir if self.run_dir is not None else self.evidence_dir
        try:
            target = write_jsonl_atomic(self.file, self._rows)
            for file_name, text in self._texts.items():
                (folder / self._own_name(file_name)).write_text(text, encoding="utf-8", newline="\n")
            if self.run_dir is not None:
                for file_name, data in self._facts.items():
                    # The same for every worker (one gateway, read by each): the last complete one stays.
                    write_json_atomic(folder / file_name, data)
        except OSError:
            return None
        return target


def _allure_attach(name: str, body: str, *, json_body: bool = True) -> None:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest-bdd is a dependency
        return
    kind = allure.attachment_type.JSON if json_body else allure.attachment_type.TEXT
    # Allure is on but no scenario's result may be open (evidence recorded from a unit test, or a fixture's
    # teardown): allure-python's lifecycle then has nothing to attach to. evidence.jsonl still holds it.
    with contextlib.suppress(KeyError):
        allure.attach(body, name=name, attachment_type=kind)
