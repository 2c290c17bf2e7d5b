"""The evidence directory's files (attestations, incidents, verdicts, the baseline, the report's pages and
pictures): written atomically, and the JSON ones read back as append-only logs whose faults are facts, not
exceptions."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def write_bytes_atomic(target: Path, data: bytes) -> Path:
    """Write `data` through a temp file in the same folder and a rename: a crash never leaves half a file, and
    the previous content stays until the new one is complete. Creates the folder. Raises OSError."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (links and relative paths resolved where they can be)."""
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return Path(a) == Path(b)


def write_json_atomic(target: Path, body: Any, *, sort_keys: bool = False) -> None:
    """Write `body` as UTF-8 JSON atomically (write_bytes_atomic). Raises OSError."""
    text = json.dumps(body, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"
    write_bytes_atomic(target, text.encode("utf-8"))


def write_jsonl_atomic(target: Path, rows: Iterable[Any]) -> Path:
    """Write `rows` as UTF-8 JSON lines (one object a line, LF) atomically (write_bytes_atomic). Raises OSError."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return write_bytes_atomic(target, text.encode("utf-8"))


def read_log_rows(source: Path, key: str, what: str) -> tuple[list[dict[str, Any]], str | None]:
    """The rows of an append-only log `{key: [row, ...]}`: ([], None) when the file does not exist yet,
    ([], "<what> <source> cannot be read: ..." / "... is malformed: ...") when it cannot be trusted."""
    source = Path(source)
    try:
        payload = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [], f"{what} {source} cannot be read: {exc}"
    rows = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return [], f"{what} {source} is malformed: no list of records under {key!r}"
    return rows, None
