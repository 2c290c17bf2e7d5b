"""What Allure shows beside the results: each scenario's labels (from its checklist items), the run's
environment.properties and categories.json. Only redacted or masked text goes in (the caller's redactor)."""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest

from harness import __version__
from harness.core import dod
from harness.core.jsonfiles import write_bytes_atomic

EPIC = "Task 4.3"
# The transition log's anchor per checklist item: the label's link names the item whatever the log's path is.
ITEM_LINK = "Task_4_3_Transition_Log.md#{item}"
ENVIRONMENT_FILE = "environment.properties"
CATEGORIES_FILE = "categories.json"
LIBRARIES = ("pytest", "pytest-bdd", "allure-pytest-bdd", "ib_async", "python-dotenv", "pytest-xdist")

# Regexes are written without inline flags and with [\s\S] for "any character": Allure 2 reads them as Java
# regexes (the whole message must match) and Allure 3 as JavaScript ones; both accept this form.
_WRONG_MODE_OR_ACCOUNT = (
    r"[\s\S]*([Ww]rong (mode|account)|[Nn]ot paper|[Ll]ive (mode|account|trading|gateway)|LIVE|"
    r"[Ee]xecution mode|[Aa]nother mode|DRY_RUN|PAPER_TRADING|[Dd]ry-run mode|paper trading|[Hh]alt the bot|"
    r"not a paper)[\s\S]*"
)
CATEGORIES: tuple[dict[str, Any], ...] = (
    {"name": "Wrong mode or account", "matchedStatuses": ["failed"], "messageRegex": _WRONG_MODE_OR_ACCOUNT},
    {"name": "Could not look: operator to confirm", "matchedStatuses": ["skipped"]},
    {"name": "Harness error", "matchedStatuses": ["broken"]},
)


def scenario_marks(item_ids: Iterable[str], critical: bool) -> list[pytest.MarkDecorator]:
    """allure-pytest-bdd's own label and link markers for a scenario checking `item_ids` (its DoD tags): epic
    "Task 4.3", feature = the item's seed section, story = the item's text, severity, a link per item. It reads
    them when it starts the scenario's result, in the worker that runs it."""
    items = [dod.BY_ID[i] for i in sorted(set(item_ids)) if i in dod.BY_ID]
    label = pytest.mark.allure_label
    marks = [label(EPIC, label_type="epic"), label("critical" if critical else "normal", label_type="severity")]
    for section in dict.fromkeys(item.section for item in items):
        marks.append(label(section, label_type="feature"))
    for item in items:
        marks.append(label(item.text, label_type="story"))
        marks.append(pytest.mark.allure_link(ITEM_LINK.format(item=item.id), name=f"DoD item {item.id}",
                                             link_type="link"))
    return marks


def library_versions() -> dict[str, str]:
    found = {"harness": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def environment(*, phase: str, world: str, versions: Mapping[str, str], gateway: str, live_gateway: str | None,
                accounts: Iterable[str], mode: str) -> dict[str, str]:
    """The run's environment as Allure shows it. `accounts` must already be masked."""
    props = {f"{name}.version": value for name, value in versions.items()}
    props.update({"phase": phase, "world": world, "gateway": gateway, "live.gateway": live_gateway or "(none)",
                  "account": ", ".join(accounts) or "(not read)", "mode": mode})
    return props


def _escape(text: str, *, key: bool) -> str:
    """Java properties escaping: backslash and line breaks, separators in keys, non-ASCII as \\uXXXX."""
    out = []
    for char in text:
        if char == "\\" or (key and char in "=: #!"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) > 126 or ord(char) < 32:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else "?")
        else:
            out.append(char)
    return "".join(out)


def write_environment(results_dir: Path, props: Mapping[str, str], redact: Callable[[str], str]) -> Path:
    """environment.properties (ASCII, LF, sorted) in `results_dir`. Raises OSError."""
    lines = [f"{_escape(redact(key), key=True)}={_escape(redact(value), key=False)}"
             for key, value in sorted(props.items())]
    return write_bytes_atomic(Path(results_dir) / ENVIRONMENT_FILE, ("\n".join(lines) + "\n").encode("ascii"))


def write_categories(results_dir: Path) -> Path:
    """categories.json in `results_dir`. Raises OSError."""
    return write_bytes_atomic(Path(results_dir) / CATEGORIES_FILE,
                              (json.dumps(list(CATEGORIES), indent=2) + "\n").encode("utf-8"))


def env_mode(rows: Iterable[Mapping[str, Any]]) -> str:
    """"DRY_RUN=false PAPER_TRADING=true" as the run's evidence recorded the bot's .env, or "(not read)"."""
    for row in rows:
        for record in row.get("records") or ():
            facts = record.get("facts") if isinstance(record, Mapping) else None
            if record.get("name") != "bot .env" or not isinstance(facts, Mapping):
                continue
            values = facts.get("values")
            if isinstance(values, Mapping) and ("DRY_RUN" in values or "PAPER_TRADING" in values):
                return f"DRY_RUN={values.get('DRY_RUN')} PAPER_TRADING={values.get('PAPER_TRADING')}"
    return "(not read)"
