"""`harness snapshot`: the baseline of the bot's .env before the switch (secret values only as SHA-256)."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.common import EXIT_OK, env_path_of
from harness.core.refusal import Refused
from harness.core.settings import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    from harness.evidence.baseline import BaselineExists, in_paper_mode, snapshot, write_baseline
    from harness.probes.envfile import read_env

    facts = read_env(env_path_of(settings))
    if facts.problem:
        raise Refused(facts.problem)
    if in_paper_mode(facts):
        raise Refused(
            f"{facts.path} is already in paper mode (DRY_RUN=false, PAPER_TRADING=true): a baseline records the file "
            "before the switch, or 'no other setting changed' would bless whatever changed with it. Switch back "
            "(`harness switch dry-run`), undo anything else changed since, then take the snapshot"
        )
    baseline = snapshot(facts)
    target = settings.baseline_file
    if target.exists():
        _print_replacement(target, facts)
        if not args.replace:
            raise Refused(f"a baseline already exists at {target}: it is written once, so a later snapshot cannot "
                          "hide a change. `--replace` replaces it (what it would change is listed above)")
    try:
        write_baseline(baseline, target, replace=args.replace)
    except BaselineExists as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:
        raise Refused(f"cannot write the baseline {target}: {exc.strerror}") from None
    secrets = sum(1 for entry in baseline.keys.values() if entry.get("secret"))
    print(f"baseline of {baseline.env_path} ({', '.join(f'{k}={v}' for k, v in baseline.mode.items())}): "
          f"{len(baseline.keys)} keys ({secrets} secret, stored as SHA-256) -> {target}")
    return EXIT_OK


def _print_replacement(target: Path, facts) -> None:
    """What replacing the baseline at `target` with one of `facts` would change (secret values masked)."""
    from harness.evidence.baseline import diff, load_baseline

    existing, problem = load_baseline(target)
    if existing is None:
        print(f"the existing baseline cannot be read ({problem}); replacing it records {facts.path} as it is now")
        return
    print(f"{target} holds the baseline of {existing.env_path} taken at {existing.taken_at}; replacing it would "
          "record:")
    difference = diff(existing, facts)
    here = facts.resolved or facts.path
    if difference.unusable and existing.env_path != here:
        print(f"  the .env: {existing.env_path} -> {here}")
    for change in difference.changes:
        before = "(absent)" if change.change == "added" else change.before
        after = "(absent)" if change.change == "removed" else change.after
        print(f"  {change.key}: {before} -> {after}")
    if not difference.changes:
        print("  no key changes")

