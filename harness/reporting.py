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
        report = yield
        if not _is_scenario(item):
            return report
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


def configure(config: pytest.Config, settings: Settings) -> None:
    from harness.plugin import EVIDENCE_KEY

    evidence = Evidence(settings.evidence_dir)
    config.stash[EVIDENCE_KEY] = evidence
    config.pluginmanager.register(EvidencePlugin(evidence), "harness-evidence")
