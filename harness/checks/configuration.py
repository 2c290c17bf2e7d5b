"""Configuration checks (the seed's Step 2 and the Configuration Verified items)."""

from __future__ import annotations

from collections.abc import Mapping

from harness.checks import CheckFailed, CouldNotLook
from harness.core.ibkr import LIVE_PORTS, PAPER_PORTS
from harness.core.settings import is_loopback_host
from harness.evidence.baseline import EnvDiff
from harness.probes.envfile import MODE_KEYS, EnvFileFacts, Shadow, read_bool
from harness.probes.vcs import RepoFacts


def check_env_readable(env: EnvFileFacts) -> None:
    if env.problem is None:
        return
    if env.could_not_look:
        raise CouldNotLook(env.problem)
    raise CheckFailed("The bot's .env cannot be loaded", env.problem, critical=not env.exists)


def check_mode_is_paper(env: EnvFileFacts) -> None:
    """DRY_RUN=false and PAPER_TRADING=true, strictly."""
    dry, paper = read_bool(env, "DRY_RUN"), read_bool(env, "PAPER_TRADING")
    for setting in (dry, paper):
        if setting.problem:
            raise CheckFailed("Execution mode is not paper trading", setting.problem)
    check_not_live(env)
    if dry.value and paper.value:
        raise CheckFailed(
            "Execution mode is ambiguous",
            f"DRY_RUN=true (line {dry.line}) and PAPER_TRADING=true (line {paper.line}) in {env.path}: "
            "set DRY_RUN=false for paper trading",
        )
    if dry.value:
        raise CheckFailed(
            "Still in dry-run mode",
            f"DRY_RUN=true (line {dry.line}) and PAPER_TRADING=false (line {paper.line}) in {env.path}: "
            "the switch was not made (run `harness switch paper`)",
        )


def check_not_live(env: EnvFileFacts) -> None:
    """Both false means live trading: the one mistake that costs real money."""
    dry, paper = read_bool(env, "DRY_RUN"), read_bool(env, "PAPER_TRADING")
    if dry.value is False and paper.value is False:
        raise CheckFailed(
            "LIVE MODE configured",
            f"DRY_RUN=false (line {dry.line}) and PAPER_TRADING=false (line {paper.line}) in {env.path}: "
            "this is live trading, not paper",
            critical=True,
        )
    if dry.value is False and paper.value is None:
        raise CheckFailed(
            "Mode may be live",
            f"DRY_RUN=false but {paper.problem}; a bot that treats a missing or unknown PAPER_TRADING as "
            "false trades live",
            critical=True,
        )


def check_port_is_paper(env: EnvFileFacts) -> str | None:
    """4002 (Gateway paper) passes; 7497 (TWS paper) passes with a note; live ports are critical."""
    raw, line = env.values.get("IBKR_PORT"), env.line_of("IBKR_PORT")
    if raw is None:
        raise CheckFailed("IBKR_PORT is not set", f"{env.path} has no IBKR_PORT (paper Gateway: 4002)")
    try:
        port = int(raw.strip())
    except ValueError:
        raise CheckFailed("IBKR_PORT is not a port", f"IBKR_PORT ({env.path} line {line}) is {raw!r}") from None
    if port in LIVE_PORTS:
        kind = "IB Gateway" if port == 4001 else "TWS"
        raise CheckFailed(
            "IBKR_PORT is a LIVE port",
            f"IBKR_PORT={port} ({env.path} line {line}) is the {kind} LIVE trading port; paper is 4002",
            critical=True,
        )
    if port not in PAPER_PORTS:
        raise CheckFailed(
            "IBKR_PORT is not a paper port",
            f"IBKR_PORT={port} ({env.path} line {line}); the seed expects 4002 (IB Gateway paper)",
        )
    if port == 7497:
        return "IBKR_PORT=7497 is the TWS paper port, not IB Gateway's 4002: fine if the bot uses TWS"
    return None


def check_host_is_loopback(env: EnvFileFacts) -> None:
    host, line = env.values.get("IBKR_HOST"), env.line_of("IBKR_HOST")
    if not host:
        raise CheckFailed("IBKR_HOST is not set", f"{env.path} has no IBKR_HOST (expected localhost)")
    if not is_loopback_host(host):
        raise CheckFailed(
            "IBKR_HOST is not this machine",
            f"IBKR_HOST={host} ({env.path} line {line}); the Gateway runs on the desktop: expected localhost",
        )


def check_client_id(env: EnvFileFacts, expected: str, harness_client_id: int) -> None:
    raw, line = env.values.get("IBKR_CLIENT_ID"), env.line_of("IBKR_CLIENT_ID")
    if raw is None:
        raise CheckFailed("IBKR_CLIENT_ID is not set", f"{env.path} has no IBKR_CLIENT_ID (expected {expected})")
    if raw.strip() != expected:
        raise CheckFailed(
            "IBKR_CLIENT_ID changed",
            f"IBKR_CLIENT_ID={raw} ({env.path} line {line}); it should remain {expected}",
        )
    if raw.strip() == str(harness_client_id):
        raise CheckFailed(
            "Client id collision",
            f"the bot's IBKR_CLIENT_ID={raw} is the harness's own --client-id; give the harness another",
        )


def check_unchanged(diff: EnvDiff, expected: tuple[str, ...] = MODE_KEYS) -> None:
    if diff.unusable:
        raise CheckFailed("The baseline is not this bot's pre-switch .env", diff.unusable)
    unexpected = diff.unexpected(expected)
    if unexpected:
        lines = "; ".join(
            f"{c.key} {c.change}" + (f" ({c.before!r} -> {c.after!r})" if c.change == "changed" else "")
            for c in unexpected
        )
        raise CheckFailed("Settings changed unintentionally", f"since the baseline: {lines}")


def check_no_shadowing(shadows: tuple[Shadow, ...]) -> None:
    if not shadows:
        return
    parts = []
    for shadow in shadows:
        if shadow.key == "PYTHON_DOTENV_DISABLED":
            parts.append(f"PYTHON_DOTENV_DISABLED={shadow.env_value} in {shadow.source}: python-dotenv ignores "
                         "the .env entirely")
        else:
            parts.append(f"{shadow.key}={shadow.env_value} in {shadow.source} wins over the .env's "
                         f"{shadow.key}={shadow.file_value} (python-dotenv never overrides the environment)")
    raise CheckFailed(
        "Process environment shadows the .env",
        "; ".join(parts) + ". Remove the variable (setx / System Properties on Windows), then restart the bot",
        critical=True,
    )


def check_well_formed(env: EnvFileFacts) -> list[str]:
    """Lines dotenv skips and keys set twice fail; returns notes (BOM, mixed line endings)."""
    if env.invalid_lines:
        raise CheckFailed(
            "Lines python-dotenv cannot parse",
            f"{env.path} line {', '.join(map(str, env.invalid_lines))}: python-dotenv skips them silently",
        )
    if env.duplicates:
        dupes = "; ".join(
            f"{key} on lines {', '.join(map(str, lines))} (line {lines[-1]} wins)"
            for key, lines in env.duplicates.items()
        )
        raise CheckFailed("Keys set more than once", f"{env.path}: {dupes}")
    notes = []
    if env.bom:
        notes.append("the file starts with a UTF-8 byte-order mark (python-dotenv 1.x ignores it; older "
                     "versions read the first key with it)")
    if env.line_endings == "mixed":
        notes.append("the file mixes line endings")
    return notes


def check_env_not_committed(repo: RepoFacts) -> None:
    if not repo.looked:
        raise CouldNotLook(repo.problem or "version control not inspected")
    if repo.env_tracked:
        raise CheckFailed("The .env is committed", "the bot's .env is tracked by git: `git rm --cached .env`, "
                          "add it to .gitignore, and rotate every secret it holds")
    if not repo.env_ignored:
        raise CheckFailed("The .env is not ignored", "add .env to the bot's .gitignore so secrets cannot be "
                          "committed by accident")


def check_no_secret_committed(repo: RepoFacts) -> None:
    if not repo.looked:
        raise CouldNotLook(repo.problem or "version control not inspected")
    if repo.secret_hits:
        where = "; ".join(f"the value of {key} appears in {path}" for path, key in repo.secret_hits)
        raise CheckFailed("A secret is committed", f"{where}. Remove it from history and rotate it")


def check_example_shows_paper(repo: RepoFacts) -> None:
    if not repo.looked:
        raise CouldNotLook(repo.problem or "version control not inspected")
    if repo.example_path is None:
        raise CouldNotLook("no committed .env.example records the mode; confirm the change was committed")
    values: Mapping[str, str | None] = repo.example_values
    dry = (values.get("DRY_RUN") or "").strip().lower()
    paper = (values.get("PAPER_TRADING") or "").strip().lower()
    if (dry, paper) != ("false", "true"):
        raise CheckFailed(
            "The committed configuration does not show paper mode",
            f"{repo.example_path} at HEAD has DRY_RUN={dry or '(unset)'}, PAPER_TRADING={paper or '(unset)'}; "
            "commit DRY_RUN=false and PAPER_TRADING=true",
        )
    if not repo.example_committed:
        raise CheckFailed("The configuration change is not committed",
                          f"{repo.example_path} differs from HEAD: commit it")
