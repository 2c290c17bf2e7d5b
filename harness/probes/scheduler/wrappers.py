"""The files an action reads, bounded: the .bat/.cmd/.ps1/.sh wrapper it runs and the KEY=value files it loads
(systemd's EnvironmentFile=, a file a shell script sources). A file that cannot be read is the action's
`wrapper_problem`, never an exception."""

from __future__ import annotations

import os
from pathlib import Path

from harness.probes.envfile import NotReadable, read_regular_file
from harness.probes.scheduler.files import decode_text, is_binary
from harness.probes.scheduler.trace import ActionTrace, is_absolute, join_path
from harness.probes.scheduler.words import split_words

MAX_WRAPPER_BYTES = 256_000  # a start script is a few lines
MAX_DEPTH = 3  # a wrapper calling a wrapper calling a wrapper; deeper is not followed


def read_wrapper(path_text: str, trace: ActionTrace, depth: int) -> tuple[Path, str] | None:
    """The script the action runs (its path and text), read bounded; None when it cannot be read here (why is
    the trace's `wrapper_problem`). The first wrapper found is the trace's `wrapper`; `here` becomes its folder."""
    path_text = path_text.strip().strip("\"'")
    if depth >= MAX_DEPTH:
        trace.wrapper_problem = trace.wrapper_problem or (
            f"{path_text} is a wrapper {depth + 1} levels deep: not followed")
        return None
    where = path_text if is_absolute(path_text) or not trace.directory else join_path(trace.directory, path_text)
    if not trace.wrapper:
        trace.wrapper = where
    path = Path(os.path.expanduser(where))
    if not is_absolute(where) or not path.is_absolute():
        trace.wrapper_problem = trace.wrapper_problem or (
            f"the wrapper {where} is not a path on this machine: read it where the task runs")
        return None
    try:
        data = read_regular_file(path, MAX_WRAPPER_BYTES, "a start script")
    except NotReadable as exc:
        trace.wrapper_problem = trace.wrapper_problem or str(exc)
        return None
    text = decode_text(data)
    if is_binary(text.replace("\x1a", "")):  # ^Z: the end-of-file mark old editors leave
        trace.wrapper_problem = trace.wrapper_problem or f"{path} is binary, not a script"
        return None
    trace.here = str(path.parent)
    return path, text


def read_environment_file(value: str, trace: ActionTrace, what: str = "EnvironmentFile") -> None:
    """KEY=value lines (systemd's EnvironmentFile=, a file a shell script sources); `-` before it: optional."""
    optional = value.startswith("-")
    where = value.lstrip("-").strip()
    try:
        text = decode_text(read_regular_file(Path(os.path.expanduser(where)), MAX_WRAPPER_BYTES, "an environment"))
    except NotReadable as exc:
        if not (optional and not exc.exists):
            trace.wrapper_problem = trace.wrapper_problem or f"{what} {where}: {exc}"
        return
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")):
            name, equals, raw = line.removeprefix("export ").partition("=")
            if equals and name.strip():
                words = split_words(raw, windows=False)
                trace.set(name.strip(), " ".join(words) if words else "")
