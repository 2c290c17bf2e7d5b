"""Is the Python environment one ib_async can work in? One thing is checked: its `eventkit` package.

ib_async depends on `aeventkit`, which installs the package directory `eventkit/`. ib_insync depends on the
older `eventkit` 1.0.3, which installs the same directory: installing both in one environment overwrites
ib_async's files, and every connection then fails inside ib_async ("There is no current event loop in thread
..."). The files on disk are compared with the hashes aeventkit's own RECORD lists, so a polluted environment
is named as such instead of looking like a gateway that does not answer.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata as metadata
import importlib.util
import os

OWNER = "aeventkit"
PACKAGE = "eventkit"
REPAIR = (f"repair this environment: `pip uninstall -y ib_insync eventkit` then `pip install --force-reinstall "
          f"--no-deps {OWNER}`")


def _digest(path: str, algorithm: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return base64.urlsafe_b64encode(hashlib.new(algorithm, data).digest()).rstrip(b"=").decode("ascii")


def replaced_files(owner: metadata.Distribution, package: str) -> tuple[str, ...]:
    """Files of `package` that `owner` installed and that are now missing or differ from its RECORD."""
    changed = []
    for record in owner.files or ():
        if record.parts[:1] != (package,) or record.hash is None:
            continue  # other packages, and compiled files RECORD lists without a hash
        if _digest(str(record.locate()), record.hash.mode) != record.hash.value:
            changed.append(str(record))
    return tuple(changed)


def _installed_by(owner: metadata.Distribution, origin: str | None) -> bool:
    if origin is None:
        return False
    located = {os.path.normcase(os.path.abspath(str(record.locate()))) for record in owner.files or ()}
    return os.path.normcase(os.path.abspath(origin)) in located


def _rivals(package: str) -> str:
    """The other installed distributions that ship `package`, e.g. "ib_insync's eventkit 1.0.3"."""
    names = sorted(set(metadata.packages_distributions().get(package, ())) - {OWNER})
    shown = []
    for name in names:
        try:
            shown.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            shown.append(name)
    try:
        metadata.distribution("ib_insync")
        return "ib_insync's " + ", ".join(shown) if shown else ""
    except metadata.PackageNotFoundError:
        return ", ".join(shown)


def eventkit_problem(owner: metadata.Distribution | None = None) -> str | None:
    """None when `eventkit` is aeventkit's own, intact; else one line naming what replaced it and the repair."""
    try:
        owner = owner or metadata.distribution(OWNER)
    except metadata.PackageNotFoundError:
        return f"{OWNER} (ib_async's event library) is not installed: `pip install {OWNER}`"
    rivals = _rivals(PACKAGE)
    by = f" by {rivals}" if rivals else ""
    changed = replaced_files(owner, PACKAGE)
    if changed:
        return (f"the {PACKAGE} package was replaced{by}: {len(changed)} of {OWNER}'s files differ "
                f"({', '.join(changed[:3])}), so ib_async cannot connect to any gateway; {REPAIR}")
    spec = importlib.util.find_spec(PACKAGE)
    origin = spec.origin if spec is not None else None
    if not _installed_by(owner, origin):
        return (f"the {PACKAGE} package Python imports ({origin or 'none found'}) is not the one {OWNER} installed"
                f"{f' (also installed: {rivals})' if rivals else ''}, so ib_async cannot be trusted to connect; "
                f"{REPAIR}")
    return None


@functools.lru_cache(maxsize=1)
def environment_problem() -> str | None:
    """eventkit_problem() once per process: the files do not change during a run. Never raises: metadata this
    check cannot parse proves nothing either way, and the probe still reports any connection it cannot make."""
    try:
        return eventkit_problem()
    except Exception:  # a malformed RECORD or METADATA of some installed package
        return None
