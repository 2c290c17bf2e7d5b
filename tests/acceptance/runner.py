"""Runs the operator's command (`pytest features/ ...`) in a subprocess against a prepared world and
returns each scenario's outcome and message, read from pytest's own JUnit XML."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    outcome: str  # passed, failed, skipped, error
    message: str


@dataclass(frozen=True)
class Run:
    code: int
    outcomes: dict[str, Outcome]
    output: str

    def failed(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.outcome in ("failed", "error")}

    def skipped(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.outcome == "skipped"}

    def passed(self) -> set[str]:
        return {name for name, o in self.outcomes.items() if o.outcome == "passed"}


def run_features(tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 240,
                 paths: tuple[str, ...] = ("features/",)) -> Run:
    junit = tmp_path / "junit.xml"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_")}
    environ.update(env or {})
    command = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider", "-q",
               f"--junitxml={junit}", "-o", "junit_family=xunit2", *args]
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
    return Run(result.returncode, outcomes, result.stdout + result.stderr)
