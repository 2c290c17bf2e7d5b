"""Which pytest runs get a run directory (and Allure results by default): only those that name feature files."""

from __future__ import annotations

from pathlib import Path

from harness.pytest.run_session import asks_for_feature_files


def test_a_run_of_feature_files_or_their_folder_asks_for_them(tmp_path: Path) -> None:
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "00_preflight.feature").write_text("Feature: x\n", encoding="utf-8")
    assert asks_for_feature_files(["features/"], tmp_path)
    assert asks_for_feature_files(["features/00_preflight.feature::test_x"], tmp_path)
    assert asks_for_feature_files(["."], tmp_path)  # one level down
    assert asks_for_feature_files(["tests", str(tmp_path / "features")], tmp_path)


def test_a_run_of_a_project_without_feature_files_does_not(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_x():\n    pass\n", encoding="utf-8")
    assert not asks_for_feature_files(["."], tmp_path)
    assert not asks_for_feature_files(["tests/test_x.py::test_x", "no/such/folder"], tmp_path)
    assert not asks_for_feature_files([], tmp_path)
