"""Steps for the configuration feature: each reads facts through a probe, then runs one check."""

from __future__ import annotations

from pytest_bdd import given, then

from harness.checks import CouldNotLook
from harness.checks import configuration as checks
from harness.core import names
from harness.evidence import baseline as baselines
from harness.probes import envfile, vcs


@given("the bot's .env as python-dotenv reads it", target_fixture="env")
def env(world, evidence):
    if world.env_file is None:
        raise CouldNotLook("no bot .env to read: give --bot-dir or --bot-env")
    facts = envfile.read_env(world.env_file)
    evidence.record("bot .env", facts)
    checks.check_env_readable(facts)
    return facts


@given("the baseline snapshot taken before the switch", target_fixture="baseline")
def baseline(world, evidence):
    snap, problem = baselines.load_baseline(world.baseline_file)
    if snap is None:
        raise CouldNotLook(problem or "no baseline")
    evidence.record("baseline", {"path": snap.path, "taken_at": snap.taken_at, "keys": sorted(snap.keys)})
    return snap


@given("the bot's version control", target_fixture="repo")
def repo(world, env, evidence):
    if world.bot_dir is None:
        raise CouldNotLook("no --bot-dir: version control not inspected")
    facts = vcs.git_facts(world.bot_dir, world.env_file, env.secret_map(), timeout=world.settings.timeout)
    evidence.record("version control", facts)
    return facts


@then("the execution mode is paper trading")
def mode_is_paper(env) -> None:
    checks.check_mode_is_paper(env)


@then("the configuration is not live mode")
def not_live(env) -> None:
    checks.check_not_live(env)


@then("IBKR_PORT is a paper trading port")
def port_is_paper(env, evidence) -> None:
    note = checks.check_port_is_paper(env)
    if note:
        evidence.note(note)


@then("IBKR_HOST is a loopback address")
def host_is_loopback(env) -> None:
    checks.check_host_is_loopback(env)


@then("IBKR_CLIENT_ID is the one the bot had before the switch")
def client_id_unchanged(env, world, evidence) -> None:
    snap, _ = baselines.load_baseline(world.baseline_file)
    entry = snap.keys.get("IBKR_CLIENT_ID") if snap else None
    expected = str(entry.get("value")) if entry and entry.get("value") is not None else "1"
    evidence.note(f"expected IBKR_CLIENT_ID={expected} ({'baseline' if entry else 'the seed default'})")
    checks.check_client_id(env, expected, world.settings.client_id)


@then("no setting other than DRY_RUN and PAPER_TRADING changed")
def unchanged(env, baseline, evidence) -> None:
    difference = baselines.diff(baseline, env)
    evidence.record(names.CHANGES_SINCE_BASELINE, difference)
    checks.check_unchanged(difference)


@then("every line parses and no key is set twice")
def well_formed(env, evidence) -> None:
    for note in checks.check_well_formed(env):
        evidence.note(note)


@then("no variable in this shell's environment shadows the mode")
def no_shadowing_here(env, world, evidence) -> None:
    shadows = envfile.shadowed_keys(env, world.environ, "this shell's environment")
    evidence.record("shadowing (this shell)", shadows)
    checks.check_no_shadowing(shadows)


@then("no variable in the bot's recorded environment shadows the mode")
def no_shadowing_bot(env, world, evidence) -> None:
    dump = world.bot_environ
    if dump is None:
        raise CouldNotLook("the bot's own environment was not given (--bot-environ FILE: the output of `set` "
                           "or `Get-ChildItem Env:` in the shell or task that starts the bot)")
    variables, problem = envfile.read_environ_dump(dump)
    if variables is None:
        raise CouldNotLook(problem or "environment dump unreadable")
    shadows = envfile.shadowed_keys(env, variables, str(dump))
    evidence.record("shadowing (bot environment)", shadows)
    checks.check_no_shadowing(shadows)


@then("the .env is ignored by git and not tracked")
def env_not_committed(repo) -> None:
    checks.check_env_not_committed(repo)


@then("no secret value from the .env is in a tracked file")
def no_secret_committed(repo) -> None:
    checks.check_no_secret_committed(repo)


@then("the committed example configuration records paper mode")
def example_paper(repo) -> None:
    checks.check_example_shows_paper(repo)
