"""The evidence directory's files (attestations, incidents, verdicts, the baseline, the report's pages and
pictures): written atomically, and the JSON ones read back as append-only logs whose faults are facts, not
exceptions."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness.core.files import replace_file

LOCK_WAIT_SECONDS = 15.0  # how long a writer waits for another to finish appending to the same log


def write_bytes_atomic(target: Path, data: bytes) -> Path:
    """Write `data` through a temp file in the same folder and a rename: a crash never leaves half a file, and
    the previous content stays until the new one is complete. The rename is tried again while another program
    holds the file (files.replace_file: FileBusyError, an OSError, names it). Creates the folder. Raises OSError."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        replace_file(tmp, target)
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


@contextlib.contextmanager
def exclusive(target: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold `<target>.lock` while a log is read, appended to and written back, so that concurrent writers (two
    `harness confirm` at once, a halt beside a confirm) never lose each other's records. The lock file holds its
    owner's pid: a lock whose owner is gone (a writer killed mid-way) is taken over. Raises OSError after `wait`."""
    lock = Path(target).with_name(Path(target).name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            handle = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), 0o600)
            break
        except FileExistsError:
            if _owner_gone(lock):
                with contextlib.suppress(OSError):
                    lock.unlink()
                continue
            if time.monotonic() > deadline:
                raise OSError(f"{lock} is held by another harness command (pid {_owner(lock)}) for over {wait:g} s; "
                              "remove it if no harness command is running") from None
            time.sleep(0.005)
    try:
        os.write(handle, str(os.getpid()).encode("ascii"))
        os.close(handle)
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()


def _owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="ascii").strip() or "0") or None
    except (OSError, ValueError):
        return None


def _owner_gone(lock: Path) -> bool:
    """The lock's owner no longer runs (an empty lock is one being written: not gone)."""
    import psutil

    owner = _owner(lock)
    return owner is not None and owner != os.getpid() and not psutil.pid_exists(owner)


def append_log_row(source: Path, key: str, what: str, row: dict[str, Any]) -> None:
    """Append `row` to the append-only log `{key: [...]}` at `source` under its lock, atomically. Raises OSError,
    or ValueError when the log cannot be read (it is never overwritten then)."""
    with exclusive(source):
        rows, problem = read_log_rows(source, key, what)
        if problem:
            raise ValueError(problem)
        write_json_atomic(source, {key: [*rows, row]})
