"""Unit tests of the log probe: encodings, line endings, rotation, startup blocks, time windows, DST."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import gzip
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from harness.probes import logs
from harness.probes.logs import (
    DEFAULT_FORBIDDEN,
    Pattern,
    StartupBlock,
    TimestampFormat,
    files,
    find_in_order,
    find_log_files,
    inspect_logs,
    last_line,
    last_shutdown,
    newest_startup_block,
    scan,
    scanning,
    timestamps,
)

NEW_YORK = ZoneInfo("America/New_York")
ERROR_MARKER = logs.DEFAULT_PATTERNS["errors"][1]  # the level word "error", whole, in any case

OLD_BLOCK = [
    "2026-02-09 06:00:00,001 INFO bot.main: Configuration loaded: DRY_RUN=true, PAPER_TRADING=false",
    "2026-02-09 06:00:00,500 INFO bot.main: DRY_RUN mode active",
    "2026-02-09 06:00:01,000 ERROR bot.gateway: connection refused",
    "Traceback (most recent call last):",
    '  File "bot/gateway.py", line 12, in connect',
    "ConnectionRefusedError: [Errno 111] Connection refused",
    "2026-02-09 16:30:00,000 INFO bot.main: Shutting down (clean shutdown)",
]
NEW_BLOCK = [
    "2026-02-10 06:00:00,001 INFO bot.main: Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
    "2026-02-10 06:00:00,100 INFO bot.gateway: Connecting to IBKR Gateway at localhost:4002",
    "2026-02-10 06:00:00,900 INFO bot.gateway: Gateway connection established",
    "2026-02-10 06:00:01,000 INFO bot.main: Paper trading mode ACTIVE — prix 12€, café",
    "2026-02-10 06:00:01,100 INFO bot.main: Bot initialized successfully",
    "2026-02-10 09:31:00,000 INFO bot.orders: order submitted",
]


def write_log(path: Path, lines: list[str], encoding: str = "utf-8", newline: str = "\n") -> Path:
    data = "".join(line + newline for line in lines)
    if encoding == "utf-16-le-nobom":
        raw = data.encode("utf-16-le")
    elif encoding == "utf-16-le":
        raw = b"\xff\xfe" + data.encode("utf-16-le")
    elif encoding == "utf-16-be":
        raw = b"\xfe\xff" + data.encode("utf-16-be")
    else:
        raw = data.encode(encoding)
    path.write_bytes(raw)
    return path


def texts(block: StartupBlock) -> list[str]:
    return [line.text for line in block.lines]


# --- encodings and line endings --------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16-le", "utf-16-be", "utf-16-le-nobom"]
NEWLINES = {"LF": "\n", "CRLF": "\r\n", "CR": "\r"}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("newline", sorted(NEWLINES))
def test_every_encoding_and_newline_gives_the_same_block(tmp_path: Path, encoding: str, newline: str) -> None:
    path = write_log(tmp_path / "bot.log", OLD_BLOCK + NEW_BLOCK, encoding, NEWLINES[newline])

    block = newest_startup_block([path], tz=NEW_YORK)

    assert block is not None
    assert texts(block) == NEW_BLOCK
    assert block.first_lineno == len(OLD_BLOCK) + 1
    assert [line.lineno for line in block.lines] == list(range(8, 8 + len(NEW_BLOCK)))
    assert block.started_at == datetime(2026, 2, 10, 6, 0, 0, 1000, tzinfo=NEW_YORK)
    assert find_in_order(block).all_in_order
    assert not any(line.replaced for line in block.lines)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_scan_counts_and_decodes_non_ascii_patterns_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    path = write_log(tmp_path / "bot.log", OLD_BLOCK + NEW_BLOCK, encoding, "\r\n")

    facts = scan([path], ["DRY_RUN mode active", "12€, café", " ERROR ", "Traceback (most recent call last)"])

    assert [item.count for item in facts.patterns] == [1, 1, 1, 1]
    euro = facts.facts_for("12€, café").first[0]
    assert euro.text == NEW_BLOCK[3]
    assert euro.lineno == 11
    traceback = facts.facts_for("Traceback (most recent call last)").first[0]
    assert traceback.lineno == 4
    assert traceback.timestamp == datetime(2026, 2, 9, 6, 0, 1).astimezone()  # inherited, local zone


def test_inspect_logs_reports_encoding_and_newline(tmp_path: Path) -> None:
    write_log(tmp_path / "bot.log", NEW_BLOCK, "utf-16-le", "\r\n")

    facts = inspect_logs(tmp_path / "bot.log")

    assert facts.problem is None
    (only,) = facts.files
    assert (only.encoding, only.encoding_evidence, only.newline) == ("utf-16-le", "bom", "CRLF")


def test_utf16_without_bom_is_detected_by_its_nul_pattern(tmp_path: Path) -> None:
    write_log(tmp_path / "bot.log", NEW_BLOCK, "utf-16-le-nobom")

    (only,) = inspect_logs(tmp_path / "bot.log").files

    assert (only.encoding, only.encoding_evidence) == ("utf-16-le", "nul-pattern")


def test_a_cp1252_line_in_a_utf8_file_falls_back_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "bot.log"
    path.write_bytes(
        b"2026-02-10 06:00:00,001 INFO Configuration loaded: x\n"
        + "2026-02-10 06:00:00,002 INFO Paper trading mode ACTIVE (é utf-8)\n".encode()
        + "2026-02-10 06:00:00,003 INFO prix 12€ café\n".encode("cp1252")
        + b"2026-02-10 06:00:00,004 INFO undefined byte \x81 here\n"
    )

    block = newest_startup_block([path])

    assert block is not None
    assert [(line.encoding, line.replaced) for line in block.lines] == [
        ("utf-8", False), ("utf-8", False), ("cp1252", False), ("cp1252", True),
    ]
    assert block.lines[2].text.endswith("prix 12€ café")
    assert block.lines[3].text.endswith("undefined byte \ufffd here")


# --- files: rotation, problems ---------------------------------------------------------------------------


def touch(path: Path, mtime: float, text: str = "x\n") -> Path:
    path.write_bytes(text.encode())
    os.utime(path, (mtime, mtime))
    return path


def test_numeric_rotation_is_ordered_oldest_first_gz_included(tmp_path: Path) -> None:
    now = 1_770_000_000.0
    for name in ["bot.log", "bot.log.1", "bot.log.2.gz", "bot.log.10", "other.log", "bot.log.bak"]:
        touch(tmp_path / name, now)

    names = [path.name for path in find_log_files(tmp_path / "bot.log")]

    assert names == ["bot.log.10", "bot.log.2.gz", "bot.log.1", "bot.log"]


def test_dated_rotation_is_ordered_by_date_then_mtime(tmp_path: Path) -> None:
    now = 1_770_000_000.0
    touch(tmp_path / "bot.log", now - 50)
    touch(tmp_path / "bot.log.2026-02-10", now)  # mtime newer than the current file: the date wins
    touch(tmp_path / "bot.log.2026-02-09", now + 10)
    touch(tmp_path / "bot-2026-02-08.log.gz", now)

    names = [path.name for path in find_log_files("bot.log", base_dir=tmp_path)]

    assert names == ["bot-2026-02-08.log.gz", "bot.log.2026-02-09", "bot.log.2026-02-10", "bot.log"]


def test_glob_is_taken_as_written_and_ordered(tmp_path: Path) -> None:
    now = 1_770_000_000.0
    touch(tmp_path / "bot-2026-02-10.log", now)
    touch(tmp_path / "bot-2026-02-09.log.gz", now + 100)
    touch(tmp_path / "gateway.log", now)

    names = [path.name for path in find_log_files(str(tmp_path / "bot-*.log*"))]

    assert names == ["bot-2026-02-09.log.gz", "bot-2026-02-10.log"]


def test_missing_file_and_empty_glob_are_facts_not_exceptions(tmp_path: Path) -> None:
    assert find_log_files(tmp_path / "nope.log") == []
    assert find_log_files(str(tmp_path / "*.log")) == []
    facts = inspect_logs(tmp_path / "nope.log")
    assert facts.files == () and facts.problem is not None and "nope.log" in facts.problem

    result = scan([tmp_path / "nope.log"], DEFAULT_FORBIDDEN)
    assert [problem.kind for problem in result.problems] == ["missing"]
    assert result.total == 0 and result.files == ()
    assert newest_startup_block([tmp_path / "nope.log"]) is None
    assert last_shutdown([tmp_path / "nope.log"]) is None


def test_unreadable_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod cannot stop root (CI containers) or Windows readers, so the opener refuses instead.
    locked = write_log(tmp_path / "bot.log", NEW_BLOCK)
    older = write_log(tmp_path / "bot.log.1", OLD_BLOCK)
    real_open = files.open_binary

    def refuse(path: Path):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path)

    monkeypatch.setattr(files, "open_binary", refuse)

    facts = inspect_logs(locked)
    assert [(problem.path, problem.kind) for problem in facts.problems] == [(str(locked), "unreadable")]
    assert [item.path for item in facts.files] == [str(older)]
    block = newest_startup_block([older, locked])
    assert block is not None and block.path == str(older)
    assert [problem.kind for problem in block.problems] == ["unreadable"]


def test_binary_garbage_is_a_problem(tmp_path: Path) -> None:
    garbage = tmp_path / "bot.log"
    garbage.write_bytes(bytes(range(256)) * 64 + b"\x00\x01\x02" * 1000)

    facts = inspect_logs(garbage)

    assert facts.problem is not None
    assert [problem.kind for problem in facts.problems] == ["binary"]
    assert scan([garbage], DEFAULT_FORBIDDEN).problems[0].kind == "binary"


def test_truncated_gzip_keeps_what_was_read_and_says_so(tmp_path: Path) -> None:
    body = "".join(line + "\n" for line in (OLD_BLOCK * 2000)).encode()
    packed = gzip.compress(body)
    broken = tmp_path / "bot.log.1.gz"
    broken.write_bytes(packed[: len(packed) // 2])

    facts = scan([broken], ["DRY_RUN mode active"])

    assert 0 < facts.patterns[0].count < 2000
    assert [problem.kind for problem in facts.problems] == ["corrupt"]


# --- startup blocks --------------------------------------------------------------------------------------


def test_newest_block_spans_rotated_files(tmp_path: Path) -> None:
    older = write_log(tmp_path / "bot.log.1", OLD_BLOCK + NEW_BLOCK[:3])
    current = write_log(tmp_path / "bot.log", NEW_BLOCK[3:])

    block = newest_startup_block([older, current])

    assert block is not None
    assert block.path == str(older) and block.first_lineno == len(OLD_BLOCK) + 1
    assert block.files == (str(older), str(current))
    assert texts(block) == NEW_BLOCK
    assert [line.where for line in block.lines[2:4]] == [f"{older}:10", f"{current}:1"]
    assert find_in_order(block).all_in_order


def test_newest_block_found_in_gzipped_rotation(tmp_path: Path) -> None:
    packed = tmp_path / "bot.log.2.gz"
    packed.write_bytes(gzip.compress("".join(line + "\n" for line in OLD_BLOCK + NEW_BLOCK[:2]).encode()))
    middle = write_log(tmp_path / "bot.log.1", NEW_BLOCK[2:4])
    current = write_log(tmp_path / "bot.log", NEW_BLOCK[4:])

    files = find_log_files(tmp_path / "bot.log")
    block = newest_startup_block(files)

    assert [path.name for path in files] == ["bot.log.2.gz", "bot.log.1", "bot.log"]
    assert block is not None and block.path == str(packed) and block.first_lineno == 8
    assert texts(block) == NEW_BLOCK
    assert block.files == (str(packed), str(middle), str(current))


def test_no_startup_line_gives_none(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", ["2026-02-10 06:00:00,000 INFO hello"])
    assert newest_startup_block([path]) is None


def test_block_before_since_is_not_returned(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", OLD_BLOCK + NEW_BLOCK)

    assert newest_startup_block([path], since=datetime(2026, 2, 10, 5, 0), tz=NEW_YORK) is not None
    assert newest_startup_block([path], since=datetime(2026, 2, 10, 7, 0), tz=NEW_YORK) is None
    aware = datetime(2026, 2, 10, 10, 30, tzinfo=timezone.utc)  # 05:30 in New York
    assert newest_startup_block([path], since=aware, tz=NEW_YORK) is not None


def test_block_cap_is_reported(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", NEW_BLOCK + [f"2026-02-10 10:00:00,000 INFO tick {i}" for i in range(50)])

    block = newest_startup_block([path], max_lines=10)

    assert block is not None and len(block.lines) == 10 and block.lines_capped


def test_find_in_order_reports_missing_and_out_of_order(tmp_path: Path) -> None:
    shuffled = [NEW_BLOCK[0], NEW_BLOCK[3], NEW_BLOCK[1], NEW_BLOCK[2]]
    path = write_log(tmp_path / "bot.log", shuffled)
    block = newest_startup_block([path])
    assert block is not None

    result = find_in_order(block)

    assert result.out_of_order == ("Paper trading mode ACTIVE",)
    assert result.missing == ("Bot initialized successfully",)
    assert not result.all_in_order
    paper = result.expected[3]
    assert paper.line is not None and paper.line.lineno == 2


def test_lines_from_an_older_block_never_satisfy(tmp_path: Path) -> None:
    # The expected lines exist only in the older block; the newest block is a dry-run start.
    newer = [line.replace("2026-02-09", "2026-02-11") for line in OLD_BLOCK]
    path = write_log(tmp_path / "bot.log", NEW_BLOCK + newer)

    block = newest_startup_block([path])
    assert block is not None
    assert "Paper trading mode ACTIVE" in find_in_order(block).missing

    in_block = scan([path], ["Paper trading mode ACTIVE", "DRY_RUN mode active"], since=block)
    assert [item.count for item in in_block.patterns] == [0, 1]
    after = scan([path], ["Paper trading mode ACTIVE"], since=datetime(2026, 2, 11, 0, 0), tz=NEW_YORK)
    assert after.patterns[0].count == 0
    everything = scan([path], ["Paper trading mode ACTIVE"])
    assert everything.patterns[0].count == 1


def test_scan_from_block_skips_older_files(tmp_path: Path) -> None:
    older = write_log(tmp_path / "bot.log.1", OLD_BLOCK)
    current = write_log(tmp_path / "bot.log", OLD_BLOCK + NEW_BLOCK)
    block = newest_startup_block([older, current])
    assert block is not None

    facts = scan([older, current], DEFAULT_FORBIDDEN, since=block)

    assert facts.total == 0 and facts.files == (str(current),)
    assert facts.from_block == f"{current}:8"


# --- timestamps ------------------------------------------------------------------------------------------


def test_lines_without_timestamp_belong_to_the_previous_line(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", OLD_BLOCK)

    facts = scan([path], ["ConnectionRefusedError"], tz=NEW_YORK)

    (line,) = facts.patterns[0].first
    assert line.timestamp == datetime(2026, 2, 9, 6, 0, 1, tzinfo=NEW_YORK)
    assert line.lineno == 6


def test_a_startup_line_without_timestamp_inherits_from_context(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", [OLD_BLOCK[-1], "Configuration loaded: no stamp", "more"])

    block = newest_startup_block([path], tz=NEW_YORK)

    assert block is not None and block.started_at == datetime(2026, 2, 9, 16, 30, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-02-10T16:45:01", datetime(2026, 2, 10, 16, 45, 1, tzinfo=NEW_YORK)),
        ("2026-02-10 16:45:01.123456", datetime(2026, 2, 10, 16, 45, 1, 123456, tzinfo=NEW_YORK)),
        ("2026-02-10T21:45:01Z", datetime(2026, 2, 10, 21, 45, 1, tzinfo=timezone.utc)),
        ("2026-02-10T16:45:01+01:00", datetime(2026, 2, 10, 15, 45, 1, tzinfo=timezone.utc)),
        ("2026-02-10 16:45:01,5-0500", datetime(2026, 2, 10, 21, 45, 1, 500000, tzinfo=timezone.utc)),
    ],
)
def test_timestamp_variants(tmp_path: Path, stamp: str, expected: datetime) -> None:
    path = write_log(tmp_path / "bot.log", [f"{stamp} INFO Configuration loaded: x"])

    block = newest_startup_block([path], tz="America/New_York")

    assert block is not None and block.started_at == expected


def test_custom_timestamp_format_and_patterns(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", [
        "[10/02/2026 06:00:00] bot starting, settings read",
        "[10/02/2026 06:00:05] MODE=paper",
        "[10/02/2026 07:00:00] SHUTDOWN COMPLETE",
    ])
    fmt = TimestampFormat.from_strftime("%d/%m/%Y %H:%M:%S", prefix=r"\[")

    block = newest_startup_block([path], Pattern(r"bot start\w+", regex=True), tz=NEW_YORK,
                                 timestamp_format=fmt)
    assert block is not None and block.started_at == datetime(2026, 2, 10, 6, 0, tzinfo=NEW_YORK)
    assert find_in_order(block, [Pattern("mode=PAPER", ignore_case=True)]).all_in_order
    shutdown = last_shutdown([path], tz=NEW_YORK, timestamp_format=fmt)
    assert shutdown is not None and shutdown.lineno == 3
    assert shutdown.timestamp == datetime(2026, 2, 10, 7, 0, tzinfo=NEW_YORK)


def test_regex_pattern_with_end_anchor_matches_crlf_lines(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", NEW_BLOCK, newline="\r\n")

    facts = scan([path], [Pattern(r"mode ACTIVE.*café$", regex=True), Pattern("PAPER trading", ignore_case=True)])

    assert [item.count for item in facts.patterns] == [1, 1]


def fall_back_log() -> list[str]:
    # 2026-11-01: New York clocks go from 01:59:59 EDT back to 01:00:00 EST.
    return [
        "2026-11-01 00:30:00,000 INFO Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
        "2026-11-01 01:10:00,000 INFO tick first-pass",
        "2026-11-01 01:40:00,000 INFO tick first-pass",
        "2026-11-01 01:55:00,000 INFO tick first-pass",
        "2026-11-01 01:05:00,000 INFO tick second-pass",
        "2026-11-01 01:30:00,000 INFO tick second-pass",
        "2026-11-01 02:10:00,000 INFO tick after",
    ]


def test_dst_fall_back_hour_is_read_in_order(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", fall_back_log())

    block = newest_startup_block([path], tz=NEW_YORK)

    assert block is not None
    instants = [line.timestamp.astimezone(timezone.utc) for line in block.lines if line.timestamp]
    assert instants == sorted(instants)
    assert [line.timestamp.utcoffset() for line in block.lines if line.timestamp] == [
        timedelta(hours=-4)] * 4 + [timedelta(hours=-5)] * 3
    assert instants[4] - instants[3] == timedelta(minutes=10)


def test_dst_since_inside_the_repeated_hour(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", fall_back_log())
    second_pass_start = datetime(2026, 11, 1, 1, 0, tzinfo=NEW_YORK).replace(fold=1)

    facts = scan([path], ["first-pass", "second-pass", "after"], since=second_pass_start, tz=NEW_YORK)

    assert [item.count for item in facts.patterns] == [0, 2, 1]


def test_since_on_a_larger_file_bisects_and_counts_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "BACK_BLOCK_BYTES", 256)
    monkeypatch.setattr(timestamps, "CONTEXT_BYTES", 512)
    start = datetime(2026, 2, 10, 0, 0)
    lines = [f"{(start + timedelta(minutes=i)).isoformat(sep=' ')},000 INFO tick {i}" for i in range(3000)]
    path = write_log(tmp_path / "bot.log", lines)
    since = start + timedelta(minutes=2500)

    facts = scan([path], ["INFO tick"], since=since, tz=NEW_YORK)

    assert facts.patterns[0].count == 500
    first = facts.patterns[0].first[0]
    assert first.text.endswith("tick 2500") and first.lineno == 2501
    assert facts.patterns[0].last[-1].lineno == 3000
    assert facts.bytes_scanned < path.stat().st_size  # did not read the file from the start


# --- line numbers, reading backwards, huge lines ---------------------------------------------------------


def test_line_numbers_from_the_end_when_counting_would_cost_a_full_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "EXACT_LINENO_LIMIT", 0)
    path = write_log(tmp_path / "bot.log", OLD_BLOCK + NEW_BLOCK)

    block = newest_startup_block([path])
    shutdown = last_shutdown([path])
    final = last_line([path])

    assert block is not None and block.first_lineno == -len(NEW_BLOCK)
    assert [line.lineno for line in block.lines] == list(range(-len(NEW_BLOCK), 0))
    assert block.lines[-1].where == f"{path}:1st line from the end"
    assert shutdown is not None and shutdown.lineno == -(len(NEW_BLOCK) + 1)
    assert final is not None and final.lineno == -1 and final.text == NEW_BLOCK[-1]


def test_small_read_blocks_give_the_same_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "BACK_BLOCK_BYTES", 16)
    monkeypatch.setattr(files, "CHUNK_BYTES", 7)
    path = write_log(tmp_path / "bot.log", OLD_BLOCK * 3 + NEW_BLOCK, newline="\r\n")

    block = newest_startup_block([path])
    facts = scan([path], DEFAULT_FORBIDDEN)

    assert block is not None and texts(block) == NEW_BLOCK and block.first_lineno == 22
    assert facts.facts_for(ERROR_MARKER).count == 3
    assert [line.lineno for line in facts.facts_for(ERROR_MARKER).first] == [3, 10, 17]


def test_huge_line_is_handled_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(files, "CHUNK_BYTES", 1024)
    monkeypatch.setattr(files, "BACK_BLOCK_BYTES", 512)
    huge = "2026-02-10 06:00:02,000 INFO payload " + "x" * 20_000 + " CRITICAL at the end"
    path = write_log(tmp_path / "bot.log", [*NEW_BLOCK[:2], huge, *NEW_BLOCK[2:]])

    facts = scan([path], ["CRITICAL", "Bot initialized successfully"])
    block = newest_startup_block([path])
    final = last_line([path])

    critical = facts.facts_for("CRITICAL").first[0]
    assert critical.lineno == 3 and critical.text.endswith("CRITICAL at the end")
    assert critical.timestamp == datetime(2026, 2, 10, 6, 0, 2).astimezone()
    assert facts.facts_for("Bot initialized successfully").first[0].lineno == 6
    assert block is not None and block.lines[-1].lineno == 7
    assert max(len(line.text) for line in block.lines) <= 4096
    assert final is not None and final.lineno == 7


def test_last_shutdown_and_last_line(tmp_path: Path) -> None:
    older = write_log(tmp_path / "bot.log.1", OLD_BLOCK)
    current = write_log(tmp_path / "bot.log", [*NEW_BLOCK, "", "   "])

    shutdown = last_shutdown([older, current], tz=NEW_YORK)
    final = last_line([older, current])

    assert shutdown is not None and shutdown.where == f"{older}:7"
    assert shutdown.timestamp == datetime(2026, 2, 9, 16, 30, tzinfo=NEW_YORK)
    assert final is not None and final.text == NEW_BLOCK[-1] and final.lineno == 6


def test_scan_keeps_first_and_last_few(tmp_path: Path) -> None:
    path = write_log(tmp_path / "bot.log", [f"2026-02-10 06:00:{i:02d},000 ERROR bot: e{i} " for i in range(20)])

    facts = scan([path], [" ERROR "], keep=3)

    item = facts.patterns[0]
    assert item.count == 20
    assert [line.lineno for line in item.first] == [1, 2, 3]
    assert [line.lineno for line in item.last] == [18, 19, 20]


def test_parallel_scan_equals_the_single_process_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scanning, "PARALLEL_MIN_BYTES", 1)
    lines = OLD_BLOCK * 300 + NEW_BLOCK * 2
    path = write_log(tmp_path / "bot.log", lines, newline="\r\n")

    alone = scan([path], DEFAULT_FORBIDDEN, workers=1)
    together = scan([path], DEFAULT_FORBIDDEN, workers=2)

    # The pool really ran: two worker processes scanned a range each (a pool that fails is recorded, not hidden).
    assert (together.worker_ranges, together.worker_failure) == (2, None)
    assert (alone.worker_ranges, alone.worker_failure) == (0, None)
    assert dataclasses.replace(together, worker_ranges=0) == alone
    assert alone.facts_for(ERROR_MARKER).count == 300
    assert [line.lineno for line in alone.facts_for(ERROR_MARKER).last] == [
        3 + 7 * n for n in range(295, 300)]


def test_worker_ranges_start_at_line_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A range starting inside a line would cut it in two, and neither piece is a whole "<date> ... END" line.
    monkeypatch.setattr(scanning, "PARALLEL_MIN_BYTES", 1)
    lines = [f"2026-02-10 06:00:{n % 60:02d},000 INFO tick {n} " + "x" * (n % 97) + " END" for n in range(2000)]
    path = write_log(tmp_path / "bot.log", lines)
    whole_line = Pattern(r"^\d{4}-\d\d-\d\d .* END$", regex=True)

    facts = scan([path], [whole_line], workers=3, keep=1)

    assert (facts.worker_ranges, facts.worker_failure) == (3, None)
    found = facts.patterns[0]
    assert found.count == len(lines)
    assert [(line.lineno, line.text) for line in found.first + found.last] == [(1, lines[0]), (2000, lines[-1])]


def test_a_pool_that_cannot_start_is_recorded_and_the_scan_still_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scanning, "PARALLEL_MIN_BYTES", 1)
    path = write_log(tmp_path / "bot.log", OLD_BLOCK * 300, newline="\r\n")

    def no_processes(*args: object, **kwargs: object) -> None:
        raise OSError(38, "Function not implemented")  # what a sandbox without semaphores says

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_processes)

    facts = scan([path], DEFAULT_FORBIDDEN, workers=2)

    assert facts.worker_ranges == 0
    assert facts.worker_failure == "OSError: [Errno 38] Function not implemented"
    assert facts.facts_for(ERROR_MARKER).count == 300
    assert [line.lineno for line in facts.facts_for(ERROR_MARKER).first] == [3, 10, 17, 24, 31]
