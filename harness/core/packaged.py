"""Where the package keeps what it ships besides code: the features (`harness.features`, the clone's features/ in
an editable install) and the pytest configuration `harness check` runs them under. Found without importing
anything: the pytest11 entry point asks in every pytest run of the environment."""

from __future__ import annotations

import importlib.util
from pathlib import Path

CHECK_INI = "check.ini"  # in harness/pytest/


def features_folder() -> Path | None:
    """The packaged features' folder, resolved; None when this installation has none."""
    spec = importlib.util.find_spec("harness.features")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    return Path(locations[0]).resolve() if locations else None


def check_ini() -> Path:
    """The pytest configuration of `harness check` (never the one of the folder it runs in)."""
    return Path(__file__).resolve().parent.parent / "pytest" / CHECK_INI
