"""No secret leaves the machine through pytest's own machinery: an internal error, or what is printed once the
session is over.

A small project of one scenario, whose conftest (standing for any plugin or hook of the harness) plants the
Discord token (known to the harness from DISCORD_BOT_TOKEN), a password (known only from the bot's .env) and a full
account id in what it raises, warns and prints:
- "internal": a hook raises inside pytest's run loop, so pytest prints INTERNALERROR lines (and JUnit records
  them), in its native traceback and in its long one with locals (--fulltrace -l);
- "finish": a plugin's terminal summary raises, which pytest would let out as Python's own traceback: the harness
  reports it as an internal error;
- "after the session": a warning while collecting (the warnings summary), a module skipped at collection (`-ra`,
  and JUnit), a plugin's terminal summary line and a warning in it (the final warnings summary), and, while pytest
  unconfigures, a warning and an unraisable exception (which Python shows on stderr).
Each must reach the output with the secrets masked, and the internal error keeps its traceback's shape.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.runner import NAMED_PLUGIN, NOT_THE_OPERATORS, REPO
from tests.leakcheck import WEIRD_TOKEN, leaks

PASSWORD = 'int-err-"ß€\'-pw7Q'
FULL_ACCOUNT_IDS = ("DU1234567", "U7654321")

CONFTEST = '''
import os
import warnings

from pytest_bdd import given

TOKEN = os.environ["DISCORD_BOT_TOKEN"]
PASSWORD = os.environ["PLANTED_PASSWORD"]
PLANT = os.environ["PLANT"]
SAID = f"token {TOKEN!r} {TOKEN} password {PASSWORD!r} {PASSWORD} accounts DU1234567 U7654321"


@given("nothing")
def nothing():
    pass


def pytest_collection_modifyitems(items):
    if PLANT == "after":
        warnings.warn(UserWarning(f"collection saw {SAID}"))


def pytest_runtest_logfinish(nodeid):
    if PLANT == "internal":
        raise ValueError(f"the hook saw {SAID}")


def pytest_terminal_summary(terminalreporter):
    if PLANT == "finish":
        raise ValueError(f"the summary hook saw {SAID}")
    if PLANT == "after":
        terminalreporter.write_line(f"a plugin's summary saw {SAID}")
        warnings.warn(UserWarning(f"the terminal summary saw {SAID}"))


class Unraisable:
    def __del__(self):
        raise ValueError(f"__del__ saw {SAID}")


def pytest_unconfigure(config):
    if PLANT == "after":
        warnings.warn(UserWarning(f"unconfigure saw {SAID}"))
        cycle = Unraisable()
        cycle.itself = cycle  # freed by the collection pytest runs as it unconfigures: an unraisable exception
        del cycle
'''

SKIPPED_MODULE = 'import os\nimport pytest\n\npytest.skip(f"module skipped: {os.environ[\'PLANTED_PASSWORD\']} ' \
                 'DU1234567", allow_module_level=True)\n'

RUNS = {
    "internal error": ("internal", ()),
    "internal error, long traceback with locals": ("internal", ("--fulltrace", "-l")),
    "a hook raising as the session finishes": ("finish", ()),
    "after the session": ("after", ("-ra",)),
}
# Where each internal error is raised: a hook of the run loop, and a terminal summary (which pytest would let out
# as Python's own traceback).
RAISED_IN = {"internal": ("pytest_runtest_logfinish", "ValueError: the hook saw token"),
             "finish": ("pytest_terminal_summary", "ValueError: the summary hook saw token")}


def _dotenv_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _project(root: Path, plant: str) -> None:
    (root / "features").mkdir(parents=True)
    (root / "features" / "one.feature").write_text(
        "@transition\nFeature: one\n  Scenario: one step\n    Given nothing\n", encoding="utf-8", newline="\n")
    if plant == "after":
        (root / "features" / "test_skipped_module.py").write_text(SKIPPED_MODULE, encoding="utf-8", newline="\n")
    (root / "conftest.py").write_text(CONFTEST, encoding="utf-8", newline="\n")
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (root / ".env").write_text(f"DRY_RUN=true\nIBKR_PASSWORD={_dotenv_quoted(PASSWORD)}\n", encoding="utf-8",
                               newline="\n")


def _run(root: Path, plant: str, flags: tuple[str, ...]) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    environ.update({"DISCORD_BOT_TOKEN": WEIRD_TOKEN, "PLANTED_PASSWORD": PASSWORD, "PLANT": plant,
                    "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(REPO)})
    junit = root / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-p", "no:cacheprovider", *NOT_THE_OPERATORS, *NAMED_PLUGIN,
         f"--junitxml={junit}", "--evidence-dir", str(root / "ev"), "--bot-dir", str(root), *flags],
        cwd=root, env=environ, capture_output=True, timeout=120,
    )
    texts = {"stdout": result.stdout.decode("utf-8", errors="replace"),
             "stderr": result.stderr.decode("utf-8", errors="replace")}
    if junit.exists():
        texts["junit"] = junit.read_text(encoding="utf-8", errors="replace")
    texts["exit code"] = str(result.returncode)
    return texts


def _leaks(texts: dict[str, str]) -> list[str]:
    found = [f"token ({form}) in {where}" for where, text in texts.items()
             for form in leaks(text, WEIRD_TOKEN, pieces=True)]
    found += [f"password ({form}) in {where}" for where, text in texts.items()
              for form in leaks(text, PASSWORD, pieces=True)]
    found += [f"{account} in {where}" for where, text in texts.items() for account in FULL_ACCOUNT_IDS
              if account in text]
    return found


@pytest.mark.parametrize("run", list(RUNS))
def test_no_secret_in_an_internal_error_or_after_the_session(tmp_path, run):
    plant, flags = RUNS[run]
    _project(tmp_path, plant)
    texts = _run(tmp_path, plant, flags)
    out, err = texts["stdout"], texts["stderr"]
    shown = out + err
    found = _leaks(texts)
    assert not found, "\n".join(found[:40])
    if plant in RAISED_IN:
        assert texts["exit code"] == "3", shown[-3000:]
        lines = [line for line in shown.splitlines() if line.startswith("INTERNALERROR>")]
        # The traceback's shape stays: the frames down to the hook that raised, and the exception's own line.
        frame, exception = RAISED_IN[plant]
        assert any(frame in line for line in lines), shown[-3000:]
        assert any(exception in line for line in lines), shown[-3000:]
        assert "DU****567" in "\n".join(lines), shown[-3000:]
        assert "Traceback (most recent call last)" not in err, err[-3000:]
        if plant == "internal":  # JUnit is written before the summary: an error there is not in it
            assert "internal error" in texts.get("junit", ""), shown[-3000:]
    else:
        assert "1 passed" in out and "1 skipped" in out, shown[-3000:]
        for said in ("collection saw", "a plugin's summary saw", "the terminal summary saw", "module skipped"):
            assert said in out, f"{said!r} was not printed: the test plants nothing there\n{out[-3000:]}"
        assert "warnings summary (final)" in out and "SKIPPED [1]" in out, out[-3000:]
        for said in ("unconfigure saw", "__del__ saw"):
            assert said in err, f"{said!r} was not printed: the test plants nothing there\n{err[-3000:]}"
