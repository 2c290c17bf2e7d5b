"""The pytest11 entry point: inert unless a run names the harness's own features.

pytest loads every installed plugin in every run of every project of the environment. This module is what it
loads: it adds no option, marker, header or collector, and imports nothing heavy. Only when the command line
names the harness's feature folder (or a file in it) does it register the real plugin (`harness.pytest.plugin`),
before pytest parses the options, so `--live-gateway`, `--phase` and the rest exist for that run only.
`harness check` and the clone's conftest.py register the plugin themselves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.packaged import features_folder

PLUGIN = "harness.pytest.plugin"


def names_harness_features(args: list[str], invocation_dir: Path) -> bool:
    """Whether a positional argument is the harness's feature folder, or a file or node inside it."""
    folder = features_folder()
    if folder is None:
        return False
    for arg in args:
        if arg.startswith("-"):
            continue
        path = Path(arg.split("::", 1)[0])
        try:
            resolved = (path if path.is_absolute() else invocation_dir / path).resolve()
        except (OSError, RuntimeError, ValueError):
            continue
        if resolved == folder or folder in resolved.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    if early_config.pluginmanager.has_plugin(PLUGIN):
        return
    if names_harness_features(args, early_config.invocation_params.dir):
        early_config.pluginmanager.import_plugin(PLUGIN)
