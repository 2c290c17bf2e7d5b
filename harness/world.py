"""The world the checks look at: the operator's real one, or the embedded one on loopback.

Probes take plain paths and addresses from here; they never learn which kind of world it is.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from harness.core.redact import PrivateMapping, Secret, SecretSet
from harness.core.settings import GatewayAddress, Settings
from harness.probes.envfile import read_env

DISCORD_TOKEN_NAME = "DISCORD_BOT_TOKEN"


@dataclass
class World:
    kind: str  # Settings.recorded_world: "live", "bot directory", "rehearsal" or "embedded"
    settings: Settings
    bot_dir: Path | None
    env_file: Path | None
    baseline_file: Path
    evidence_dir: Path
    # The process environment the bot would inherit; its repr names only its size (it may hold tokens).
    environ: Mapping[str, str] = field(default_factory=PrivateMapping)
    gateway: GatewayAddress | None = None  # None: not to be contacted in this kind of run
    live_gateway: GatewayAddress | None = None
    discord_api: str | None = None
    discord_channel: str | None = None
    discord_token: Secret | None = None  # opaque: only harness.probes.discord reveals it, into a header
    bot_output: Path | None = None  # the stand-in bot's stdout/stderr, kept as evidence
    bot_environ: Path | None = None  # a dump of the environment the bot runs with
    bot_process: str = ""  # text in the bot's command line: how `harness halt` finds the process to stop
    # Where the bot's process runs (a match elsewhere is another program); None: any match is the bot's.
    process_dir: Path | None = None
    scheduler_task: str | None = None  # the task that starts the bot: a name (schtasks) or an exported XML file
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # The world holds the Discord token: its repr names only what kind of world it is.
        return f"World(kind={self.kind!r})"

    @property
    def why_no_gateway(self) -> str:
        return "the gateway is checked only with --live-gateway (this run checks a bot directory only)"

    def bot_output_tail(self, max_chars: int = 4000) -> str | None:
        """The end of the stand-in bot's stdout/stderr (embedded world only), for the evidence. Only the last
        few KB are read, however large the output grew."""
        if self.bot_output is None or not self.bot_output.is_file():
            return None
        try:
            with self.bot_output.open("rb") as output:
                size = output.seek(0, 2)
                output.seek(max(size - 4 * max_chars, 0))
                tail = output.read()
        except OSError:
            return None
        return tail.decode("utf-8", errors="replace")[-max_chars:]

    def bot_log_spec(self) -> str | None:
        """--bot-log, else the bot's `logs/` folder."""
        if self.settings.bot_log:
            return self.settings.bot_log
        return str(self.bot_dir / "logs" / "*.log*") if self.bot_dir is not None else None

    def log_tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.bot_log_tz) if self.settings.bot_log_tz else None

    def log_zone(self) -> str:
        """How naive log times are read, for messages ("America/New_York (--bot-log-tz)" or local time)."""
        from harness.probes.logs import log_zone_text

        return log_zone_text(self.settings.bot_log_tz, self.settings.sources.get("bot_log_tz"))

    def switch_search_start(self) -> tuple[datetime | None, str]:
        """Where the transition began, to look for what the bot did since: --since, else the baseline's time (taken
        just before the switch); (None, "") when neither says."""
        from harness.evidence import baseline as baselines

        if self.settings.since is not None:
            return self.settings.since, f"--since {self.settings.since.isoformat()}"
        snap, _problem = baselines.load_baseline(self.baseline_file)
        if snap is None or not snap.taken_at:
            return None, ""
        try:
            taken = datetime.fromisoformat(snap.taken_at)
        except ValueError:
            return None, ""
        if taken.tzinfo is None:
            return None, ""
        return taken, f"the baseline taken at {taken.isoformat()} ({self.baseline_file})"

    def secrets(self) -> SecretSet:
        """Secret values in the bot's .env (and the Discord token), so evidence scrubs them everywhere. Opaque:
        passed to a check, it shows as `<3 secret value(s)>` in a traceback, never as the values."""
        return known_secrets(self.env_file, self.discord_token)


def known_secrets(env_file: Path | None, discord_token: Secret | str | None) -> SecretSet:
    """The Discord token and the secret values of `env_file` (read only when it is a regular file: a FIFO or a
    device is left to the checks, which refuse it)."""
    found = SecretSet([Secret.of(discord_token, DISCORD_TOKEN_NAME)])
    if env_file is not None and env_file.is_file():
        found.add(read_env(env_file).secret_values())
    return found


class WorldUnavailable(RuntimeError):
    """The world to check could not be set up (the embedded world found no loopback address of its own, ...); the
    message says what to do. A run stops on it with that one line instead of erring in every scenario."""


@contextmanager
def build_world(settings: Settings, scratch: Path, environ: Mapping[str, str] | None = None) -> Iterator[World]:
    """`--live-gateway` checks the operator's world; `--bot-dir` alone checks a bot directory; no flags start
    the embedded world (fakes on loopback and the stand-in bot; `environ`, default os.environ, holds its knobs)."""
    if settings.world_kind != "embedded":
        live = settings.world_kind == "live"
        live_port = settings.live_gateway_port
        yield World(
            kind=settings.recorded_world,
            settings=settings,
            bot_dir=settings.bot_dir,
            env_file=settings.env_file,
            baseline_file=settings.baseline_file,
            evidence_dir=settings.evidence_dir,
            environ=PrivateMapping(os.environ),
            gateway=settings.gateway if live else None,
            live_gateway=GatewayAddress(settings.gateway.host, live_port) if live and live_port else None,
            discord_api=settings.discord_api if live else None,
            discord_channel=settings.discord_channel if live else None,
            discord_token=Secret.of(settings.discord_token, DISCORD_TOKEN_NAME) if live else None,
            bot_environ=settings.bot_environ,
            bot_process=settings.bot_process,
            process_dir=settings.bot_home,
            scheduler_task=settings.scheduler_task,
        )
        return
    from harness.fakes.embedded import LIVE_PORT, PAPER_PORT, EmbeddedWorldError, embedded_world

    if settings.phase == "first-day" and settings.bot_log_tz is None:
        # The embedded first day's machine is a desk in New York: its log and its task's trigger say New York time.
        from harness.fakes.first_day import MACHINE_ZONE

        settings = replace(settings, bot_log_tz=MACHINE_ZONE,
                           sources={**settings.sources, "bot_log_tz": "the embedded world's machine"})
    explicit_process = settings.sources.get("bot_process", "default") != "default"
    with contextlib.ExitStack() as stack:
        try:
            fake = stack.enter_context(embedded_world(scratch, phase=settings.phase, environ=environ,
                                                      autostart_at=settings.autostart_at,
                                                      gateway_restart=settings.gateway_restart))
        except EmbeddedWorldError as exc:
            raise WorldUnavailable(str(exc)) from None
        yield World(
            kind="embedded",
            settings=settings,
            bot_dir=fake.bot.root,
            env_file=fake.bot.env_file,
            baseline_file=settings.baseline if settings.baseline is not None else fake.bot.baseline_file,
            evidence_dir=settings.evidence_dir,
            environ=PrivateMapping(os.environ),
            gateway=GatewayAddress(fake.host, PAPER_PORT),
            live_gateway=GatewayAddress(fake.host, LIVE_PORT),
            discord_api=fake.discord.api_base,
            discord_channel=str(fake.discord.channel_id),
            discord_token=Secret.of(fake.discord.bot_token, DISCORD_TOKEN_NAME),
            bot_output=fake.bot_stdout,
            bot_environ=settings.bot_environ or fake.bot_environ,
            # The stand-in bot's command line names its directory; a --bot-process given on purpose wins (and then
            # names the bot wherever it runs).
            bot_process=settings.bot_process if explicit_process else str(fake.bot.root),
            process_dir=None if explicit_process else fake.bot.root,
            scheduler_task=settings.scheduler_task or str(fake.scheduled_task),
            notes=["embedded world: fake IB Gateways (paper 4002, live 4001) and a fake Discord on "
                   f"{fake.host}; {_EMBEDDED_BOT.get(settings.phase, _EMBEDDED_BOT['transition'])}"],
        )


_EMBEDDED_BOT = {
    "preflight": "the stand-in bot stopped, still in dry-run mode",
    "transition": "the stand-in bot switched with `harness switch paper` and started",
    "rollback": "the stand-in bot switched to paper, run, rolled back with `harness switch dry-run` and restarted",
    "first-day": "the first trading day after the switch lived in seconds on the world's clock: the stand-in bot "
                 "started at 06:00 ET, traded, lost the gateway at its 16:30 restart and reconnected",
}


def embedded_switch_evening(now: datetime) -> tuple[datetime, datetime]:
    """When the embedded world's first day, lived at `now`, placed its switch: (a minute after the dry-run bot's
    clean shutdown, the operator's start by hand in paper mode), on the evening of the last trading day before it."""
    from harness.fakes.botdir import SHUTDOWN_AFTER_CLOSE
    from harness.fakes.first_day import MANUAL_START_AFTER_CLOSE, first_day_dates

    close = first_day_dates(now).switch_close
    return close + SHUTDOWN_AFTER_CLOSE + timedelta(minutes=1), close + MANUAL_START_AFTER_CLOSE


@contextmanager
def drill_world(settings: Settings, scratch: Path) -> Iterator[World]:
    """An embedded world to rehearse `harness halt --drill` on: the stand-in bot running in paper mode, its orders
    resting (the fake market is closed) and a position held, so the drill has orders to cancel and a position
    to list."""
    from dataclasses import replace

    from harness.fakes.embedded import FAULTS_VARIABLE

    environ = dict(os.environ)
    knobs = {k.strip() for k in environ.get(FAULTS_VARIABLE, "").split(",") if k.strip()} - {"market-open"}
    environ[FAULTS_VARIABLE] = ",".join(sorted(knobs | {"market-closed", "open-positions"}))
    with build_world(replace(settings, phase="transition"), scratch, environ) as world:
        yield world
