"""docs/fault-matrix.md is what the acceptance tests' world tables say, and every row names a test that exists."""

from __future__ import annotations

import importlib

from tests.acceptance import matrix


def test_the_committed_fault_matrix_is_current():
    committed = matrix.DOC.read_text(encoding="utf-8") if matrix.DOC.exists() else ""
    assert committed.replace("\r\n", "\n") == matrix.render(), (
        "docs/fault-matrix.md is stale: run `python -m tests.acceptance.matrix` and commit the result")


def test_every_row_is_asserted_by_a_test_of_its_section():
    for module, _heading, faults in [*matrix.rows(), *matrix.chain_rows()]:
        tests = importlib.import_module(f"tests.acceptance.{module}")
        for fault in faults:
            where, name = fault.test.split("::")
            assert where == f"{module}.py", fault
            assert callable(getattr(tests, name, None)), f"{fault.world}: no test {fault.test}"
            for scenario in getattr(fault, "fails", frozenset()) | getattr(fault, "skips", frozenset()):
                matrix.title(scenario)  # a scenario of features/*.feature, or KeyError


def test_every_world_has_its_own_name_in_its_section():
    for module, _heading, faults in matrix.rows():
        names = [fault.world for fault in faults]
        assert len(names) == len(set(names)), module


# Acceptance modules that break no world on purpose (usage errors, redaction, the verdict, this file), or whose
# worlds are judged by another output than the scenarios that fail: the run directories, `harness watch`'s rounds,
# the transition log, the HTML report, the terminal's wording of a failure (test_startup_worlds' "bot ignores the
# .env mode" world, read as an operator reads it).
NO_WORLDS = {"test_usage_errors", "test_no_secret_leaves", "test_verdict", "test_fault_matrix", "test_evidence_runs",
             "test_watch", "test_transition_log_worlds", "test_report_html", "test_demo",
             "test_internal_errors_are_redacted", "test_installed_wheel", "test_readme_operator_path",
             "test_readable_failures"}


def test_every_acceptance_module_is_in_the_matrix_or_says_it_breaks_no_world():
    modules = {path.stem for path in (matrix.REPO / "tests" / "acceptance").glob("test_*.py")}
    assert modules - NO_WORLDS == set(matrix.SECTIONS) | set(matrix.CHAIN_SECTIONS), (
        "a new acceptance module: declare its worlds as MATRIX rows and add it to matrix.SECTIONS, or add it to "
        "NO_WORLDS here")
