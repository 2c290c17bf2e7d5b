"""`harness demo`: its steps, its exit status, and that it never runs on a real bot."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness import cli, demo


@pytest.mark.parametrize(("statuses", "expected"), [
    ([0, 0, 0, 0, 0, 0, 0, 0], 0),
    ([0, 6, 0, 0, 0], 6),
    ([0, 6, 1, 0, 0], 1),  # a failure outranks a check that could not look
    ([0, 1, 2, 0, 0], 2),  # a usage or internal error outranks both
    ([0, 0, 0, 0, 3], 3),
])
def test_the_demo_exits_with_its_worst_step(statuses, expected):
    assert demo.overall_status(statuses) == expected


def test_the_demo_runs_the_phases_in_the_seeds_order_into_one_evidence_dir(tmp_path: Path):
    steps = demo.demo_steps(tmp_path)
    phases = [step.argv[step.argv.index("--phase") + 1] for step in steps if "--phase" in step.argv]
    assert phases == ["preflight", "transition", "first-day"]
    assert [step.argv[3] for step in steps if step.argv[1:3] == ("-m", "harness.cli")] == [
        "confirm", "confirm", "confirm", "watch", "report"]
    assert all(step.argv[step.argv.index("--evidence-dir") + 1] == str(tmp_path) for step in steps)


def test_the_demo_refuses_a_real_bot(tmp_path: Path, capsys):
    assert cli.main(["demo", "--bot-dir", str(tmp_path)]) == cli.EXIT_REFUSED
    assert "embedded world only" in capsys.readouterr().err


def test_the_demo_never_hands_the_operators_alert_webhook_to_its_steps(tmp_path: Path, monkeypatch):
    seen = {}

    def run(argv, **kwargs):
        seen["env"] = kwargs["env"]
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setenv("DISCORD_ALERT_WEBHOOK", "https://discord.com/api/webhooks/1/real-operators-token")
    monkeypatch.setattr(demo.subprocess, "run", run)
    assert demo._run_step(demo.demo_steps(tmp_path)[0], tmp_path) == 0
    assert "DISCORD_ALERT_WEBHOOK" not in seen["env"] and "PATH" in seen["env"]
