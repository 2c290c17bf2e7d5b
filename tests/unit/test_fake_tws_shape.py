"""The fake gateway's inner boundaries: a session sees its gateway only through `GatewaySide`, imports run one way."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from harness.fakes.tws import World, session
from harness.fakes.tws.backend import Backend
from harness.fakes.tws.session import GatewaySide

PACKAGE = Path(session.__file__).parent


def _package_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    return {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
        for name in ([node.module] if node.module else [alias.name for alias in node.names])
    }


def _foreign_private_reads(module: str) -> list[str]:
    """`x._name` where x is not self: reaching into another object's insides."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    return [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]


def test_imports_between_server_session_and_backend_run_one_way() -> None:
    assert not {"server", "backend"} & _package_imports("session")
    assert "server" not in _package_imports("backend")
    assert {"session", "backend"} <= _package_imports("server")


def test_session_and_server_never_reach_into_another_objects_private_attributes() -> None:
    for module in ("session", "server", "backend"):
        assert _foreign_private_reads(module) == [], module


def test_backend_offers_everything_a_session_may_ask_for() -> None:
    wanted = {name for name in vars(GatewaySide) if not name.startswith("_")}
    wanted |= set(inspect.get_annotations(GatewaySide))
    probe = Backend(World(), min_version=157, max_version=178)
    assert wanted == {
        "min_version", "max_version", "records", "world", "faults", "now", "next_conn_id", "session_opened",
        "claim_client_id", "session_closed", "place_order", "cancel_order", "cancel_all",
    }
    assert all(hasattr(probe, name) for name in wanted), sorted(n for n in wanted if not hasattr(probe, n))
