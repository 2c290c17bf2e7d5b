"""The package list of pyproject.toml is explicit (features/ and steps/ are mapped into the package): a package
of the tree that is missing from it would be missing from the wheel, and `harness check` would break only for
people who installed it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has no tomllib
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[2]


def _setuptools() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_of_the_tree_is_listed_and_every_listed_one_exists():
    config = _setuptools()
    mapped = config["package-dir"]
    tree = {".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "harness").rglob("__init__.py")}
    tree |= set(mapped)  # features/ and steps/, shipped as harness.features and harness.steps
    tree |= set(config["package-data"])  # data folders (the fake gateway's worlds) ship as packages too
    listed = set(config["packages"])
    assert tree <= listed, f"missing from [tool.setuptools] packages: {sorted(tree - listed)}"
    for name in listed:
        folder = REPO / mapped[name] if name in mapped else REPO.joinpath(*name.split("."))
        assert folder.is_dir(), f"{name} is listed but {folder} does not exist"


def test_the_mapped_folders_are_the_clones_features_and_steps():
    mapped = _setuptools()["package-dir"]
    assert mapped == {"harness.features": "features", "harness.steps": "steps"}
    assert any((REPO / "features").glob("*.feature")) and (REPO / "steps" / "__init__.py").is_file()
