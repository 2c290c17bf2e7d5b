"""Failures an operator reads (issue 22): a world that is wrong, and what the terminal shows about it.

The embedded world's bot ignores its .env (BOT_FAULTS=ignore-env: it loads DRY_RUN=true, logs dry-run mode and
announces DRY-RUN), and the startup feature runs against it as an operator runs it. At pytest's default verbosity
(and at -q) each failed check shows its title, its message, the halt advice of this machine's platform when it is
critical, and the run's evidence file, with no traceback; a log marker a regex found is named in words; the verdict
table shows every word of each reason. With --tb=long, or -v, pytest's traceback is back. In a project of its own, a
defect (any exception but a failed check) keeps its traceback, and a failed check's short form is redacted too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.checks import advice
from harness.core.log_texts import DEFAULT_TEXTS, MARKER_WORDS
from tests.acceptance.runner import NAMED_PLUGIN, NOT_THE_OPERATORS, REPO, Run, SharedRuns
from tests.acceptance.test_startup_worlds import CONFIG, DRY_RUN_BOT, NO_DRY, STARTUP, STARTUP_FEATURE, startup_run
from tests.leakcheck import leaks

WORLD = {"BOT_FAULTS": "ignore-env"}
# The runner always passes -q; -v after it is pytest's default verbosity (0), -vv is -v (1).
SHORT = {"-q": (), "default": ("-v",)}
LONG = {"--tb=long": ("--tb=long",), "-v": ("-vv",)}
TRACEBACK_SIGNS = ("_pytest/fixtures.py", "raise CheckFailed(", "Traceback (most recent call last)")
OTHER_PLATFORMS = {"linux": ("win32", "darwin"), "windows": ("linux", "darwin"), "macos": ("win32", "linux")}


def run_of(shared_runs: SharedRuns, flags: tuple[str, ...]) -> Run:
    if not flags:  # the very run test_startup_worlds asserts on: made once per session
        return startup_run(shared_runs, WORLD)
    return shared_runs.features(f"readable failures {flags}", *flags, env=WORLD, paths=STARTUP_FEATURE)


def run_dir(run: Run) -> Path:
    """The run's directory (the one run of its evidence directory)."""
    (found,) = (path for path in (run.evidence / "runs").iterdir() if path.is_dir())
    return found


def rows(run: Run) -> dict[str, dict]:
    """The scenarios' rows of the run's evidence file, by test name."""
    lines = (run_dir(run) / "evidence.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["nodeid"].split("::")[-1]: json.loads(line) for line in lines}


def failures_section(output: str) -> str:
    start = output.index("= FAILURES =")
    return output[start:output.index(" harness verdict: ", start)]


@pytest.mark.parametrize("verbosity", list(SHORT))
def test_a_failed_check_shows_its_title_message_and_evidence_and_no_traceback(shared_runs, verbosity):
    run = run_of(shared_runs, SHORT[verbosity])
    assert run.failed() & STARTUP == DRY_RUN_BOT, run.output[-4000:]
    if verbosity == "default":  # pytest's default verbosity: the file's name before its progress letters
        assert re.search(r"^features/02_startup\.feature [.F]+ ", run.output, re.M), run.output[:2000]
    section = failures_section(run.output)
    for sign in TRACEBACK_SIGNS:
        assert sign not in section, section[:4000]
    recorded = rows(run)
    for name in DRY_RUN_BOT:
        row = recorded[name]
        first, _, halt = row["message"].partition("\n")
        title, _, message = first.partition(": ")
        # The scenario's block: its header, the title, the message, the critical line, the evidence, the hint.
        block = section[section.index(f" {name} "):]
        block = block[block.index("\n") + 1:]
        expected = f"{title}\n  {message}\n" + (f"  {halt}\n" if halt else "") + \
            f"  evidence: {run_dir(run) / 'evidence.jsonl'}\n  (pytest's traceback: run again with --tb=long or -v)\n"
        assert block.startswith(expected), (expected, block[:2000])
        junit = run.outcomes[name].message  # JUnit's message ("title: message", cut when long), then its text
        assert junit.startswith(f"{title}: ") and f"\n{title}\n  {message}\n" in junit, junit
    assert "CRITICAL: " + advice.halt() in recorded[CONFIG]["message"]


def test_a_marker_a_regex_found_is_named_in_words(shared_runs):
    run = run_of(shared_runs, SHORT["default"])
    message = rows(run)[NO_DRY]["message"]
    assert MARKER_WORDS[DEFAULT_TEXTS["dry_run"][3]] in message, message  # "DRY_RUN=true" in the config line
    assert '"dry run mode" (any case, spaces, _ or - between the words)' in message, message
    for regex in (r"(?<![A-Za-z])re:", r"\(\?<", r"\[\\s_-\]", r"\\b"):  # re:..., (?<!, [\s_-], \b
        assert not re.search(regex, run.output), (regex, run.output[-4000:])


def test_the_halt_advice_is_this_platforms(shared_runs):
    run = run_of(shared_runs, SHORT["default"])
    assert advice.halt() in run.output
    for other in OTHER_PLATFORMS[advice.family()]:
        assert advice.stop_the_bot(other) not in run.output


def test_the_verdict_table_shows_every_word_of_each_reason(shared_runs):
    run = run_of(shared_runs, SHORT["default"])
    verdict = json.loads((run_dir(run) / "verdict.json").read_text(encoding="utf-8"))
    table = run.output[run.output.index(" harness verdict: "):]
    table = table[table.index("\n") + 1:table.index("\nNEEDS REMEDIATION")]
    assert "…" not in table, table
    failed = [item for item in verdict["items"] if item["status"] == "FAILED"]
    assert failed and any(len(item["why"]) > 200 for item in failed), failed  # long enough to need wrapping
    shown = table.split()
    for item in failed:
        words = item["why"].split()
        start = shown.index("FAILED", shown.index(item["item"])) + 1  # "item [!] FAILED why..."
        assert shown[start:start + len(words)] == words, (item, table)


@pytest.mark.parametrize("asked", list(LONG))
def test_the_traceback_is_shown_when_the_operator_asks(shared_runs, asked):
    run = run_of(shared_runs, LONG[asked])
    assert run.failed() & STARTUP == DRY_RUN_BOT, run.output[-4000:]
    section = failures_section(run.output)
    assert "_pytest/fixtures.py" in section and "raise CheckFailed(" in section, section[:4000]
    assert "(pytest's traceback: run again" not in section


# -- a project of its own: a check that fails with a secret in its message, and a defect ---------------------
PASSWORD = 'readable-"ß€\'-pw7Q'
CONFTEST = '''
import os

from pytest_bdd import given

from harness.checks import CheckFailed


@given("a check that fails")
def check_fails():
    raise CheckFailed("Planted check failed", f"the password {os.environ['PLANTED_PASSWORD']} was seen, account "
                      "DU1234567", critical=True)


@given("a defect")
def defect():
    broken = {}
    return broken["planted defect"]
'''
FEATURE = ("@transition\nFeature: planted\n  Scenario: a check fails\n    Given a check that fails\n\n"
           "  Scenario: the harness has a defect\n    Given a defect\n")


def test_a_defect_keeps_its_traceback_and_a_short_failure_is_redacted(tmp_path: Path):
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "planted.feature").write_text(FEATURE, encoding="utf-8", newline="\n")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8", newline="\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    quoted = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')  # python-dotenv's double-quoted value
    (tmp_path / ".env").write_text(f'DRY_RUN=true\nIBKR_PASSWORD="{quoted}"\n', encoding="utf-8", newline="\n")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    environ.update({"PLANTED_PASSWORD": PASSWORD, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-p", "no:cacheprovider", *NOT_THE_OPERATORS, *NAMED_PLUGIN,
         "--evidence-dir", str(tmp_path / "ev"), "--bot-dir", str(tmp_path)],
        cwd=tmp_path, env=environ, capture_output=True, timeout=120)
    out = result.stdout.decode("utf-8", errors="replace") + result.stderr.decode("utf-8", errors="replace")
    assert result.returncode == 1, out[-4000:]
    section = out[out.index("= FAILURES ="):]
    check = section[section.index(" test_a_check_fails "):section.index(" test_the_harness_has_a_defect ")]
    defect = section[section.index(" test_the_harness_has_a_defect "):]
    assert "\nPlanted check failed\n  the password " in check and "account DU****567" in check, check
    assert "CRITICAL: " + advice.halt() in check and "  evidence: " in check, check
    assert not any(sign in check for sign in TRACEBACK_SIGNS), check
    assert not leaks(out, PASSWORD, pieces=True) and "DU1234567" not in out, out[-4000:]
    # A defect is the harness's own fault: its traceback stays, down to the line that raised.
    assert "KeyError" in defect and 'return broken["planted defect"]' in defect, defect
    assert "(pytest's traceback: run again" not in defect
