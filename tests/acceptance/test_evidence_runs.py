"""Evidence accumulates: every run of the operator's command leaves its own directory under
<evidence-dir>/runs/ (docs/evidence-layout.md) with its rows, its verdict, run.json and Allure results carrying
the checklist's labels, environment.properties and categories.json, without --alluredir; --alluredir still wins;
a parallel run leaves one directory; a run of no scenario leaves none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from harness.core import dod
from harness.evidence.runs import latest_runs, list_runs
from tests.acceptance.runner import REPO, run_features

CATEGORY_NAMES = {"Wrong mode or account", "Could not look: operator to confirm", "Harness error"}


def _allure_results(folder: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*-result.json")]


def _labels(result: dict, name: str) -> list[str]:
    return [label["value"] for label in result.get("labels", []) if label["name"] == name]


def _properties(folder: Path) -> dict[str, str]:
    lines = (folder / "environment.properties").read_text(encoding="ascii").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _scenario_tests(run) -> set[str]:
    return set(run.outcomes)


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_two_runs_leave_two_run_directories_each_with_its_evidence(tmp_path):
    evidence = tmp_path / "evidence"
    preflight = run_features(_folder(tmp_path / "first"), "--evidence-dir", str(evidence), "--phase", "preflight")
    transition = run_features(_folder(tmp_path / "second"), "--evidence-dir", str(evidence))
    assert preflight.outcomes and transition.outcomes, preflight.output[-2000:] + transition.output[-2000:]
    assert transition.code == 0 and not transition.failed(), transition.output[-3000:]
    assert f"evidence of this run: {list_runs(evidence)[-1].path}" in transition.output

    runs = list_runs(evidence)
    assert [run.phase for run in runs] == ["preflight", "transition"], [run.path for run in runs]
    for run, pytest_run in zip(runs, (preflight, transition), strict=True):
        assert run.finished and run.world == "embedded" and run.path.name == run.run_id
        assert run.run_id.endswith(f"-{run.phase}-embedded")
        assert run.info["harness_version"] and run.info["exit_status"] == pytest_run.code
        # Its rows: one per scenario that ran, whatever the next run wrote.
        assert {row["nodeid"].split("::")[-1] for row in run.rows()} == _scenario_tests(pytest_run)
        assert all(run.phase.replace("-", "_") in row["tags"] for row in run.rows())
        assert not any(tag.startswith("allure") for row in run.rows() for tag in row["tags"])
        # Its verdict: the same body as the phase's verdict at the top (which `harness confirm` reads).
        top = json.loads((evidence / f"verdict-{run.phase}.json").read_text(encoding="utf-8"))
        assert run.verdict() == top and run.info["overall"] == top["overall"]

        results_dir = run.allure_results()
        assert results_dir == run.path / "allure-results", "Allure results must be written without --alluredir"
        results = _allure_results(results_dir)
        assert len(results) == len(pytest_run.outcomes)
        for result in results:
            assert _labels(result, "epic") == ["Task 4.3"], result["name"]
            assert _labels(result, "severity") in (["critical"], ["normal"])
            items = [dod.BY_ID[tag] for tag in _labels(result, "tag") if tag in dod.BY_ID]
            assert items, f"{result['name']} names no checklist item"
            assert set(_labels(result, "feature")) == {item.section for item in items}
            assert set(_labels(result, "story")) == {item.text for item in items}
            assert {link["name"] for link in result.get("links", [])} >= {f"DoD item {i.id}" for i in items}
            critical = "critical" in _labels(result, "tag")
            assert _labels(result, "severity") == (["critical"] if critical else ["normal"])
        props = _properties(results_dir)
        assert props["phase"] == run.phase and props["world"] == "embedded"
        assert props["harness.version"] and props["allure-pytest-bdd.version"]
        categories = json.loads((results_dir / "categories.json").read_text(encoding="utf-8"))
        assert {c["name"] for c in categories} >= CATEGORY_NAMES

    # The transition read the paper gateway: its facts are kept, account ids masked; .env mode and account shown.
    transition_run = runs[1]
    paper = transition_run.paper_account()
    assert paper is not None and paper["accounts"] and all("****" in a for a in paper["accounts"])
    props = _properties(transition_run.allure_results())
    assert props["account"] == ", ".join(paper["accounts"])
    assert props["mode"] == "DRY_RUN=false PAPER_TRADING=true"
    assert props["gateway"] == f"{paper['host']}:{paper['port']}"
    assert (transition_run.path / "stand-in-bot-output.txt").is_file()
    # The top-level evidence.jsonl is the newest run's.
    top_rows = [json.loads(line) for line in (evidence / "evidence.jsonl").read_text(encoding="utf-8").splitlines()]
    assert top_rows == transition_run.rows()
    assert set(latest_runs(evidence)) == {"preflight", "transition"}


def test_an_explicit_alluredir_wins(tmp_path):
    evidence, allure = tmp_path / "evidence", tmp_path / "allure"
    run = run_features(tmp_path, "--evidence-dir", str(evidence), "--alluredir", str(allure))
    [record] = list_runs(evidence)
    assert record.finished and record.rows()
    assert not (record.path / "allure-results").exists()
    assert record.info["allure_results"] == str(allure.absolute())
    assert record.allure_results() == allure.absolute()
    assert len(_allure_results(allure)) == len(run.outcomes)
    assert (allure / "environment.properties").is_file() and (allure / "categories.json").is_file()


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest with the test extras (pytest-xdist), as the suite runs; the run's own --basetemp."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--basetemp={tmp_path / 'bt'}",
               *args]
    return subprocess.run(command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=300)


def test_a_parallel_run_leaves_one_run_directory_with_every_scenario(tmp_path):
    evidence = tmp_path / "evidence"
    serial = run_features(_folder(tmp_path / "serial"), "--evidence-dir", str(tmp_path / "serial-evidence"))
    result = _pytest(tmp_path, "features/", "-n", "2", "--evidence-dir", str(evidence))
    assert result.returncode == serial.code == 0, result.stdout[-3000:] + result.stderr[-3000:] + serial.output
    [record] = list_runs(evidence)
    assert record.finished and record.phase == "transition"
    assert sorted(p.name for p in record.path.glob("evidence*.jsonl")) == ["evidence-gw0.jsonl", "evidence-gw1.jsonl"]
    nodeids = [row["nodeid"] for row in record.rows()]
    assert len(nodeids) == len(set(nodeids)) == len(serial.outcomes)
    assert {n.split("::")[-1] for n in nodeids} == set(serial.outcomes)
    assert record.verdict() is not None and record.verdict()["overall"] == record.info["overall"]
    results = _allure_results(record.allure_results())
    assert len(results) == len(serial.outcomes) and all(_labels(r, "epic") == ["Task 4.3"] for r in results)
    assert (record.allure_results() / "environment.properties").is_file()
    assert record.paper_account() is not None


def test_a_run_of_no_scenario_leaves_no_run_directory(tmp_path):
    evidence = tmp_path / "evidence"
    result = _pytest(tmp_path, "tests/unit/test_runs.py", "-p", "no:xdist", "--evidence-dir", str(evidence))
    assert result.returncode == 0, result.stdout[-3000:]
    assert not evidence.exists(), sorted(str(p) for p in evidence.rglob("*"))


def test_a_pytest_run_with_no_session_leaves_no_run_directory(tmp_path):
    # `--help` and `--markers` configure the plugins (the run directory is made then) but never start a session.
    for option in ("--help", "--markers"):
        evidence = tmp_path / option.strip("-")
        result = _pytest(tmp_path, option, "--evidence-dir", str(evidence))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert not evidence.exists(), (option, sorted(str(p) for p in evidence.rglob("*")))


def test_another_project_with_the_harness_installed_finds_nothing_made_and_allure_off(tmp_path):
    """The plugin loads in every pytest run where the harness is installed: a project of its own, with no feature
    file, gets no reports/ folder, no Allure results and no patched Allure."""
    project = tmp_path / "other-project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "test_x.py").write_text(
        "def test_allure_is_off(pytestconfig):\n"
        "    assert getattr(pytestconfig.option, 'allure_report_dir', None) is None\n", encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:xdist"],
                            cwd=project, env=environ, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert sorted(p.name for p in project.iterdir()) == ["tests"], sorted(str(p) for p in project.rglob("*"))
