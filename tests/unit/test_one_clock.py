"""Time is an input: nothing in the harness, its steps, its benchmarks or its tests reads the system's date or
time of day except harness.core.clock (which a test pins with HARNESS_EMBEDDED_NOW). Durations are measured with
time.monotonic / time.perf_counter, which say nothing of the date."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READS_THE_DATE = re.compile(r"\b(?:datetime\.now|datetime\.today|datetime\.utcnow|date\.today|time\.time"
                            r"|time\.localtime|time\.gmtime|Timestamp\.now|Timestamp\.today)\s*\(")
ALLOWED = {"harness/core/clock.py", "tests/unit/test_clock.py", "tests/unit/test_one_clock.py"}
# Bots written the way others write them, for `harness rehearse`: a real bot lives on real time.
OTHERS_BOTS = "tests/acceptance/rehearse_bots/"


def test_only_the_clock_reads_the_date():
    offenders = []
    for folder in ("harness", "steps", "bench", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in ALLOWED or name.startswith(OTHERS_BOTS):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if READS_THE_DATE.search(line):
                    offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "read the time through harness.core.clock instead:\n" + "\n".join(offenders)


def test_the_rule_sees_what_it_forbids():
    for text in ("datetime.now(timezone.utc)", "date.today()", "stamp = time.time()", "pd.Timestamp.now()"):
        assert READS_THE_DATE.search(text), text
    for text in ("clock.now()", "time.monotonic()", "self.gateway.now()", "# what time.time gives"):
        assert not READS_THE_DATE.search(text), text
