"""The log probe's tunables: module constants, so tests and the benchmark can shrink them.

They live in one module, and every reader uses them as `tunables.NAME` at call time: `harness.probes.logs` forwards
reads and writes of these names here, so `monkeypatch.setattr(logs, "CHUNK_BYTES", 7)` changes how every
part of the probe reads (the spawned scan workers import the defaults afresh).
"""

from __future__ import annotations

from datetime import timedelta

CHUNK_BYTES = 4 * 1024 * 1024  # forward read size: large enough for bytes.find to run at memory speed
BACK_BLOCK_BYTES = 1024 * 1024  # backward read size
MAX_LINE_BYTES = 1024 * 1024  # longer lines are handled in pieces of this size
EXACT_LINENO_LIMIT = 64 * 1024 * 1024  # count lines exactly when at most this many bytes precede a line
CONTEXT_BYTES = 64 * 1024  # read before a block's first line: inherited timestamp and DST context
MAX_BLOCK_LINES = 5000  # lines of a startup block kept in memory
KEEP_MATCHES = 5  # first/last matching lines kept per pattern by `scan`
PARALLEL_MIN_BYTES = 256 * 1024 * 1024  # `scan` splits plain files at least this large across processes
MAX_WORKERS = 4
SINCE_MARGIN = timedelta(hours=3)  # bisect lands this far before `since`: more than any DST step
FOLD_BACKSTEP = timedelta(seconds=30)  # a step back this large inside the fall-back hour = its 2nd pass
MAX_JSON_TIME_BYTES = 64 * 1024  # bytes of a JSON-lines record searched for its time field
_TIMESTAMP_HEAD = 200  # characters at the start of a line searched for a timestamp
_WALK_BACK_LINES = 2000  # lines walked back for a continuation line's timestamp before using the carry
