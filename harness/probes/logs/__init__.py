"""The log probe: plain facts about the trading bot's log files.

What it reads: the file or glob the operator names (`--bot-log`), with its rotated siblings (`bot.log.1`,
`bot.log.2.gz`, `bot.log.2026-02-10`, `bot-2026-02-10.log.gz`), in any encoding an operator's machine
writes (UTF-8 with or without BOM, cp1252, UTF-16 with or without BOM; LF, CRLF or lone CR).
What it returns: frozen dataclasses (`LogFacts`, `StartupBlock`, `OrderedMatch`, `ScanFacts`, `LogLine`).
It never asserts, prints or raises on a bad file: a missing, unreadable, binary or corrupt file becomes a
`FileProblem`. Text is returned raw; callers redact with `harness.evidence.redact.redact_text` before it leaves.

How it reads, and why:

* Searching works on BYTES. For ASCII-compatible files (UTF-8, cp1252) each pattern's encoded forms are
  found with `bytes.find` over multi-megabyte buffers of whole lines (one reused buffer); only matching
  lines are decoded. UTF-16 files are transcoded to UTF-8 chunk by chunk first, then searched the same
  way. Memory stays constant: one buffer, plus a few kept lines per pattern. A full `scan` of a plain
  file over PARALLEL_MIN_BYTES is split at line starts across worker processes (spawned, so the same on
  Windows); each counts its own lines, so line numbers stay exact. If processes cannot start, the scan
  runs in the calling process.
* What depends only on the end of the log (the newest startup block, the last shutdown, lines after
  `since`) reads plain files from the END backwards, or bisects on timestamps, so its cost follows the
  newest block, not the size of the log. Gzipped and UTF-16 files cannot be read backwards cheaply; they
  are read forwards (rotated `.gz` files are old and small; PowerShell logs are small).
* Line numbers. `LogLine.lineno > 0` is exact (1-based from the start of the file). Counting the lines
  before a line found near the end of a huge file would cost a full pass, so when more than
  `EXACT_LINENO_LIMIT` bytes precede it, the number is counted from the END instead and is negative:
  -1 is the last line of the file as it was read. `LogLine.where` renders both ("bot.log:12",
  "bot.log:3rd line from the end").
* Huge lines: a line longer than `MAX_LINE_BYTES` is handled in pieces of that size (same line number);
  a pattern straddling two pieces is not seen.
* Time. Timestamps at the start of a line (python logging's `2026-02-10 16:45:01,123` by default; ISO
  `T`, fractions, `Z`/offsets accepted; any strftime format or regex via `TimestampFormat`), or, for a
  JSON-lines record (a line starting with `{`), its "timestamp"/"time"/"asctime" field (ISO or epoch). A line
  without a timestamp (traceback, continuation) takes the timestamp of the previous timestamped line.
  Naive timestamps are read in the log's zone (`tz`: a zoneinfo zone or its name; None = this machine's
  zone, through the C library). Returned timestamps carry the fixed UTC offset in force at that instant
  (not the zone object: Python compares two datetimes sharing a tzinfo by wall time, ignoring fold).
  The fall-back hour occurs twice: a wall time in it is read as its FIRST occurrence (fold=0) until the
  log's clock steps back by more than `FOLD_BACKSTEP` inside that hour, from then on as the SECOND
  occurrence (fold=1), until a time outside the hour appears. When the log (or the context read before a
  starting point) begins inside that hour, nothing tells the passes apart: the line is read as the first
  pass, and if its other reading would fall inside a `since` window it is counted as `undated`, never as
  inside or outside. Times in the spring-forward gap are read with the offset before the change (PEP 495
  fold=0). A naive `since` is read in the same zone, fold=0.
* Windows. `since` as a datetime: files are bisected to `SINCE_MARGIN` before `since` (more than any DST
  step, so the fold logic sees context), then every matching line's own time decides. A line whose time
  cannot be told is never counted as inside the window; `PatternFacts.undated` counts it so a step can
  refuse to pass on it. `since` as a `StartupBlock`: exactly the lines from that block's first line on.

Modules, one job each (the public names are all importable from `harness.probes.logs`):

* `files`: finding the files behind `--bot-log`, rotation order, opening (gzip, encoding, newline).
* `encoding`: which encoding a file uses and how one of its lines decodes.
* `reading`: a file's scan stream, forwards in line buffers or backwards from the end.
* `matching`: finding pattern lines in raw bytes.
* `timestamps`: timestamp formats, zones and the DST-aware clock; `timeline`: times of lines while streaming.
* `linenos`: exact or from-the-end line numbers.
* `backwards`: newest startup block, last shutdown, last line; `find_in_order`.
* `forward`: the streaming `scan` and its worker processes; `window`: where a `since` window starts.
* `patterns`, `facts`, `tunables`: what is searched for, what is returned, and the sizes that tests shrink.
* `meaning`: markers matched by meaning (any case, whole words, negated mentions ignored).
* `structured`: JSON-lines records (structlog, loguru): a line's message and fields.
* `startup_lines`: what the startup lines say (configuration values, the gateway address), as facts.
"""

from __future__ import annotations

# Besides the public names: the names the single module had that others read (the encoding helpers it
# imported, the internals the unit tests reach), each as `X as X`.
from harness.probes.logs.backwards import find_in_order, last_line, last_shutdown, newest_startup_block
from harness.probes.logs.encoding import HEAD_BYTES as HEAD_BYTES
from harness.probes.logs.encoding import EncodingGuess as EncodingGuess
from harness.probes.logs.encoding import decode_line as decode_line
from harness.probes.logs.encoding import guess_encoding as guess_encoding
from harness.probes.logs.encoding import guess_newline as guess_newline
from harness.probes.logs.facts import (
    ExpectedLine,
    FileProblem,
    LogFacts,
    LogFileFacts,
    LogLine,
    OrderedMatch,
    PatternFacts,
    ScanFacts,
    StartupBlock,
)
from harness.probes.logs.files import _open_source as _open_source
from harness.probes.logs.files import _Source as _Source
from harness.probes.logs.files import find_log_files, inspect_logs
from harness.probes.logs.forward import _split_ranges as _split_ranges
from harness.probes.logs.forward import scan
from harness.probes.logs.patterns import (
    DEFAULT_EXPECTED_STARTUP,
    DEFAULT_FORBIDDEN,
    DEFAULT_PATTERNS,
    DEFAULT_SHUTDOWN_PATTERNS,
    DEFAULT_STARTUP_PATTERN,
    DEFAULT_TEXTS,
    Pattern,
    error_markers,
    marker,
    markers,
)
from harness.probes.logs.patterns import PatternLike as PatternLike
from harness.probes.logs.startup_lines import ConfigurationLine, GatewayLine, configuration_line, gateway_lines
from harness.probes.logs.structured import message_text
from harness.probes.logs.timestamps import DEFAULT_TIMESTAMP_FORMAT, TimestampFormat, log_zone_text, zone_description
from harness.probes.logs.timestamps import DEFAULT_TIMESTAMP_REGEX as DEFAULT_TIMESTAMP_REGEX

__all__ = [
    "DEFAULT_EXPECTED_STARTUP",
    "DEFAULT_FORBIDDEN",
    "DEFAULT_PATTERNS",
    "DEFAULT_SHUTDOWN_PATTERNS",
    "DEFAULT_STARTUP_PATTERN",
    "DEFAULT_TEXTS",
    "DEFAULT_TIMESTAMP_FORMAT",
    "ConfigurationLine",
    "ExpectedLine",
    "FileProblem",
    "GatewayLine",
    "LogFacts",
    "LogFileFacts",
    "LogLine",
    "OrderedMatch",
    "Pattern",
    "PatternFacts",
    "ScanFacts",
    "StartupBlock",
    "TimestampFormat",
    "configuration_line",
    "error_markers",
    "find_in_order",
    "find_log_files",
    "gateway_lines",
    "inspect_logs",
    "last_line",
    "last_shutdown",
    "log_zone_text",
    "marker",
    "markers",
    "message_text",
    "newest_startup_block",
    "scan",
    "zone_description",
]
