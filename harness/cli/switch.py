"""`harness switch paper|dry-run`: only DRY_RUN and PAPER_TRADING change; backup, atomic write, masked diff."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from harness.cli.common import EXIT_OK, env_path_of
from harness.core import clock
from harness.core.refusal import Refused
from harness.core.settings import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    from harness.actions.rollback import plan_rollback
    from harness.actions.switch import plan_switch, write_switch
    from harness.core.redact import mask_value
    from harness.evidence import incidents as incident
    from harness.probes.envfile import EnvEditError, read_bool, read_env

    env_path = env_path_of(settings)
    if args.mode == "paper":
        locked = incident.lock_reason(settings.evidence_dir, env_path)
        if locked:
            raise Refused(f"not switching to paper: {locked}")
    try:
        if args.mode == "dry-run" and args.port is None:
            plan = plan_rollback(env_path, settings.baseline_file)
        else:
            plan = plan_switch(env_path, args.mode, args.port)
    except EnvEditError as exc:
        raise Refused(str(exc)) from None
    if not plan.changed:
        print(f"{env_path} is already in {args.mode} mode; nothing to do")
        return EXIT_OK
    print(f"{env_path}:")
    for key, old, new in plan.changes:
        print(f"  {key}: {mask_value(key, old) if old is not None else '(absent)'} -> {mask_value(key, new)}")
    for note in plan.notes:
        print(f"  note: {note}")
    if args.dry_run:
        print("dry run: nothing written")
        return EXIT_OK
    if not args.force_market_hours:
        _refuse_if_market_open()
    if not args.force_running_bot:
        _refuse_if_bot_running(settings.bot_process, settings.bot_home)
    _baseline_before_switch(settings, env_path, args.mode)
    try:
        written = write_switch(plan)
    except EnvEditError as exc:
        raise Refused(str(exc)) from None
    backup = written.backup
    for problem in written.problems:  # the backup is kept (it is the way back), but the operator must know
        print(f"warning: {problem}", file=sys.stderr, flush=True)
    after = read_env(env_path)
    shown = ", ".join(f"{key}={read_bool(after, key).raw}" for key in ("DRY_RUN", "PAPER_TRADING"))
    print(f"backup -> {backup}")
    print(f"re-read {env_path}: {shown}")
    if args.mode == "paper":
        _tell_the_example(settings.bot_home or env_path.parent, env_path)
    return EXIT_OK


def _tell_the_example(home: Path, env_path: Path) -> None:
    """A tracked .env.example must record the new mode, committed: what the commit check (dod_env_committed) reads."""
    from harness.probes.vcs import git_facts

    repo = git_facts(home, env_path, {})
    if not repo.looked or repo.example_path is None:
        return
    example = repo.example_path
    values = {key: (repo.example_values.get(key) or "").strip().lower() for key in ("DRY_RUN", "PAPER_TRADING")}
    if values == {"DRY_RUN": "false", "PAPER_TRADING": "true"} and repo.example_committed:
        print(f"{example} (tracked by git) records DRY_RUN=false, PAPER_TRADING=true at HEAD: committed")
        return
    print(f"{example} is tracked by git: the commit check (dod_env_committed) wants it to say DRY_RUN=false and "
          "PAPER_TRADING=true at HEAD, with no uncommitted change to it")
    command = f'git -C "{home}" commit -m "Task 4.3: paper trading mode" {example}'
    print(f"  set both in {example} too, then commit it: {command}")


def _baseline_before_switch(settings: Settings, env_path: Path, mode: str) -> None:
    """An existing baseline must be this bot's pre-switch one; without one, switching to paper records it."""
    from harness.evidence.baseline import load_baseline, snapshot, unusable_for, write_baseline
    from harness.probes.envfile import read_env

    target = settings.baseline_file
    before = read_env(env_path)
    if target.exists():
        existing, problem = load_baseline(target)
        why = problem if existing is None else unusable_for(existing, before)
        if why:
            raise Refused(f"{why}; nothing changed. Record this bot's baseline first (`harness snapshot --replace`, "
                          "or another --baseline)")
        return
    if mode != "paper":
        return  # a rollback records no baseline: it would be one of the switched file
    try:
        write_baseline(snapshot(before), target)
    except OSError as exc:
        raise Refused(f"cannot write the baseline {target}: {exc.strerror}; nothing changed") from None
    print(f"baseline of the file before the switch -> {target}")


def _now() -> datetime:
    return clock.now()


def _refuse_if_market_open() -> None:
    from harness.probes.market import session_at

    session = session_at(_now())
    if session.is_open:
        raise Refused(
            f"the NYSE regular session is open now ({session.open_at:%H:%M}-{session.close_at:%H:%M} ET): the "
            "seed says switch outside market hours; wait, or use --force-market-hours"
        )


def _refuse_if_bot_running(pattern: str, bot_dir: Path | None) -> None:
    from harness.probes.processes import find_bot_processes

    facts = find_bot_processes(pattern, bot_dir)
    if facts.bots:
        raise Refused(f"the bot looks alive ({'; '.join(p.describe() for p in facts.bots)}, matching {pattern!r}): "
                      "stop it first, or use --force-running-bot")
    if facts.hidden_python:
        raise Refused(f"Python process(es) {', '.join(map(str, facts.hidden_python))} hide their command line from "
                      "this user: any may be the bot; run as the bot's user or as administrator, or use "
                      "--force-running-bot once you have seen the bot stopped")

