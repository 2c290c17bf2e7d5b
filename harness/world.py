"""The world the checks look at: the operator's real one, or the embedded one on loopback.

Probes take plain paths and addresses from here; they never learn which kind of world it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.envfile import read_env
from harness.settings import Settings


@dataclass
class World:
    kind: str  # "live" or "embedded"
    settings: Settings
    bot_dir: Path | None
    env_file: Path | None
    baseline_file: Path
    evidence_dir: Path
    environ: Mapping[str, str] = field(default_factory=dict)  # the process environment the bot would inherit
    notes: list[str] = field(default_factory=list)

    def bot_log_spec(self) -> str | None:
        """--bot-log, else the bot's `logs/` folder."""
        if self.settings.bot_log:
            return self.settings.bot_log
        return str(self.bot_dir / "logs" / "*.log*") if self.bot_dir is not None else None

    def log_tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.bot_log_tz) if self.settings.bot_log_tz else None

    def secrets(self) -> tuple[str, ...]:
        """Secret values in the bot's .env, so evidence can scrub them wherever they show up."""
        if self.env_file is None:
            return ()
        return read_env(self.env_file).secret_values()


@contextmanager
def build_world(settings: Settings, scratch: Path) -> Iterator[World]:
    """`--bot-dir`/`--bot-env` name a real bot; otherwise a generated stand-in bot directory is used."""
    if settings.live_gateway or settings.bot_dir is not None or settings.bot_env is not None:
        yield World(
            kind="live" if settings.live_gateway else "given",
            settings=settings,
            bot_dir=settings.bot_dir,
            env_file=settings.env_file,
            baseline_file=settings.baseline_file,
            evidence_dir=settings.evidence_dir,
            environ=dict(os.environ),
        )
        return
    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(scratch / "bot")
    yield World(
        kind="embedded",
        settings=settings,
        bot_dir=bot.root,
        env_file=bot.env_file,
        baseline_file=settings.baseline if settings.baseline is not None else bot.baseline_file,
        evidence_dir=settings.evidence_dir,
        environ=dict(os.environ),
        notes=["embedded world: a generated stand-in bot directory, switched with `harness switch paper`"],
    )
