"""The run directory of one pytest run (docs/evidence-layout.md): decided once, before any plugin writes.

- The process that owns the run (a plain pytest process, or pytest-xdist's controller) makes
  `runs/<run id>/` in its `pytest_configure` and hands the directory to its workers through `workerinput`,
  so `pytest -n auto` leaves one run directory, not one per worker.
- Allure results go to the run's `allure-results/` without `--alluredir`: `config.option.allure_report_dir` is
  set before allure-pytest-bdd's own `pytest_configure` reads it. An explicit `--alluredir` wins; run.json
  says where the results went.
- At the end the owner adds `finished_at`, the verdict's headline and the exit status to run.json, writes
  environment.properties and categories.json beside the Allure results, and copies the run's rows to the
  top-level evidence.jsonl (the newest run's). A run that ran no scenario (unit tests only, or no session at all:
  `pytest --help`) removes what it made as pytest unconfigures. A run whose paths name no feature file (another
  project where the harness is merely installed) gets no run directory and no default Allure results at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import __version__
from harness.core.jsonfiles import write_jsonl_atomic
from harness.core.settings import Settings
from harness.evidence.records import EVIDENCE_FILE, Evidence
from harness.evidence.runs import (
    ALLURE_RESULTS_DIR,
    RUN_FILE,
    RUNS_DIR,
    RunRecord,
    bot_dir_info,
    finish_run,
    new_run_dir,
    read_run,
)
from harness.pytest import allure_labels
from harness.pytest.scenarios import is_scenario_nodeid

RUN_KEY = pytest.StashKey["RunSession | None"]()
WORKERINPUT_KEY = "harness_run_dir"  # what the controller tells each pytest-xdist worker
MAX_BASELINE_BYTES = 10 * 1024 * 1024


@dataclass
class RunSession:
    """This process's view of the run. `owner` is the process that writes run.json and verdict.json."""

    dir: Path
    owner: bool
    worker: str | None  # the pytest-xdist worker id, None outside a worker
    allure_dir: Path | None  # where Allure results go; None when allure-pytest-bdd is not loaded
    allure_default: bool  # True when the harness chose allure_dir (no --alluredir)
    made: tuple[Path, ...] = ()  # directories the owner created, outermost first: removed if nothing ran


def plan(config: pytest.Config, settings: Settings) -> RunSession | None:
    """Decide the run directory and point Allure at it; None when there is none (the evidence directory cannot
    be written, or the controller had none). Must run before allure-pytest-bdd's pytest_configure."""
    allure_loaded = hasattr(config.option, "allure_report_dir")  # the option exists only with the plugin
    explicit = getattr(config.option, "allure_report_dir", None)
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKERINPUT_KEY in workerinput:
        given = workerinput[WORKERINPUT_KEY]
        if not given:
            return None
        run_dir, owner, worker, made = Path(given), False, str(workerinput.get("workerid", "gw")), ()
    else:
        if not asks_for_feature_files(config.args, config.invocation_params.dir):
            return None  # the harness is installed here, but this run checks nothing of a transition
        # Absolute: a test may change the working directory before the run's files are written at its end.
        evidence_dir = settings.evidence_dir.absolute()
        runs_root = evidence_dir / RUNS_DIR
        made = tuple(reversed([p for p in (runs_root, *runs_root.parents) if not p.exists()]))
        where = None if not allure_loaded else (str(Path(explicit).absolute()) if explicit else ALLURE_RESULTS_DIR)
        try:
            run_dir = new_run_dir(evidence_dir, settings.phase, settings.recorded_world,
                                  harness_version=__version__, baseline=baseline_info(settings.baseline_file),
                                  allure_results=where, bot_dir=bot_dir_info(settings.bot_dir))
        except OSError:
            return None
        owner, worker = True, None
        made = (*made, run_dir)
    allure_dir = None
    if allure_loaded:
        if explicit:
            allure_dir = Path(explicit).absolute()
        else:
            allure_dir = run_dir / ALLURE_RESULTS_DIR
            config.option.allure_report_dir = str(allure_dir)
    return RunSession(dir=run_dir, owner=owner, worker=worker, allure_dir=allure_dir,
                      allure_default=allure_loaded and not explicit, made=made)


def asks_for_feature_files(args: Sequence[str], invocation_dir: Path) -> bool:
    """Whether the run's paths (its arguments, or the ini's testpaths) name a `.feature` file or a folder holding
    one at most one level down: only such a run gets a run directory and Allure results by default. The plugin
    loads in every pytest run wherever the harness is installed; a project of its own must not find `reports/`
    made, Allure switched on or Allure's internals patched. One level, not the whole tree: a `pytest .` in a large
    project must not walk it twice."""
    for arg in args:
        path = Path(arg.split("::", 1)[0])
        path = path if path.is_absolute() else invocation_dir / path
        if path.suffix == ".feature":
            return True
        with contextlib.suppress(OSError):
            if path.is_dir() and next(itertools.chain(path.glob("*.feature"), path.glob("*/*.feature")), None):
                return True
    return False


def baseline_info(path: Path) -> dict[str, Any] | None:
    """{"path", "sha256", "taken_at"} of the baseline the run is tied to, or None when there is none yet."""
    try:
        if path.stat().st_size > MAX_BASELINE_BYTES:
            return {"path": str(path), "sha256": None, "taken_at": None}
        raw = path.read_bytes()
    except OSError:
        return None
    taken_at = None
    try:
        body = json.loads(raw.decode("utf-8"))
        if isinstance(body, dict) and isinstance(body.get("taken_at"), str):
            taken_at = body["taken_at"]
    except (UnicodeDecodeError, json.JSONDecodeError):
        pass
    return {"path": str(path), "sha256": hashlib.sha256(raw).hexdigest(), "taken_at": taken_at}


class RunPlugin:
    """The pytest hooks of the run directory."""

    def __init__(self, run: RunSession, settings: Settings, evidence: Evidence) -> None:
        self.run = run
        self.settings = settings
        self.evidence = evidence
        self.top_rows = (settings.evidence_dir / EVIDENCE_FILE).absolute()  # the newest run's rows, at the top
        self.ran_scenario = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: every worker writes into this run's directory."""
        node.workerinput[WORKERINPUT_KEY] = str(self.run.dir)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if self.run.allure_dir is None:
            return
        for item in items:
            if item.path.suffix == ".feature":
                tags = [mark.name for mark in item.iter_markers()]
                for mark in allure_labels.scenario_marks(tags, critical="critical" in tags):
                    item.add_marker(mark)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if is_scenario_nodeid(report.nodeid):
            self.ran_scenario = True

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator:
        # A wrapper: what it does after `yield` comes after the evidence and the verdict were written.
        result = yield
        if self.run.owner and self.ran_scenario:
            self._finish(int(session.exitstatus))
        return result

    def pytest_unconfigure(self) -> None:
        # Not at the session's end: `pytest --help` or `--markers` configures (the directory is made) but never
        # starts a session.
        if self.run.owner and not self.ran_scenario:
            self._discard()

    def _finish(self, exit_status: int) -> None:
        record = read_run(self.run.dir)
        rows = record.rows() if record is not None else []
        # Each write on its own: one that fails (a full disk) still lets the others record what they can.
        with contextlib.suppress(OSError):
            write_jsonl_atomic(self.top_rows, rows)
        if self.run.allure_dir is not None:
            with contextlib.suppress(OSError):
                self._write_allure_extras(rows, record)
        verdict = record.verdict() if record is not None else None
        fields: dict[str, Any] = {"exit_status": exit_status, "scenarios": len(rows)}
        if verdict is not None:
            fields["overall"] = verdict.get("overall")
        with contextlib.suppress(OSError):
            finish_run(self.run.dir, **fields)

    def _write_allure_extras(self, rows: list[dict[str, Any]], record: RunRecord | None) -> None:
        settings = self.settings
        paper = record.paper_account() if record is not None else None
        live = record.live_account() if record is not None else None
        props = allure_labels.environment(
            phase=settings.phase, world=settings.recorded_world, versions=allure_labels.library_versions(),
            gateway=_address(paper) or f"{settings.gateway.host}:{settings.gateway.port}",
            live_gateway=_address(live), accounts=[str(a) for a in (paper or {}).get("accounts") or ()],
            mode=allure_labels.env_mode(rows))  # accounts as recorded: masked
        assert self.run.allure_dir is not None
        allure_labels.write_environment(self.run.allure_dir, props, self.evidence.redactor.text)
        allure_labels.write_categories(self.run.allure_dir)

    def _discard(self) -> None:
        """Nothing ran: remove what this run made (its run.json and the empty folders), nothing else."""
        (self.run.dir / RUN_FILE).unlink(missing_ok=True)
        if self.run.allure_default and self.run.allure_dir is not None:
            _rmdir_quietly(self.run.allure_dir)
        for folder in reversed(self.run.made):
            _rmdir_quietly(folder)


def _address(facts: dict[str, Any] | None) -> str | None:
    """HOST:PORT of recorded gateway facts (the address the session read), or None."""
    if not facts or not facts.get("host"):
        return None
    return f"{facts.get('host')}:{facts.get('port')}"


def _rmdir_quietly(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty: whatever another run put there stays
