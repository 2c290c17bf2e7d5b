"""The log probe: plain facts about the trading bot's log files.

What it reads: the file or glob the operator names (`--bot-log`), with its rotated siblings (`bot.log.1`,
`bot.log.2.gz`, `bot.log.2026-02-10`, `bot-2026-02-10.log.gz`), in any encoding an operator's machine
writes (UTF-8 with or without BOM, cp1252, UTF-16 with or without BOM; LF, CRLF or lone CR).
What it returns: frozen dataclasses (`LogFacts`, `StartupBlock`, `OrderedMatch`, `ScanFacts`, `LogLine`).
It never asserts, prints or raises on a bad file: a missing, unreadable, binary or corrupt file becomes a
`FileProblem`. Text is returned raw; callers redact with `harness.core.redact.redact_text` before it leaves.

How it reads, and why:

* Searching works on BYTES: each pattern's encoded forms are found with `bytes.find` over multi-megabyte
  buffers of whole lines; only matching lines are decoded. UTF-16 files are transcoded to UTF-8 chunk by chunk
  first. Memory stays constant. A full `scan` of a large plain file is split at line starts across worker
  processes; `ScanFacts` says whether they ran.
* What depends only on the end of the log (the newest startup block, the last shutdown, lines after `since`)
  reads plain files from the END backwards, or bisects on timestamps, so its cost follows the newest block, not
  the size of the log; a block's lines are decoded and timed only when asked for.
* Line numbers (`LogLine.lineno`) are exact from the start (> 0), or counted from the end (< 0) when counting the
  lines before would cost a full pass; `LogLine.where` renders both ("bot.log:12", "bot.log:3rd line from the
  end"). A line longer than `files.MAX_LINE_BYTES` is handled in pieces (same line number).
* Time: timestamps at the start of a line or in a JSON-lines record's time field; naive ones read in the log's
  zone (`tz`; None = this machine's), across DST changes; a line whose time cannot be told is never counted as
  inside a `since` window (`PatternFacts.undated` counts it). `since` as a `StartupBlock`: exactly the lines from
  that block's first line on.

Modules, each importing only the ones listed before it:

* `files`: the bytes: which files, rotation order, opening (gzip, encoding, newline), the scan stream forwards
  and backwards, decoding a line, line numbers. `LogLine`, `FileProblem`, `LogFacts`.
* `structured`: JSON-lines records (structlog, loguru): a line's message and fields.
* `patterns`: what is searched for (`Pattern`, markers matched by meaning, the default texts) and how it is found
  in raw bytes.
* `timestamps`: timestamp formats, zones and the DST-aware clock, times of lines while streaming, where a `since`
  window starts.
* `blocks`: the newest startup block, the last shutdown and last line, the expected lines in order, and what the
  startup lines say.
* `scanning`: the streaming `scan` and its worker processes.

The sizes tests shrink are module constants of the module that uses them (`files.CHUNK_BYTES`,
`timestamps.CONTEXT_BYTES`, `blocks.MAX_BLOCK_LINES`, `scanning.PARALLEL_MIN_BYTES`, ...), read at call time.
"""

from __future__ import annotations

from harness.probes.logs.blocks import (
    ConfigurationLine,
    ExpectedLine,
    GatewayLine,
    OrderedMatch,
    StartupBlock,
    configuration_line,
    find_in_order,
    gateway_lines,
    last_line,
    last_shutdown,
    newest_startup_block,
)
from harness.probes.logs.files import FileProblem, LogFacts, LogFileFacts, LogLine, find_log_files, inspect_logs
from harness.probes.logs.patterns import (
    DEFAULT_EXPECTED_STARTUP,
    DEFAULT_FORBIDDEN,
    DEFAULT_PATTERNS,
    DEFAULT_SHUTDOWN_PATTERNS,
    DEFAULT_STARTUP_PATTERN,
    DEFAULT_TEXTS,
    Pattern,
    PatternLike,
    error_markers,
    marker,
    markers,
)
from harness.probes.logs.scanning import PatternFacts, ScanFacts, scan
from harness.probes.logs.structured import message_text
from harness.probes.logs.timestamps import DEFAULT_TIMESTAMP_FORMAT, TimestampFormat, log_zone_text, zone_description

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
    "PatternLike",
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
