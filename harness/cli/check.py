"""`harness check [--phase P] [every option of pytest features/]`: the packaged features, from any folder.

The features and their steps ship inside the package, so an operator who installed the harness (pipx, a venv,
the bot's own environment) runs the checks without a clone. pytest runs them under the harness's own
configuration (`harness/pytest/check.ini`), never the one of the folder it stands in, with the plugin named
explicitly; everything after `check` is pytest's (`--live-gateway`, `--bot-dir`, `-k`, `-v`, `--tb=long`, ...).
The exit status is pytest's, which the plugin makes the verdict's: 0 TRANSITION VERIFIED, 1 NEEDS REMEDIATION,
6 INCOMPLETE.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.core.packaged import check_ini, features_folder
from harness.core.refusal import Refused

HELP = ("Run the checks (the packaged features) from any folder; every option of `pytest features/` works "
        "(`harness check --phase preflight --live-gateway --bot-dir DIR`)")
USAGE = """usage: harness check [--phase PHASE] [pytest options ...]

Runs the harness's features (Task 4.3, one per seed step) with pytest, from any folder: the same checks as
`pytest features/` in a clone. Without --live-gateway they run against the embedded world (a fake IB Gateway,
a fake Discord and a stand-in bot on loopback). Every option of pytest and of the harness works here:
  --phase preflight|transition|first-day|rollback   which phase (default: transition)
  --live-gateway --bot-dir DIR ...                  check your own bot (`pytest --help` lists them all,
                                                    under 'transition harness', once the plugin is named)
Exit status: 0 TRANSITION VERIFIED, 1 NEEDS REMEDIATION, 6 INCOMPLETE (2-5: pytest's own).
"""


def features_dir() -> Path:
    """The packaged features: a folder of the installed package (the clone's features/ in an editable one)."""
    folder = features_folder()
    if folder is None or not any(folder.glob("*.feature")):
        raise Refused(f"this installation holds no feature files ({folder or 'no harness.features'}): reinstall the "
                      "harness")
    return folder


def pytest_args(extra: list[str]) -> list[str]:
    """pytest's arguments for the packaged features: the harness's own ini, rootdir and plugin, then `extra`."""
    folder = features_dir()
    return ["-c", str(check_ini()), "--rootdir", str(folder.parent), "-p", "harness.pytest.plugin", str(folder),
            *extra]


def run(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE, end="")
        return 0
    # pytest in its own process: the command line front end never imports the pytest one (import contracts).
    return subprocess.run([sys.executable, "-m", "pytest", *pytest_args(argv)], check=False).returncode
