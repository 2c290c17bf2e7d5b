"""The pytest side of the verdict: collects what each scenario did, asks `harness.verdict.decide` to decide, prints
the table, records it as evidence and makes the exit status mean it.

Outcomes are read from test reports (not items), so the same hooks work where reports arrive from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from harness.core import clock, dod
from harness.evidence import attestations as attestation_log
from harness.pytest.scenarios import is_scenario_nodeid, scenario_name
from harness.verdict.decide import (
    EXIT_INCOMPLETE,
    EXIT_VERIFIED,
    INCIDENT_OPEN,
    UNTAGGED,
    Overall,
    ScenarioResult,
    Verdict,
    decide,
    format_table,
)
from harness.verdict.record import write_verdict

# Worse outcomes win when a scenario reports more than once (setup, call, teardown).
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def _message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, lineno, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(longrepr)
    head, sep, rest = text.partition(": ")
    # "harness.checks.CheckFailed: Title: message" -> "Title: message"; an exception's name says nothing here.
    if sep and head.replace(".", "").replace("_", "").isalnum() and " " not in head:
        return rest
    return text


def _test_name(nodeid: str) -> str:
    """pytest-bdd's test function name of a scenario's node id, without parameters."""
    return nodeid.split("::")[-1].split("[", 1)[0]


def phase_scenarios(feature_dirs: Iterable[Path], phase_tag: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(checklist item -> titles of every scenario of the phase that checks it, test name -> title), from the
    feature files in `feature_dirs`: what a full run of the phase would run, whatever this run selected."""
    from pytest_bdd.parser import FeatureParser
    from pytest_bdd.scenario import make_python_name

    expected: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for folder in sorted(set(feature_dirs)):
        for path in sorted(folder.glob("*.feature")):
            try:
                feature = FeatureParser(str(folder), path.name).parse()
            except Exception:
                continue
            for title, scenario in feature.scenarios.items():
                tags = set(feature.tags) | set(scenario.tags)
                if phase_tag not in tags:
                    continue
                titles.setdefault(f"test_{make_python_name(title)}", title)
                for item in sorted(t for t in tags if t in dod.BY_ID) or [UNTAGGED]:
                    expected.setdefault(item, []).append(title)
    return expected, titles


def incident_results(evidence_dir: Path, redact=lambda text: text) -> list[ScenarioResult]:
    """An open incident (or an incident log that cannot show there is none) as a failed pseudo scenario: the
    verdict of any phase is then NEEDS REMEDIATION, naming the incident's time and reason."""
    from harness.evidence import incidents as incident

    reason = incident.lock_reason(evidence_dir)
    if reason is None:
        return []
    found, _problem = incident.open_incident(evidence_dir)
    name = f"incident of {found.at}" if found is not None else "incident log"
    return [ScenarioResult(name=name, items=(INCIDENT_OPEN,), outcome="failed", message=redact(reason),
                           critical=True)]


class VerdictPlugin:
    def __init__(self, phase: str, evidence_dir: Path, world_kind: str, redact, run_dir: Path | None = None) -> None:
        self.phase = phase
        self.evidence_dir = evidence_dir
        self.run_dir = run_dir
        self.world_kind = world_kind
        self.redact = redact
        self.phase_tag = dod.PHASE_TAGS[phase]
        self._feature_dirs: set[Path] = set()
        self._results: dict[str, dict] = {}
        self.verdict: Verdict | None = None

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        if is_scenario_nodeid(item.nodeid):
            self._feature_dirs.add(Path(item.path).parent)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids: list[str]) -> None:
        """Under pytest-xdist the workers collect, not this process: their node ids name the feature files, so
        a partial parallel run is still NOT RUN, never verified."""
        root = Path(node.config.rootpath)
        for nodeid in ids:
            if is_scenario_nodeid(nodeid):
                self._feature_dirs.add((root / nodeid.split("::", 1)[0]).parent)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not is_scenario_nodeid(report.nodeid):
            return
        if report.passed:
            outcome = "passed"
        elif report.skipped:
            outcome = "skipped"
        else:
            outcome = "failed" if report.when == "call" else "error"
        seen = self._results.get(report.nodeid)
        if seen is None or _RANK[outcome] > _RANK[seen["outcome"]]:
            self._results[report.nodeid] = {"outcome": outcome, "message": _message(report),
                                            "keywords": set(report.keywords)}

    def results(self, titles: Mapping[str, str]) -> list[ScenarioResult]:
        """What each scenario did; `titles` maps pytest-bdd's test names back to the scenarios' titles."""
        return [
            ScenarioResult(
                name=titles.get(_test_name(nodeid)) or scenario_name(nodeid),
                items=tuple(sorted(k for k in seen["keywords"] if k in dod.BY_ID)),
                outcome=seen["outcome"],
                message=self.redact(seen["message"]),
                critical="critical" in seen["keywords"],
                optional="optional" in seen["keywords"],
                manual="manual" in seen["keywords"],
            )
            for nodeid, seen in self._results.items()
        ]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        attestations, _problem = attestation_log.load(self.evidence_dir)
        expected, titles = phase_scenarios(self._feature_dirs, self.phase_tag)
        results = self.results(titles)
        if results:  # a run of unit tests only has no verdict, incident or not
            results += incident_results(self.evidence_dir, self.redact)
        self.verdict = decide(self.phase, results, attestations, clock.now(), expected)
        if self.verdict is None:
            return
        write_verdict(self.evidence_dir, self.verdict, self.world_kind, run_dir=self.run_dir)
        if int(session.exitstatus) == EXIT_VERIFIED and self.verdict.overall is Overall.INCOMPLETE:
            session.exitstatus = EXIT_INCOMPLETE
        elif int(session.exitstatus) == EXIT_VERIFIED and self.verdict.overall is Overall.NEEDS_REMEDIATION:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.verdict is None:
            return
        terminalreporter.write_sep("=", f"harness verdict: {self.phase} phase ({self.world_kind} world)")
        for line in format_table(self.verdict, width=terminalreporter._tw.fullwidth):
            markup = {}
            if line.startswith(self.verdict.overall.value):
                markup = {"green": True} if self.verdict.exit_status == 0 else {"red": True}
                markup["bold"] = True
            terminalreporter.write_line(line, **markup)
        terminalreporter.write_line(f"(! = critical; exit status {self.verdict.exit_status}; "
                                    f"`harness confirm ITEM --by NAME` attests what no check could see)")
        if self.run_dir is not None:
            terminalreporter.write_line(f"evidence of this run: {self.run_dir}")


def configure(config: pytest.Config, settings, redact, run_dir: Path | None = None) -> VerdictPlugin:
    """`run_dir`: the run directory this process owns, where verdict.json goes too (None in xdist workers)."""
    plugin = VerdictPlugin(settings.phase, settings.evidence_dir, settings.recorded_world, redact, run_dir)
    config.pluginmanager.register(plugin, "harness-verdict")
    return plugin
