"""The pytest plugin: options, phase selection, `.feature` collection, and the world fixtures.

It stays a switchboard: settings come from `harness.core.settings`, facts from the probes, the embedded
world from `harness.fakes`, evidence from `harness.evidence.records`. Heavy imports wait for the fixture that
needs them, because a pytest11 plugin loads in every pytest run wherever the package is installed.
"""

from __future__ import annotations

import contextlib
import os
import types
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.core import dod, names
from harness.core.settings import SPECS, Settings, SettingsError, resolve
from harness.pytest.scenarios import is_scenario

if TYPE_CHECKING:  # the evidence layer loads with the plugin's configure, not with every pytest run
    from harness.evidence.records import Evidence

# The step definitions are plugins (pytest-bdd registers steps as fixtures of the module that defines them); they
# load with this plugin and only with it.
pytest_plugins = ["harness.steps.common", "harness.steps.configuration", "harness.steps.preflight",
                  "harness.steps.startup", "harness.steps.orders", "harness.steps.rollback", "harness.steps.first_day"]

SETTINGS_KEY = pytest.StashKey[Settings]()
EVIDENCE_KEY = pytest.StashKey["Evidence"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("transition harness",
                            "transition harness (verify an IBKR bot's switch from dry-run to paper trading)")
    for spec in SPECS:
        help_text = f"{spec.help} (ini: {spec.ini}, env: {spec.env})"
        if spec.flag:
            group.addoption(spec.option, action="store_true", default=False, dest=f"harness_{spec.name}",
                            help=help_text)
        else:
            group.addoption(spec.option, default=None, dest=f"harness_{spec.name}", metavar="VALUE",
                            help=help_text)
        parser.addini(spec.ini, spec.help, default=None)


def _ini_values(config: pytest.Config) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for spec in SPECS:
        raw = config.getini(spec.ini)
        values[spec.ini] = None if raw in (None, "", []) else str(raw)
    return values


@pytest.hookimpl(tryfirst=True)  # before allure-pytest-bdd's: the evidence decides where its results go
def pytest_configure(config: pytest.Config) -> None:
    cli = {spec.name: config.getoption(f"harness_{spec.name}") for spec in SPECS}
    ini_source = config.inipath.name if config.inipath else "ini"
    try:
        settings = resolve(cli, os.environ, _ini_values(config), ini_source)
    except SettingsError as exc:
        raise pytest.UsageError(f"harness: {exc}") from None
    config.stash[SETTINGS_KEY] = settings
    for tag in dod.PHASE_TAGS.values():
        config.addinivalue_line("markers", f"{tag}: scenario belongs to the {tag} phase")
    for tag, text in dod.OTHER_TAGS.items():
        config.addinivalue_line("markers", f"{tag}: {text}")
    for item in dod.ITEMS:
        config.addinivalue_line("markers", f"{item.id}: {item.section}: {item.text}")
    from harness.pytest import reporting
    from harness.pytest import verdict_hooks as run_verdict
    from harness.pytest.run_session import RUN_KEY

    evidence = config.stash[EVIDENCE_KEY] = reporting.configure(config, settings)
    run = config.stash[RUN_KEY]
    run_verdict.configure(config, settings, evidence.redactor.text,
                          run_dir=run.dir if run is not None and run.owner else None)


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return ""
    if settings.world_kind == "live":
        where = f"world={settings.recorded_world} gateway={settings.gateway} bot={settings.bot_dir or settings.bot_env}"
    elif settings.world_kind == "bot directory":
        where = f"world=bot directory only ({settings.bot_dir or settings.bot_env}; gateway and Discord not contacted)"
    else:
        where = "world=embedded (fake gateways, fake Discord and the stand-in bot on a private loopback address)"
    return f"harness: {where} phase={settings.phase} evidence={settings.evidence_dir}"


class FeatureFile(pytest.Module):
    """Collects a `.feature` file directly, so `pytest features/` and `pytest features/x.feature` work.

    The module pytest collects is made in memory: one test per scenario, each built with pytest-bdd's own
    `scenario()` decorator and named as its `scenarios()` would name it, so no `test_*.py` stubs are needed.
    """

    def _getobj(self) -> types.ModuleType:
        from pytest_bdd.parser import FeatureParser
        from pytest_bdd.scenario import get_python_name_generator, scenario

        module = types.ModuleType(f"features.{self.path.stem}")
        module.__file__ = str(self.path)
        base_dir = str(self.path.parent)
        for title in FeatureParser(base_dir, self.path.name).parse().scenarios:
            test = scenario(self.path.name, title, features_base_dir=base_dir)(_scenario_body)
            name = next(n for n in get_python_name_generator(title) if n not in module.__dict__)
            setattr(module, name, test)
        return module


def _scenario_body() -> None:
    """A scenario's test has no body of its own: its steps are the test."""


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".feature":
        return FeatureFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--phase` selects scenarios by their phase tag; tests that are not scenarios are left alone."""
    settings = config.stash[SETTINGS_KEY]
    wanted = dod.PHASE_TAGS[settings.phase]
    keep, drop = [], []
    for item in items:
        if is_scenario(item) and item.get_closest_marker(wanted) is None:
            drop.append(item)
        else:
            keep.append(item)
    if drop and not any(is_scenario(item) for item in keep):
        # Feature files were collected but none belongs to this phase: say so instead of "no tests ran".
        raise pytest.UsageError(
            f"harness: no scenario is tagged @{wanted}: the {settings.phase} phase has no checks in this version "
            "(phases with checks: " + ", ".join(sorted(_phases_present(drop))) + ")"
        )
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _phases_present(items: list[pytest.Item]) -> set[str]:
    return {phase for phase, tag in dod.PHASE_TAGS.items() for item in items if item.get_closest_marker(tag)}


# --- fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def harness_settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS_KEY]


@pytest.fixture(scope="session")
def evidence(pytestconfig: pytest.Config) -> Evidence:
    return pytestconfig.stash[EVIDENCE_KEY]


@pytest.fixture(scope="session")
def world(harness_settings: Settings, tmp_path_factory: pytest.TempPathFactory, evidence):
    """Where the checks look: the operator's real world, or the embedded one built on loopback."""
    from harness.world import WorldUnavailable, build_world

    with contextlib.ExitStack() as stack:
        try:
            built = stack.enter_context(build_world(harness_settings, tmp_path_factory.mktemp("embedded-world")))
        except WorldUnavailable as exc:  # one line for the whole run, not the same error in every scenario
            pytest.exit(f"harness: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        evidence.redactor.add(built.secrets())
        yield built
        output = built.bot_output_tail()
        if output is not None:
            evidence.keep_text("stand-in-bot-output.txt", output)


@pytest.fixture(scope="session")
def newest_start(world):
    """The bot's newest start as its log tells it (harness.probes.bot_log.NewestStart), read once per run:
    every feature that asks "since the bot's newest start" gets the same block."""
    from harness.probes.bot_log import read_newest_start

    settings = world.settings
    return read_newest_start(world.bot_log_spec(), base_dir=world.bot_dir, startup_text=settings.log_startup,
                             since=settings.since, tz=world.log_tz(), zone=world.log_zone())


def _terminal_line(config: pytest.Config):
    """A `say(line)` that reaches the operator's terminal while pytest captures the test's output."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def say(line: str) -> None:
        if reporter is None:
            return
        from contextlib import nullcontext

        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            reporter.ensure_newline()
            writer = getattr(reporter, "_tw", None)  # in -q mode the progress letters leave the line open
            if writer is not None and getattr(writer, "width_of_current_line", 0):
                reporter.write("\n")
            reporter.write_line(line)

    return say


def _read_only_probe(address, role: str, settings: Settings, config: pytest.Config):
    """The facts of one gateway for the whole session: read once (read-only, bounded, progress on the terminal),
    a failure remembered, not retried by every scenario; None when the gateway is not to be contacted."""
    if address is None:
        return None
    from harness.probes.gateway_session import read_gateway_once

    return read_gateway_once(address, role, client_id=settings.client_id, timeout=settings.timeout,
                             say=_terminal_line(config))


@pytest.fixture(scope="session")
def paper_gateway(world, harness_settings: Settings, pytestconfig: pytest.Config, evidence):
    """The paper gateway's facts (GatewayFacts), read once per session; None when not to be contacted. Kept in
    the run directory as paper-account.json (account ids masked)."""
    facts = _read_only_probe(world.gateway, "paper", harness_settings, pytestconfig)
    if facts is not None:
        evidence.keep_facts(names.PAPER_ACCOUNT_FILE, facts)
    return facts


@pytest.fixture(scope="session")
def live_gateway(world, harness_settings: Settings, pytestconfig: pytest.Config, evidence):
    """The facts of the gateway logged into the LIVE account (--live-gateway-port), read once; or None. Kept
    in the run directory as live-account.json (account ids masked)."""
    facts = _read_only_probe(world.live_gateway, "live", harness_settings, pytestconfig)
    if facts is not None:
        evidence.keep_facts(names.LIVE_ACCOUNT_FILE, facts)
    return facts
