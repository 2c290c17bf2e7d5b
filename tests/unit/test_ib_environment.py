"""The environment check: ib_async's `eventkit` package overwritten (by ib_insync's eventkit 1.0.3) is named,
never left to look like a gateway that does not answer."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
from pathlib import Path

from harness.probes.ib_environment import eventkit_problem, replaced_files


def _record_line(site: Path, name: str) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256((site / name).read_bytes()).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{(site / name).stat().st_size}"


def installed(site: Path) -> metadata.Distribution:
    """A distribution 'aeventkit' that installed eventkit/__init__.py and eventkit/event.py into `site`."""
    package = site / "eventkit"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .event import Event\n")
    (package / "event.py").write_text("class Event: ...\n")
    info = site / "aeventkit-2.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aeventkit\nVersion: 2.1.0\n")
    lines = [_record_line(site, "eventkit/__init__.py"), _record_line(site, "eventkit/event.py"),
             "eventkit/__pycache__/event.cpython-311.pyc,,", "aeventkit-2.1.0.dist-info/RECORD,,"]
    (info / "RECORD").write_text("\n".join(lines) + "\n")
    return metadata.PathDistribution(info)


def test_intact_files_are_not_replaced(tmp_path):
    assert replaced_files(installed(tmp_path), "eventkit") == ()


def test_an_overwritten_file_is_named(tmp_path):
    owner = installed(tmp_path)
    (tmp_path / "eventkit" / "event.py").write_text("# eventkit 1.0.3\nclass Event: pass\n")
    assert replaced_files(owner, "eventkit") == ("eventkit/event.py",)
    problem = eventkit_problem(owner)
    assert "the eventkit package was replaced" in problem and "eventkit/event.py" in problem
    assert "pip install --force-reinstall --no-deps aeventkit" in problem


def test_a_missing_file_is_replaced_too(tmp_path):
    owner = installed(tmp_path)
    (tmp_path / "eventkit" / "__init__.py").unlink()
    assert replaced_files(owner, "eventkit") == ("eventkit/__init__.py",)


def test_an_eventkit_imported_from_elsewhere_is_a_problem(tmp_path):
    """Intact files, but not the ones Python imports (another eventkit earlier on sys.path)."""
    problem = eventkit_problem(installed(tmp_path))
    assert problem is not None and "is not the one aeventkit installed" in problem


def test_this_environment_is_sound():
    """The project's own environment: `pip install -e ".[test]"` must not bring a second eventkit."""
    assert eventkit_problem() is None
