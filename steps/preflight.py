"""Steps for the preflight feature (Step 0 and Step 1 before the switch)."""

from __future__ import annotations

from pytest_bdd import given, then

from harness.checks import CouldNotLook
from harness.checks import preflight as checks
from harness.probes import market, processes


@given("when the bot was stopped, from its log or the operator", target_fixture="shutdown")
def shutdown(world, evidence):
    settings = world.settings
    if settings.shutdown_time is not None:
        instant, source = settings.shutdown_time, f"--shutdown-time ({settings.sources.get('shutdown_time')})"
    else:
        from harness.probes import logs

        spec = world.bot_log_spec()
        if spec is None:
            raise CouldNotLook("no bot log to read (--bot-log) and no --shutdown-time given")
        files = logs.find_log_files(spec, base_dir=world.bot_dir)
        markers = [logs.Pattern(text, ignore_case=True) for text in settings.log_shutdown_markers]
        line = logs.last_shutdown(files, markers, tz=world.log_tz()) if files else None
        if line is None or line.timestamp is None:
            raise CouldNotLook(f"no shutdown line with a time found in {spec}; give --shutdown-time")
        zone = logs.log_zone_text(settings.bot_log_tz, settings.sources.get("bot_log_tz"))
        instant, source = line.timestamp, f"{line.path}:{line.lineno}, its time read as {zone}"
        evidence.record("last shutdown line", line)
    facts = market.session_at(instant)
    evidence.record("NYSE session at shutdown", facts)
    return {"at": instant, "source": source, "session": facts}


@then("that was outside the NYSE regular session")
def outside_session(shutdown) -> None:
    checks.check_shutdown_outside_session(shutdown["at"], shutdown["source"], shutdown["session"])


@then("no bot process is running")
def bot_not_running(world, evidence) -> None:
    facts = processes.find_bot_processes(world.settings.bot_process)
    evidence.record("bot processes", facts)
    checks.check_bot_not_running(facts)
