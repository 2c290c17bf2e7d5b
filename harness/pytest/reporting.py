"""The pytest side of evidence and of redaction.

- One evidence row per scenario with its outcome, written at the end of the run.
- A failed check (`CheckFailed`) is reported as an operator reads it: its title, its message, the critical line and
  where the evidence is, without pytest's traceback, unless the operator asks for one (`-v`, `--tb=long`, any
  `--tb` but the default, `--full-trace`). A defect (any other exception) keeps its traceback.
- Every report pytest makes (test phases, collection) has its text redacted before anyone reads it: the
  terminal at any verbosity, `-l`, `--tb=long`, JUnit XML and Allure all render from the report.
- Every log record is redacted as it is made (ib_async logs `account='DU1234567'`).
- Allure results are redacted as they are written, through allure-python's own plugin hooks (`report_result`,
  `report_container`); nothing of Allure is replaced. Step parameters are the step arguments' `repr`, which is
  safe by construction: facts mask account ids (`masked_repr`), `EnvFileFacts` masks secret values, the world and
  the settings hold secrets as opaque `Secret`/`SecretSet`/`PrivateMapping`.
- An internal error (a hook or plugin that raised inside pytest's own machinery) is redacted before pytest prints
  its INTERNALERROR lines or JUnit records it.
- What is printed once the session is over (other plugins' terminal summaries, the final warnings summary, a
  warning pytest shows on stderr while it unconfigures) goes through the redactor too.
The known secret values come from `Evidence.redactor`, which learns the run's values as the world is built.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ExceptionChainRepr, ReprEntry, ReprFileLocation, ReprTraceback

from harness.checks import CheckFailed, CouldNotLook
from harness.core.settings import Settings
from harness.evidence.records import Evidence, Redactor
from harness.pytest.scenarios import is_scenario

Redact = Callable[[str], str]


class EvidencePlugin:
    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        self._outcomes: dict[str, tuple[str, str]] = {}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Generator:
        if not is_scenario(item):
            return (yield)
        # Locals of probes and checks hold raw facts (full account ids); `-l` must not put them in a report.
        showlocals = item.config.option.showlocals
        item.config.option.showlocals = False
        try:
            report = yield
        finally:
            item.config.option.showlocals = showlocals
        if call.excinfo is not None and isinstance(call.excinfo.value, CouldNotLook) and report.skipped:
            # pytest words a skip as "<exception class>: <message>"; every report (terminal, JUnit, the verdict)
            # reads the reason alone: "operator to confirm: ...".
            path, lineno, _ = report.longrepr
            report.longrepr = (path, lineno, self.evidence.redactor.excerpt(str(call.excinfo.value)))
        if call.excinfo is not None and isinstance(call.excinfo.value, CheckFailed) and report.failed \
                and not wants_traceback(item.config):
            report.longrepr = check_failed_repr(call.excinfo.value, getattr(report.longrepr, "reprcrash", None),
                                                self.evidence.file, self.evidence.redactor.text)
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
            # The Gherkin tags; not allure-pytest-bdd's label and link markers the harness adds (allure_label, ...).
            tags = [m.name for m in item.iter_markers() if not m.name.startswith("allure_")]
            self.evidence.finish_test(item.nodeid, item.name, tags, outcome, message)
        return report

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.evidence.write()


# -- a failed check, as an operator reads it -------------------------------------------------------------
TRACEBACK_HINT = "(pytest's traceback: run again with --tb=long or -v)"


def wants_traceback(config: pytest.Config) -> bool:
    """The operator asked for pytest's traceback of a failed check: `-v` (or more), a `--tb` style other than
    pytest's default (auto), or `--full-trace`. `-q` and the default show the check's own words only."""
    return (int(config.getoption("verbose", 0) or 0) >= 1 or config.getoption("tbstyle", "auto") != "auto"
            or bool(config.getoption("fulltrace", False)))


def check_failed_repr(failure: CheckFailed, crash: ReprFileLocation | None, evidence_file: Path,
                      redact: Redact) -> ExceptionChainRepr:
    """A failed check's report without a traceback: its title, then its message, the critical line and where the
    evidence of the run is, each on its own line, redacted. Built of pytest's own report parts (the "value"
    style pytest uses for `pytest.fail(..., pytrace=False)`), so JUnit, the short summary (the crash message:
    "title: message") and pytest-xdist's transport read it as they read any failure."""
    lines = [redact(failure.title)]
    for text in (failure.message, getattr(failure, "halt", ""), f"evidence: {evidence_file}"):
        lines += [f"  {line}" for line in redact(text).splitlines() if line.strip()]
    lines.append(f"  {TRACEBACK_HINT}")
    message = redact(str(failure))
    where = ReprFileLocation(crash.path, crash.lineno, message) if crash is not None else \
        ReprFileLocation("<check>", 0, message)
    entry = ReprEntry(lines, None, None, None, "value")
    return ExceptionChainRepr([(ReprTraceback([entry], None, "value"), where, None)])


# -- redaction of reports --------------------------------------------------------------------------------
class ReportRedaction:
    """Replaces the text of every report with a redacted copy, in pytest's own hooks.

    Test reports are redacted once innermost in `pytest_runtest_makereport` (so allure-pytest-bdd's wrapper,
    which attaches captured output and status details from the report, reads redacted text) and again first
    in `pytest_runtest_logreport` (text that an outer wrapper added, such as an xfail reason). Collection
    reports are redacted in `pytest_make_collect_report`. Once the session is known to run scenarios, log
    records are redacted as they are made, for the rest of the run.
    """

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.active = False  # True once the session collected a scenario: only harness runs are redacted
        self._undo: list[Callable[[], None]] = []

    def activate(self) -> None:
        if not self.active:
            self.active = True
            self._undo.append(install_log_redaction(self.redactor))

    def deactivate(self) -> None:
        while self._undo:
            self._undo.pop()()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if any(is_scenario(item) for item in items):
            self.activate()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator:
        # Before the terminal reporter prints the summaries (its hook is inside this one): from here on, every
        # line it prints (other plugins' summaries, warnings recorded at the end, an internal error) is redacted.
        if self.active:
            self._undo.append(install_terminal_redaction(session.config, self.redactor.text))
        try:
            return (yield)
        except Exception:
            if not self.active:
                raise
            # pytest lets an exception of this hook (a plugin's terminal summary, the evidence's writing) out as
            # Python's own traceback, unredacted: report it as the internal error it is, redacted.
            session.config.notify_exception(pytest.ExceptionInfo.from_current(), session.config.option)
            raise pytest.exit.Exception("harness: a hook failed as the session finished (INTERNALERROR above)",
                                        returncode=pytest.ExitCode.INTERNAL_ERROR) from None

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self) -> None:
        # Not sooner: until the session ends, pytest records warnings itself, and each of its recordings puts
        # back the `showwarning` it found when it began. From here to the end of the config's cleanup (where
        # pytest reports the unraisable exceptions it collected), Python shows them on stderr itself.
        if self.active:
            self._undo.append(install_warning_redaction(self.redactor.text))

    @pytest.hookimpl(tryfirst=True)
    def pytest_internalerror(self, excrepr: Any) -> None:
        # Always, as a failed collection: an internal error can come before the run is known to be a harness
        # run. Redacted in place, first, so that every printer (the terminal's INTERNALERROR lines, pytest's own
        # fallback to stderr, JUnit, an xdist worker's message to the controller) renders the redacted text,
        # with the traceback's shape unchanged.
        redact_tree(excrepr, self.redactor.text)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Generator:
        report = yield
        if self.active:
            redact_report(report, self.redactor.text)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.active:
            redact_report(report, self.redactor.text)

    @pytest.hookimpl(tryfirst=True)
    def pytest_warning_recorded(self, warning_message: warnings.WarningMessage) -> None:
        # The warnings summary prints the message (an unraisable exception's text, say) from this object.
        if self.active:
            redact_warning(warning_message, self.redactor.text)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_make_collect_report(self, collector: pytest.Collector) -> Generator:
        report = yield
        # Collection happens before we know what the session runs: a failed or skipped collection (its reason
        # is printed by `-rs`) is always redacted.
        if not report.passed or self.active:
            redact_report(report, self.redactor.text)
        return report


def redact_report(report: Any, redact: Redact) -> None:
    """Redact, in place, every text a test or collection report carries: longrepr (failure, error, skip),
    captured output and log sections, an xfail reason and user properties."""
    report.longrepr = redact_longrepr(report.longrepr, redact)
    sections = getattr(report, "sections", None)
    if sections:
        report.sections[:] = [(title, redact(content) if isinstance(content, str) else content)
                              for title, content in sections]
    if isinstance(getattr(report, "wasxfail", None), str):
        report.wasxfail = redact(report.wasxfail)
    properties = getattr(report, "user_properties", None)
    if properties:
        report.user_properties[:] = [(name, redact_tree(value, redact)) for name, value in properties]


def redact_warning(warning_message: warnings.WarningMessage, redact: Redact) -> None:
    """Redact a recorded warning's message in place (its args, which its str is made of)."""
    message = warning_message.message
    if isinstance(message, Warning):
        message.args = tuple(redact(a) if isinstance(a, str) else redact(repr(a)) for a in message.args)
    elif isinstance(message, str):
        warning_message.message = redact(message)  # type: ignore[assignment]


def install_warning_redaction(redact: Redact) -> Callable[[], None]:
    """Redact a warning Python shows itself (on stderr): one warned while pytest unconfigures, an unraisable
    exception pytest reports at its cleanup. Warnings pytest records go through `pytest_warning_recorded`
    instead (its recording replaces `showwarning` for the while). Returns the function that undoes it."""
    previous = warnings.showwarning

    def redacted_showwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                             file: Any = None, line: str | None = None) -> None:
        text = redact(warnings.formatwarning(message, category, filename, lineno, line))
        stream = sys.stderr if file is None else file
        if stream is None:  # pythonw: nowhere to show it, as warnings itself does
            return
        with contextlib.suppress(OSError):  # a closed stderr: as warnings itself, say nothing
            stream.write(text)

    warnings.showwarning = redacted_showwarning

    def uninstall() -> None:
        if warnings.showwarning is redacted_showwarning:
            warnings.showwarning = previous

    return uninstall


def install_terminal_redaction(config: pytest.Config, redact: Redact) -> Callable[[], None]:
    """Redact every text the terminal reporter writes from now on; returns the function that undoes it.

    Its writer is the one object every line passes through, whoever prints it (a plugin's terminal summary
    writes free text). Each write is redacted whole; a write is a line or a run of one colour.
    """
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    writer = getattr(reporter, "_tw", None)
    if writer is None or getattr(writer.write, "harness_redacting", False):
        return lambda: None
    original = writer.write

    def redacted_write(msg: str, **markup: Any) -> None:
        original(redact(msg) if msg else msg, **markup)

    redacted_write.harness_redacting = True  # type: ignore[attr-defined]
    writer.write = redacted_write

    def uninstall() -> None:
        if writer.__dict__.get("write") is redacted_write:
            del writer.write

    return uninstall


def redact_longrepr(longrepr: Any, redact: Redact) -> Any:
    """A longrepr with every string redacted: None, a str, a (path, line, message) skip tuple, or pytest's
    TerminalRepr tree (redacted in place, so its colours and crash line stay). Any other kind of object is
    replaced by its redacted text."""
    if longrepr is None:
        return None
    if isinstance(longrepr, str):
        return redact(longrepr)
    if isinstance(longrepr, tuple):
        return tuple(redact_tree(part, redact) for part in longrepr)
    if type(longrepr).__module__.startswith("_pytest."):
        return redact_tree(longrepr, redact)
    return redact(str(longrepr))


# Objects walked into attribute by attribute: pytest's report reprs and allure-python's result model.
_WALKED_MODULES = ("_pytest.", "allure_commons.")


def redact_tree(obj: Any, redact: Redact, _seen: set[int] | None = None) -> Any:
    """Every str inside `obj` redacted: lists, dicts and walked objects in place, tuples rebuilt."""
    seen = set() if _seen is None else _seen
    if isinstance(obj, str):
        return redact(obj)
    if obj is None or isinstance(obj, (bool, int, float)) or id(obj) in seen:
        return obj
    seen.add(id(obj))
    if isinstance(obj, list):
        obj[:] = [redact_tree(value, redact, seen) for value in obj]
        return obj
    if isinstance(obj, tuple):
        values = [redact_tree(value, redact, seen) for value in obj]
        return type(obj)(*values) if hasattr(obj, "_fields") else tuple(values)
    if isinstance(obj, dict):
        for key, value in list(obj.items()):
            obj[key] = redact_tree(value, redact, seen)
        return obj
    if type(obj).__module__.startswith(_WALKED_MODULES) and hasattr(obj, "__dict__"):
        for name, value in list(vars(obj).items()):
            vars(obj)[name] = redact_tree(value, redact, seen)
    return obj


# -- redaction of log records ----------------------------------------------------------------------------
class RedactingLogFilter(logging.Filter):
    """Rewrites a record's message (arguments merged in), exception text and stack text as redacted text."""

    def __init__(self, redact: Redact) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format call: keep what it said, as logging itself would print it
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:  # also when an earlier factory formatted it with fewer secrets known
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_log_redaction(redactor: Redactor) -> Callable[[], None]:
    """Redact every log record as it is made; returns the function that undoes it.

    A filter on the root logger would not do: logging consults a logger's filters only for records made by
    that logger, not for those its children (`ib_async.wrapper`, ...) propagate to it. The record factory
    is the one place every record of every logger passes, on every thread.
    """
    previous = logging.getLogRecordFactory()
    record_filter = RedactingLogFilter(redactor.text)

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record_filter.filter(record)
        return record

    logging.setLogRecordFactory(redacted_record)

    def uninstall() -> None:
        if logging.getLogRecordFactory() is redacted_record:
            logging.setLogRecordFactory(previous)

    return uninstall


# -- Allure --------------------------------------------------------------------------------------------
def _register_allure_redaction(config: pytest.Config, redactor: Redactor) -> None:
    """An allure-python plugin that redacts each test result and container (status messages and traces of the
    test and of every step, parameters, names) before allure's file logger writes it: allure-pytest-bdd takes
    status details from the exception itself, not from the (redacted) report."""
    import allure_commons

    class AllureRedaction:
        @allure_commons.hookimpl(tryfirst=True)  # before the file logger, which writes what it is given
        def report_result(self, result: Any) -> None:
            redact_tree(result, redactor.text)

        @allure_commons.hookimpl(tryfirst=True)
        def report_container(self, container: Any) -> None:
            redact_tree(container, redactor.text)

    plugin = AllureRedaction()
    allure_commons.plugin_manager.register(plugin)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(plugin))


def configure(config: pytest.Config, settings: Settings) -> Evidence:
    """Wire the run's evidence and redaction into pytest, and allure (which writes results by default, into the
    run directory). Must run before allure-pytest-bdd's own pytest_configure, which reads where to write."""
    from harness.pytest import run_session
    from harness.world import known_secrets

    run = run_session.plan(config, settings)
    config.stash[run_session.RUN_KEY] = run
    evidence = Evidence(settings.evidence_dir, run_dir=run.dir if run else None, worker=run.worker if run else None)
    # Known before any world is built, so that a failure building it is redacted with them too.
    evidence.redactor.add(known_secrets(settings.env_file, settings.discord_token))
    config.pluginmanager.register(EvidencePlugin(evidence), "harness-evidence")
    redaction = ReportRedaction(evidence.redactor)
    config.pluginmanager.register(redaction, "harness-redaction")
    config.add_cleanup(redaction.deactivate)
    if run is not None:
        config.pluginmanager.register(run_session.RunPlugin(run, settings, evidence), "harness-run")
    if getattr(config.option, "allure_report_dir", None):
        _register_allure_redaction(config, evidence.redactor)
    return evidence
