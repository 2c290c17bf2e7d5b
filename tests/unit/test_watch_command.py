"""harness watch's own options and refusals, and what it shows off a terminal."""

from __future__ import annotations

import argparse
import io
from datetime import datetime, timezone

import pytest

from harness import cli
from harness.cli.watch import parse_duration, planned_rounds
from harness.watch.display import LineDisplay, print_summary, summary_table
from harness.watch.rounds import CHECKS, FAILED, PASSED, TO_CONFIRM, CheckOutcome, Round


@pytest.mark.parametrize(("text", "seconds"), [("1h", 3600), ("5m", 300), ("30s", 30), ("90", 90), ("1.5m", 90),
                                               (" 2M ", 120)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "-5m", "0", "1d", "m5"])
def test_a_bad_duration_is_one_clear_message(text):
    with pytest.raises(argparse.ArgumentTypeError, match="duration"):
        parse_duration(text)


def test_rounds_run_from_the_start_to_the_end_inclusive():
    assert planned_rounds(3600, 300) == 13
    assert planned_rounds(3, 1) == 4
    assert planned_rounds(10, 3) == 4
    assert planned_rounds(60, 60) == 2


@pytest.mark.parametrize(("argv", "says"), [
    (["--every", "0.5s"], "too short"),
    (["--for", "25h"], "longer than 24h"),
    (["--for", "5m", "--every", "10m"], "longer than --for"),
])
def test_refusals_are_one_line_and_start_nothing(argv, says, tmp_path, capsys):
    code = cli.main(["watch", "--evidence-dir", str(tmp_path / "ev"), *argv])
    err = capsys.readouterr().err
    assert code == cli.EXIT_REFUSED and says in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "ev").exists()


def test_a_bad_duration_on_the_command_line_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as raised:
        cli.main(["watch", "--for", "soon"])
    assert raised.value.code == 2 and "is not a duration" in capsys.readouterr().err


def _round(number: int, status: str) -> Round:
    return Round(number, datetime(2026, 11, 25, 20, 0, number, tzinfo=timezone.utc),
                 tuple(CheckOutcome(name, item, status if name == "discord" else PASSED, f"{name}: {status}",
                                    critical=status == FAILED) for name, item, _ in CHECKS))


def test_off_a_terminal_each_round_is_one_line_and_each_doubt_or_failure_one_more():
    out = io.StringIO()
    display = LineDisplay(out)
    display.round_done(_round(1, PASSED), 3)
    display.round_done(_round(2, FAILED), 3)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("round 1/3 at 20:00:01Z: passed (log errors passed")
    assert lines[1].startswith("round 2/3 at 20:00:02Z: FAILED")
    assert lines[2].startswith("  discord [dod_discord_paper] FAILED (CRITICAL: halt the bot): discord: failed")
    assert len(lines) == 3


def test_the_summary_counts_each_check_and_quotes_its_first_failure():
    out = io.StringIO()
    table = summary_table([_round(1, TO_CONFIRM), _round(2, FAILED)], 4, True, "NEEDS REMEDIATION (first-hour)",
                          interactive=False)
    print_summary(table, interactive=False, out=out)
    text = out.getvalue()
    assert "2 of 4 round(s) (stopped early)" in text and "NEEDS REMEDIATION" in text
    discord_row = next(line for line in text.splitlines() if line.startswith("| discord"))
    assert "| 0 " in discord_row and "round 2: discord: failed" in discord_row


def test_the_summary_shows_a_long_first_failure_whole_on_more_lines():
    words = [f"word{n:03d}" for n in range(120)]  # ~960 characters, well beyond a 160-column line
    round_ = Round(1, datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc),
                   tuple(CheckOutcome(name, item, FAILED if name == "log mode" else PASSED,
                                      "LIVE trading mode in the log: " + " ".join(words)) for name, item, _ in CHECKS))
    out = io.StringIO()
    print_summary(summary_table([round_], 1, False, "NEEDS REMEDIATION (first-hour)", interactive=False), False, out)
    text = out.getvalue()
    assert "…" not in text
    shown = text.split()
    assert all(word in shown for word in words), text
    assert sum(1 for line in text.splitlines() if "word" in line) > 1  # folded, not one line cut


def test_brackets_in_a_message_are_shown_as_they_are_never_read_as_markup():
    from rich.console import Console

    from harness.watch.display import LiveDisplay

    odd = "id=3 submitted [by client id + order id]; [/b] [error] closing tag"
    round_ = Round(1, datetime(2026, 11, 25, 20, 0, tzinfo=timezone.utc),
                   tuple(CheckOutcome(name, item, FAILED, odd, critical=True) for name, item, _ in CHECKS))
    out = io.StringIO()
    live = LiveDisplay(Console(file=out, width=200, force_terminal=False))
    with live:
        live.round_done(round_, 1)
    assert "[by client id + order id]; [/b] [error]" in out.getvalue() and "FAILED (CRITICAL)" in out.getvalue()
    summary = io.StringIO()
    print_summary(summary_table([round_], 1, False, "NEEDS [REMEDIATION]", interactive=False), False, summary)
    assert "[by client id + order id]" in summary.getvalue() and "NEEDS [REMEDIATION]" in summary.getvalue()
