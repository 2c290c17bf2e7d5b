"""`harness demo`: the whole procedure on the embedded world, ending in the evidence a person opens.

It runs what an operator runs, in the order the seed asks for, each as its own process so that each phase
gets a fresh embedded world, its own run directory and its own verdict:

    harness confirm pre_... --by ...         what Step 0 asks a person to attest
    harness check --phase preflight          Step 0 and Step 1 (the packaged features: pytest features/)
    harness check                            Steps 2-4, after the switch and the restart
    harness watch --for ... --every ...      the first hour, compressed
    harness check --phase first-day          the first 24 hours, compressed
    harness report                           the HTML report, the transition log, the board card

Only the embedded world: a demo never looks at a real bot or gateway.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from harness.core import clock
from harness.probes.market import NEW_YORK

HELP = ("Run the whole procedure on the embedded world (preflight, transition, a compressed first hour and first "
        "day) and write the HTML report and the transition log: what a newcomer runs first")
PHASE_TIMEOUT = 600.0  # seconds one step may take before the demo gives up on it (a healthy step takes seconds)
# The first hour in the embedded world: five rounds, compressed into seconds.
WATCH_FOR, WATCH_EVERY = "4s", "1s"
DEMO_OPERATOR = "demo operator (harness demo)"
DEMO_FOLDER = "demo"  # under the default evidence directory
PRE_TRANSITION_ATTESTATIONS = ("pre_task_4_2_approved", "pre_stability_criteria", "pre_operator_authorized")


@dataclass(frozen=True, slots=True)
class DemoStep:
    title: str
    argv: tuple[str, ...]
    # When this step starts on the embedded world's clock: a moment of DemoTimeline ("before_switch", "switch",
    # "now"); None: the clock runs on from the step before.
    moment: str | None = None


@dataclass(frozen=True, slots=True)
class DemoTimeline:
    """When the demo's steps happen: the evening of the switch as the embedded first day places it (the last trading
    day before the first day; see harness.fakes.first_day), then now, the morning after that first day."""

    before_switch: datetime  # Step 0's attestations and the preflight: the dry-run bot stopped after the close
    switch: datetime  # the transition run and the first hour, as the operator's start by hand
    now: datetime  # the first-day run and the report: when the demo began (it plans its first day from that)

    @classmethod
    def of(cls, now: datetime) -> DemoTimeline:
        from harness.world import embedded_switch_evening

        return cls(*embedded_switch_evening(now), now)


def demo_steps(evidence_dir: Path, html: bool = True) -> tuple[DemoStep, ...]:
    python = sys.executable
    evidence = ("--evidence-dir", str(evidence_dir))
    harness = (python, "-m", "harness.cli")
    pytest = (*harness, "check", "-p", "no:xdist", *evidence)  # the packaged features, from any folder
    # Step 0 asks a person to attest three things before anything runs; the demo's operator says who it is.
    attest = tuple(
        DemoStep(f"the operator attests {item}",
                 (*harness, "confirm", item, "--by", DEMO_OPERATOR, "--note", "harness demo on the embedded world",
                  *evidence), "before_switch" if index == 0 else None)
        for index, item in enumerate(PRE_TRANSITION_ATTESTATIONS))
    return (
        *attest,
        DemoStep("preflight (seed Step 0 and Step 1)", (*pytest, "--phase", "preflight")),
        DemoStep("transition (seed Steps 2-4, after the switch and the restart)", (*pytest, "--phase", "transition"),
                 "switch"),
        DemoStep("first hour (harness watch, compressed)",
                 (*harness, "watch", "--for", WATCH_FOR, "--every", WATCH_EVERY, *evidence)),
        DemoStep("first day (compressed 24 hours)", (*pytest, "--phase", "first-day"), "now"),
        DemoStep("report (HTML report, transition log, board card)",
                 (*harness, "report", *evidence, *(() if html else ("--no-html",)))),
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--evidence-dir says where the evidence goes; --no-html leaves out the HTML report (no Node needed)."""
    parser.add_argument("--no-html", action="store_true",
                        help="write the transition log and the board card, not the HTML report (which needs Node)")


def run(settings, args: argparse.Namespace) -> int:
    from harness.core.refusal import Refused

    if settings.world_kind != "embedded":
        raise Refused("the demo runs on the embedded world only: drop --live-gateway, --bot-dir and --bot-env "
                      "(on your bot, run the commands of the README's 'Use it on your bot')")
    root = Path.cwd()
    outcomes: list[tuple[str, int]] = []
    evidence_dir = demo_evidence_dir(settings)
    timeline = DemoTimeline.of(clock.now())
    print(f"harness demo: the switch on the evening of {timeline.switch.astimezone(NEW_YORK):%a %Y-%m-%d} (New "
          "York time), its first day, then now, the morning after", flush=True)
    step_clock = clock.exported()
    for step in demo_steps(evidence_dir.resolve(), html=not getattr(args, "no_html", False)):
        if step.moment is not None:
            step_clock = clock.pinned_environ(getattr(timeline, step.moment))
        print(f"\n=== harness demo: {step.title} ===", flush=True)
        outcomes.append((step.title, _run_step(step, root, step_clock)))
    print("\n=== harness demo: summary ===")
    for title, status in outcomes:
        print(f"  exit {status:>3}  {title}")
    html = evidence_dir / "report" / "index.html"
    log = evidence_dir / "Task_4_3_Transition_Log.md"
    print(f"HTML report:    {html.resolve() if html.exists() else '(not written)'}")
    print(f"Transition log: {log.resolve() if log.exists() else '(not written)'}")
    return overall_status([status for _title, status in outcomes])


def demo_evidence_dir(settings) -> Path:
    """Where the demo's evidence and attestations go: a folder of its own (`<evidence-dir>/demo`, by default
    reports/demo), so that its runs and its operator's attestations never stand beside a real bot's; an
    --evidence-dir given on purpose is taken as it is."""
    if settings.sources.get("evidence_dir", "default") == "default":
        return settings.evidence_dir / DEMO_FOLDER
    return settings.evidence_dir


def overall_status(statuses: Sequence[int]) -> int:
    """The demo's exit status: an error of a step (usage, internal) first, then NEEDS REMEDIATION (1), then
    INCOMPLETE (6); 0 only when every step verified."""
    from harness.verdict.decide import EXIT_INCOMPLETE, EXIT_NEEDS_REMEDIATION, EXIT_VERIFIED

    for status in statuses:
        if status not in (EXIT_VERIFIED, EXIT_NEEDS_REMEDIATION, EXIT_INCOMPLETE):
            return status
    for status in (EXIT_NEEDS_REMEDIATION, EXIT_INCOMPLETE):
        if status in statuses:
            return status
    return EXIT_VERIFIED


# What would reach beyond the embedded world: the operator's real Discord webhook (harness watch's alert).
NOT_FOR_THE_DEMO = ("DISCORD_ALERT_WEBHOOK",)


def _run_step(step: DemoStep, root: Path, step_clock: dict[str, str]) -> int:
    environ = {name: value for name, value in os.environ.items() if name not in NOT_FOR_THE_DEMO}
    environ.update(step_clock)
    try:
        done = subprocess.run(step.argv, cwd=root, env=environ, timeout=PHASE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        print(f"harness demo: {step.title} did not finish within {PHASE_TIMEOUT:g} s", file=sys.stderr)
        return 1
    return done.returncode
