"""Runs the operator's command (`pytest features/ ...`) in a subprocess against a prepared world and
returns each scenario's outcome and message, read from pytest's own JUnit XML.

A run is the expensive part of an acceptance test (a Python process, the features, often an embedded world),
so tests that assert on the same world share one run: `SharedRuns` makes each distinct run once per session,
whichever xdist worker asks first.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ALL_FEATURES = ("features/",)
# The operator's environment has the harness, not its test extras: hypothesis's pytest plugin costs half a
# second of every start-up here (it imports hypothesis) and xdist's does nothing in a single process.
NOT_THE_OPERATORS = ("-p", "no:hypothesispytest", "-p", "no:xdist", "-p", "no:xdist.looponfail")
# A project of the test's own (its features/, its conftest) names the harness's plugin, as `harness check` does:
# installed, the plugin stays out of every project that does not.
NAMED_PLUGIN = ("-p", "harness.pytest.plugin")


@dataclass(frozen=True)
class Outcome:
    outcome: str  # passed, failed, skipped, error
    message: str


@dataclass(frozen=True)
class Run:
    code: int
    outcomes: dict[str, Outcome]
    output: str
    root: Path  # the run's folder: junit.xml, and evidence/ when the run was given --evidence-dir ROOT/evidence
    evidence_dir: Path | None = None  # where the run's evidence is, when not ROOT/evidence

    def failed(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.outcome in ("failed", "error")}

    def skipped(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.outcome == "skipped"}

    def passed(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.outcome == "passed"}

    @property
    def evidence(self) -> Path:
        return self.evidence_dir or self.root / "evidence"

    def notes(self, scenario_test: str) -> list[str]:
        """The notes the scenario recorded in evidence.jsonl (what a passing check saw)."""
        rows = [json.loads(line) for line in (self.evidence / "evidence.jsonl").read_text().splitlines()]
        return [r["facts"] for row in rows if row["nodeid"].endswith(scenario_test)
                for r in row["records"] if r["name"] == "note"]


def run_features(tmp_path: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 240,
                 paths: tuple[str, ...] = ALL_FEATURES) -> Run:
    junit = tmp_path / "junit.xml"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    environ.update(env or {})
    # Its own --basetemp: a run never prunes /tmp/pytest-of-<user> (the numbered folders of other sessions).
    command = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", *NOT_THE_OPERATORS, "-q",
               f"--basetemp={tmp_path / 'basetemp'}", f"--junitxml={junit}", "-o", "junit_family=xunit2", *args]
    result = subprocess.run(command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=timeout)
    outcomes: dict[str, Outcome] = {}
    if junit.exists():
        for case in ET.parse(junit).getroot().iter("testcase"):
            name = case.get("name", "")
            outcome, message = "passed", ""
            for tag in ("failure", "error", "skipped"):
                node = case.find(tag)
                if node is not None:
                    outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                    message = (node.get("message") or "") + "\n" + (node.text or "")
                    break
            outcomes[name] = Outcome(outcome, message)
    return Run(result.returncode, outcomes, result.stdout + result.stderr, tmp_path)


class SharedRuns:
    """Each distinct run of the operator's command once per test session; every test asking for it gets that Run,
    in whichever xdist worker it runs.

    A run is the same when its feature paths, arguments and environment are: `features()` keys on exactly
    those. A world that is prepared on disk first (a bot directory) is keyed by its name in `made()`. The first
    worker to ask makes the run in `folder` (shared by the session's workers) and writes it there as JSON; a
    worker that asks meanwhile waits for that file. (xdist's `--dist loadgroup` cannot keep such tests on one
    worker under pytest 9: it renames node ids through an attribute pytest no longer reads.)
    """

    WAIT = 300.0  # longer than any run's own timeout

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._folder.mkdir(parents=True, exist_ok=True)
        self._runs: dict[object, Run] = {}

    @classmethod
    def for_session(cls, factory: pytest.TempPathFactory) -> SharedRuns:
        """A folder every worker of this session sees: beside the workers' own temporary folders under xdist."""
        base = factory.getbasetemp()
        return cls((base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-runs")

    def features(self, name: str, *args: str, env: Mapping[str, str] | None = None,
                 paths: tuple[str, ...] = ALL_FEATURES, timeout: float = 240) -> Run:
        """`pytest PATHS --evidence-dir ROOT/evidence ARGS` with `env` (empty values dropped: a knob set to
        nothing is the knob unset)."""
        env = {k: v for k, v in (env or {}).items() if v}
        key = ("features", tuple(paths), tuple(args), tuple(sorted(env.items())))

        def make(root: Path) -> Run:
            return run_features(root, "--evidence-dir", str(root / "evidence"), *args, env=env, paths=paths,
                                timeout=timeout)

        return self._once(key, name, make)

    def made(self, name: str, make: Callable[[Path], Run]) -> Run:
        """The run `make(root)` returns, made once for `name` (which must name one world only)."""
        return self._once(("made", name), name, make)

    def _once(self, key: tuple, name: str, make: Callable[[Path], Run]) -> Run:
        if key not in self._runs:
            root = self._folder / hashlib.sha256(repr(key).encode()).hexdigest()[:16]  # the key's, not the name's
            result = root.with_name(root.name + ".json")
            try:
                os.close(os.open(root.with_name(root.name + ".lock"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                run = self._wait_for(result, name)
            else:
                run = self._make(root, result, make)
            assert run.outcomes, f"{name}: the run reported no scenario\n{run.output[-3000:]}"
            self._runs[key] = run
        return self._runs[key]

    @staticmethod
    def _make(root: Path, result: Path, make: Callable[[Path], Run]) -> Run:
        root.mkdir()
        try:
            run = make(root)
            body = {"code": run.code, "output": run.output, "root": str(run.root), "evidence": str(run.evidence),
                    "outcomes": {name: [o.outcome, o.message] for name, o in run.outcomes.items()}}
        except BaseException as exc:  # the workers waiting for this run must not wait out WAIT
            body = {"error": f"{type(exc).__name__}: {exc}"}
            raise
        finally:
            partial = result.with_name(result.name + ".partial")
            partial.write_text(json.dumps(body), encoding="utf-8")
            os.replace(partial, result)
        return run

    def _wait_for(self, result: Path, name: str) -> Run:
        deadline = time.monotonic() + self.WAIT
        while not result.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: the worker making this run wrote no {result} within {self.WAIT:.0f} s")
            time.sleep(0.1)
        body = json.loads(result.read_text(encoding="utf-8"))
        if "error" in body:
            raise RuntimeError(f"{name}: the worker making this run failed: {body['error']}")
        outcomes = {test: Outcome(outcome, message) for test, (outcome, message) in body["outcomes"].items()}
        return Run(body["code"], outcomes, body["output"], Path(body["root"]), Path(body["evidence"]))


def harness_demo(root: Path, timeout: float = 900, env: Mapping[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> Run:
    """The README's demo, `harness demo --evidence-dir ROOT/evidence`, in a subprocess (with `env` added, e.g. a
    pinned clock); its outcomes are the scenarios of the latest run of each phase, read back from the evidence it
    recorded."""
    return _demo(root, ["--evidence-dir", str(root / "evidence"), *args], REPO, root / "evidence", timeout, env)


def harness_demo_as_written(root: Path, timeout: float = 900) -> Run:
    """The README's demo exactly as written, `harness demo` with no option, run from the folder ROOT (as a
    newcomer's working directory): its evidence goes where the demo puts it by default, ROOT/reports/demo."""
    return _demo(root, [], root, root / "reports" / "demo", timeout, None)


def _demo(root: Path, args: list[str], cwd: Path, evidence: Path, timeout: float,
          env: Mapping[str, str] | None) -> Run:
    from harness.evidence.runs import latest_runs

    # HARNESS_TOOLS_CACHE may point at the Allure install the rest of the session uses.
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_") or k == "HARNESS_TOOLS_CACHE"}
    environ.update(env or {})
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), environ.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-m", "harness.cli", "demo", *args], cwd=cwd, env=environ,
                            capture_output=True, text=True, timeout=timeout)
    outcomes = {f"{phase}::{row['scenario']}": Outcome(row["outcome"], row.get("message") or "")
                for phase, run in latest_runs(evidence).items() for row in run.rows()}
    return Run(result.returncode, outcomes, result.stdout + result.stderr, root, evidence)
