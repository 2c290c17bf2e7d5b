"""Property tests: reading from the end gives what a naive forward reader gives, for random logs."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.probes import logs
from harness.probes.logs import files, timestamps

STARTUP = "Configuration loaded:"
MARKER = "CRITICAL"

line_text = st.one_of(
    st.sampled_from([
        f"2026-02-10 06:00:00,000 INFO {STARTUP} DRY_RUN=false",
        f"{STARTUP} without a timestamp",
        f"2026-02-10 06:00:01,000 {MARKER} boom",
        "2026-02-10 06:00:02,000 INFO Paper trading mode ACTIVE",
        "Traceback (most recent call last):",
        "",
        "  café € ünïcode",
    ]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n"), max_size=40),
)


@st.composite
def random_logs(draw: st.DrawFn) -> tuple[list[list[str]], str, str, bool]:
    files = draw(st.lists(st.lists(line_text, min_size=1, max_size=30), min_size=1, max_size=3))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    trailing = draw(st.booleans())
    return files, newline, encoding, trailing


# Each size is patched on the module that reads it.
OWNERS = {"BACK_BLOCK_BYTES": files, "CHUNK_BYTES": files, "EXACT_LINENO_LIMIT": files, "CONTEXT_BYTES": timestamps}


@contextlib.contextmanager
def tunables(**values: int) -> Iterator[None]:
    saved = {name: getattr(OWNERS[name], name) for name in values}
    for name, value in values.items():
        setattr(OWNERS[name], name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(OWNERS[name], name, value)


def write(directory: Path, files: list[list[str]], newline: str, encoding: str, trailing: bool) -> list[Path]:
    paths = []
    for number, lines in enumerate(files):
        if not trailing and lines[-1] == "":
            lines[-1] = "end"
        text = newline.join(lines) + (newline if trailing else "")
        path = directory / f"bot.log.{len(files) - 1 - number}"
        path.write_bytes(text.encode(encoding))
        paths.append(path)
    return paths


def naive_newest_block(files: list[list[str]], paths: list[Path]) -> tuple[str, int, list[str]] | None:
    for position in range(len(files) - 1, -1, -1):
        starts = [index for index, text in enumerate(files[position]) if STARTUP in text]
        if starts:
            first = starts[-1]
            lines = files[position][first:] + [text for later in files[position + 1 :] for text in later]
            return str(paths[position]), first + 1, lines
    return None


def lone_cr_safe(files: list[list[str]], newline: str) -> bool:
    # A file with no line break at all cannot show its newline style; a one-line file is still right.
    return newline != "\r" or all(len(lines) > 1 for lines in files)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs(), st.integers(min_value=8, max_value=64), st.booleans())
def test_backwards_reader_equals_forward_reader(case, block_bytes: int, exact: bool) -> None:
    files, newline, encoding, trailing = case
    if not lone_cr_safe(files, newline):
        return
    with tempfile.TemporaryDirectory() as directory, tunables(
        BACK_BLOCK_BYTES=block_bytes, CHUNK_BYTES=block_bytes + 3, CONTEXT_BYTES=block_bytes * 2,
        EXACT_LINENO_LIMIT=1 << 30 if exact else 0,
    ):
        paths = write(Path(directory), files, newline, encoding, trailing)
        expected = naive_newest_block(files, paths)

        block = logs.newest_startup_block(paths, max_lines=10_000)

        if expected is None:
            assert block is None
            return
        assert block is not None
        path, first_lineno, texts = expected
        assert block.path == path
        assert [line.text for line in block.lines] == texts
        own_file_lines = len(files[[str(p) for p in paths].index(path)])
        if exact or encoding == "utf-16" or first_lineno == 1:  # nothing before it: counting is free
            assert block.first_lineno == first_lineno
        else:
            assert block.first_lineno == first_lineno - own_file_lines - 1


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_logs(), st.integers(min_value=8, max_value=64))
def test_scan_counts_equal_a_naive_count(case, chunk_bytes: int) -> None:
    files, newline, encoding, trailing = case
    if not lone_cr_safe(files, newline):
        return
    with tempfile.TemporaryDirectory() as directory, tunables(CHUNK_BYTES=chunk_bytes):
        paths = write(Path(directory), files, newline, encoding, trailing)

        facts = logs.scan(paths, [MARKER, "café"])
        block = logs.newest_startup_block(paths, max_lines=10_000)

        every_line = [(path, index + 1, text) for path, lines in zip(paths, files, strict=True)
                      for index, text in enumerate(lines)]
        for pattern in (MARKER, "café"):
            hits = [(str(path), lineno) for path, lineno, text in every_line if pattern in text]
            found = facts.facts_for(pattern)
            assert found.count == len(hits)
            assert [(line.path, line.lineno) for line in found.first] == hits[:5]
            assert [(line.path, line.lineno) for line in found.last] == hits[-5:]
        if block is not None:
            in_block = logs.scan(paths, [MARKER], since=block)
            expected = sum(1 for line in block.lines if MARKER in line.text)
            assert in_block.patterns[0].count == expected


NEW_YORK = ZoneInfo("America/New_York")
FALL_BACK = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)  # 02:00 EDT becomes 01:00 EST


@st.composite
def timed_logs(draw: st.DrawFn) -> tuple[list[tuple[datetime, bool]], datetime]:
    """Lines at increasing instants around the fall-back (steps up to 20 minutes), some marked."""
    instant = FALL_BACK - timedelta(minutes=draw(st.integers(min_value=0, max_value=300)))
    lines = []
    for _ in range(draw(st.integers(min_value=1, max_value=120))):
        instant += timedelta(seconds=draw(st.integers(min_value=1, max_value=1200)))
        lines.append((instant, draw(st.booleans())))
    low, high = lines[0][0] - timedelta(minutes=5), lines[-1][0] + timedelta(minutes=5)
    since = low + (high - low) * draw(st.floats(min_value=0, max_value=1))
    return lines, since


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timed_logs(), st.integers(min_value=40, max_value=400))
def test_since_window_across_the_fall_back_equals_a_naive_filter(case, block_bytes: int) -> None:
    lines, since = case
    rendered = [
        f"{instant.astimezone(NEW_YORK):%Y-%m-%d %H:%M:%S},000 INFO {'MARK' if marked else 'tick'} {number}"
        for number, (instant, marked) in enumerate(lines)
    ]
    # The documented reading: while the log has shown no line outside the fall-back hour and no step back,
    # a wall time in that hour is read as its first pass, and when its other reading is inside the window
    # the line is "undated" (neither counted nor dropped silently).
    expected, undated = [], 0
    certain = False
    previous_wall: datetime | None = None
    for number, (instant, marked) in enumerate(lines):
        wall = instant.astimezone(NEW_YORK).replace(tzinfo=None)
        ambiguous = wall.replace(tzinfo=NEW_YORK, fold=0).utcoffset() != wall.replace(
            tzinfo=NEW_YORK, fold=1).utcoffset()
        stepped_back = previous_wall is not None and previous_wall - wall > timedelta(seconds=30)
        certain = certain or not ambiguous or stepped_back
        previous_wall = wall
        reading = instant if certain else wall.replace(tzinfo=NEW_YORK, fold=0)
        if marked and reading >= since:
            expected.append(number + 1)
        elif marked and not certain and wall.replace(tzinfo=NEW_YORK, fold=1) >= since:
            undated += 1
    with tempfile.TemporaryDirectory() as directory, tunables(BACK_BLOCK_BYTES=block_bytes,
                                                               CONTEXT_BYTES=block_bytes * 2):
        path = Path(directory) / "bot.log"
        path.write_text("\n".join(rendered) + "\n", encoding="utf-8")

        facts = logs.scan([path], ["MARK"], since=since, tz=NEW_YORK, keep=200)

    found = facts.patterns[0]
    assert found.count == len(expected)
    assert found.undated == undated
    assert [line.lineno for line in found.first] == expected


# -- markers by meaning ------------------------------------------------------------------------------------------
def _cased(draw: st.DrawFn, word: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c.lower() for c in word)


@st.composite
def live_mentions(draw: st.DrawFn) -> str:
    """'live trading mode' in any case, any separators, with words around that do not negate it."""
    words = draw(st.sampled_from([("live", "trading", "mode"), ("live", "mode"), ("live", "trading", "active")]))
    separators = [draw(st.sampled_from([" ", "_", "-", "  ", " - "])) for _ in words[1:]]
    phrase = _cased(draw, words[0]) + "".join(s + _cased(draw, w) for s, w in zip(separators, words[1:], strict=True))
    before = draw(st.sampled_from(["", "WARNING bot: ", "Switching to ", "[main] ", '{"event": "']))
    after = draw(st.sampled_from(["", " ACTIVE", " enabled", "!", " (orders go to U1234567)",
                                  '", "level": "warning"}']))
    return before + phrase + after


@given(live_mentions())
@settings(max_examples=300, deadline=None)
def test_any_wording_of_live_mode_is_a_live_marker(text: str) -> None:
    assert any(pattern.matches(text) for pattern in logs.DEFAULT_PATTERNS["live_mode"]), text


@given(live_mentions(), st.sampled_from(["not in ", "NOT ", "no ", "never ", "cannot enter "]))
@settings(max_examples=200, deadline=None)
def test_a_negated_live_mode_is_not_a_live_marker(text: str, negation: str) -> None:
    bare = text.removeprefix("Switching to ").removeprefix("WARNING bot: ").removeprefix("[main] ")
    bare = bare.removeprefix('{"event": "')
    assert not any(pattern.matches(negation + bare) for pattern in logs.DEFAULT_PATTERNS["live_mode"]), bare


marker_lines = st.one_of(
    live_mentions(),
    st.sampled_from(["Dry-run mode ACTIVE", "DRY_RUN=true", "not in live mode", "LIVE_PORT=4001", "ERROR:bot:x",
                     "error_count=0", "[critical] x", "LİVE MODE", "live mode: off", "Paper trading mode ACTIVE"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n"), max_size=30),
)


@given(st.lists(marker_lines, min_size=1, max_size=40), st.sampled_from(["utf-8", "utf-16"]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_scan_of_markers_equals_matching_each_line(lines: list[str], encoding: str) -> None:
    """The byte search (keyword first, then the line confirmed) counts what matching each decoded line counts."""
    patterns = logs.DEFAULT_FORBIDDEN + logs.DEFAULT_PATTERNS["paper_active"]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bot.log"
        path.write_text("\n".join(lines) + "\n", encoding=encoding)
        facts = logs.scan([path], patterns, workers=1)
    for pattern, found in zip(patterns, facts.patterns, strict=True):
        assert found.count == sum(1 for line in lines if pattern.matches(line)), (str(pattern), lines)
