"""The pytest side of evidence: one row per scenario with its outcome, written at the end of the run."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from harness.checks import CheckFailed, CouldNotLook
from harness.evidence import Evidence
from harness.settings import Settings


class EvidencePlugin:
    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self._outcomes: dict[str, tuple[str, str]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Generator:
        if not _is_scenario(item):
            return (yield)
        # Locals of probes and checks hold raw facts (full account ids); `-l` must not put them in a report.
        showlocals = item.config.option.showlocals
        item.config.option.showlocals = False
        try:
            report = yield
        finally:
            item.config.option.showlocals = showlocals
        if report.when == "call" or report.outcome != "passed":
            message = ""
            if call.excinfo is not None:
                exc = call.excinfo.value
                if isinstance(exc, (CheckFailed, CouldNotLook)):
                    message = str(exc)
                elif isinstance(exc, pytest.skip.Exception):
                    message = exc.msg or ""
                else:
                    message = f"{type(exc).__name__}: {exc}"
            self._outcomes.setdefault(item.nodeid, (report.outcome, message))
        if report.when == "teardown":
            outcome, message = self._outcomes.pop(item.nodeid, ("passed", ""))
            tags = [m.name for m in item.iter_markers()]
            self.evidence.finish_test(item.nodeid, item.name, tags, outcome, message)
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.evidence.write()


def _is_scenario(item: pytest.Item) -> bool:
    return item.path.suffix == ".feature"


def _guard_allure_step_parameters(evidence: Evidence) -> None:
    """allure-pytest-bdd records every step argument (fixtures too: the world, facts) as a step parameter,
    through `repr`. Facts hold full account ids and the world holds tokens, so parameters are reduced to
    redacted scalars; objects are named by type only (their redacted facts are attached separately)."""
    import importlib

    for name in ("allure_pytest_bdd.steps", "allure_pytest_bdd.utils", "allure_pytest_bdd.allure_api_listener"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # pragma: no cover - allure-pytest-bdd is a dependency
            continue
        original = getattr(module, "represent", None)
        if original is not None and not getattr(original, "harness_guarded", False):
            module.represent = _redacting_represent(original, evidence)


def _redacting_represent(original, evidence: Evidence):
    def represent(value: object) -> str:
        if value is None or isinstance(value, (str, int, float, bool)):
            return evidence.redactor.text(original(value))
        return f"<{type(value).__name__}>"

    represent.harness_guarded = True  # type: ignore[attr-defined]
    return represent


def configure(config: pytest.Config, settings: Settings) -> None:
    from harness.plugin import EVIDENCE_KEY

    evidence = Evidence(settings.evidence_dir)
    config.stash[EVIDENCE_KEY] = evidence
    config.pluginmanager.register(EvidencePlugin(evidence), "harness-evidence")
    _guard_allure_step_parameters(evidence)
