""".gitattributes: a Windows checkout (core.autocrlf=true) keeps `.ci/run` a bash script with LF endings, and
never rewrites a file whose exact bytes are the test (a UTF-16 Task Scheduler export with CRLF)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True,
                          timeout=30).stdout


@pytest.fixture(scope="module")
def attributes():
    if shutil.which("git") is None or not (ROOT / ".gitattributes").is_file():
        pytest.skip("not a git checkout of the harness")
    try:
        _git("rev-parse", "--is-inside-work-tree")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        pytest.skip("not a git checkout of the harness")

    def check(*paths: str) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for line in _git("check-attr", "text", "eol", "diff", "--", *paths).splitlines():
            path, name, value = line.rsplit(": ", 2)
            found.setdefault(path, {})[name] = value
        return found

    return check


def test_the_ci_script_and_shell_scripts_stay_lf(attributes):
    found = attributes(".ci/run", "scripts/x.sh", "harness/core/files.py")
    for path in found:
        assert found[path]["text"] == "set" and found[path]["eol"] == "lf", (path, found[path])


def test_windows_scripts_get_crlf_and_pictures_are_binary(attributes):
    found = attributes("x.bat", "x.cmd", "x.ps1", "picture.png", "logs.gz")
    assert all(found[name]["eol"] == "crlf" for name in ("x.bat", "x.cmd", "x.ps1"))
    assert all(found[name]["text"] == "unset" and found[name]["diff"] == "unset" for name in ("picture.png", "logs.gz"))


def test_every_tracked_file_with_crlf_or_nul_bytes_is_never_converted(attributes):
    special = []
    for name in _git("ls-files", "-z").split("\0"):
        path = ROOT / name
        if name and path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if b"\r\n" in data or b"\0" in data:
                special.append(name)
    assert "tests/unit/fixtures/scheduler/schtasks-export.xml" in special  # the rule sees what it guards
    found = attributes(*special)
    assert {name: found[name]["text"] for name in special} == {name: "unset" for name in special}


def test_a_new_fixture_is_covered_too(attributes):
    found = attributes("tests/unit/fixtures/scheduler/new-export.xml", "tests/unit/fixtures/bot.env")
    assert {path: attrs["text"] for path, attrs in found.items()} == {
        "tests/unit/fixtures/scheduler/new-export.xml": "unset", "tests/unit/fixtures/bot.env": "unset"}
