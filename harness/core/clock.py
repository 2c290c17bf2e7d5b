"""The one clock: what time it is, for every part of the harness, the fakes and the stand-in bot.

Real time, unless the embedded world is pinned in time: `HARNESS_EMBEDDED_NOW` holds an ISO instant with an offset
(`2026-11-27T18:30:00-05:00`) and the clock then runs at real speed from that instant. The first process that reads
a pinned clock records in `HARNESS_EMBEDDED_NOW_SINCE` the real instant (Unix seconds) the pinned one stands for,
so every process it starts (pytest-xdist workers, the stand-in bot, each step of `harness demo`) reads the same
clock instead of starting it again, and time never runs backwards from one step to the next.

A pinned clock is for the embedded world only: the settings refuse it beside a real bot or gateway (the real world
has one clock). Tests pin it with `pinned_environ`. Nothing else in the harness reads the system's date.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, MutableMapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache

VARIABLE = "HARNESS_EMBEDDED_NOW"
SINCE_VARIABLE = "HARNESS_EMBEDDED_NOW_SINCE"
EXAMPLE = "2026-11-27T18:30:00-05:00"


class ClockError(ValueError):
    """The pinned instant cannot be read; the message names the variable and an example."""


@lru_cache(maxsize=8)
def _parse(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"{VARIABLE}={text!r} is not an ISO instant (e.g. {EXAMPLE})") from None
    if instant.tzinfo is None:
        raise ClockError(f"{VARIABLE}={text!r} has no UTC offset: say which instant (e.g. {EXAMPLE})")
    return instant.astimezone(timezone.utc)


def pinned(environ: Mapping[str, str] | None = None) -> datetime | None:
    """The instant `HARNESS_EMBEDDED_NOW` pins the clock to (UTC), None when unset or empty. Raises ClockError."""
    text = (os.environ if environ is None else environ).get(VARIABLE, "")
    return _parse(text) if text.strip() else None


def _since(environ: MutableMapping[str, str]) -> float:
    """The real instant the pinned one stands for: inherited, else now (and exported to child processes)."""
    text = environ.get(SINCE_VARIABLE, "")
    try:
        return float(text)
    except ValueError:
        pass
    since = time.time()
    environ[SINCE_VARIABLE] = repr(since)
    return since


def at(epoch_seconds: float) -> datetime:
    """The clock's instant (aware, UTC) for a real instant in Unix seconds (a log record's `created`)."""
    start = pinned()
    real = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    if start is None:
        return real
    return start + timedelta(seconds=epoch_seconds - _since(os.environ))


def now() -> datetime:
    """What time it is (aware, UTC)."""
    return at(time.time())


def offset() -> timedelta:
    """How far the clock is from the system's (zero unless pinned): what a tool that stamps real time (Allure's
    results) is shifted by to tell the same story."""
    real = time.time()
    return at(real) - datetime.fromtimestamp(real, timezone.utc)


def local_now() -> datetime:
    """What time it is on this machine's wall (aware, in the local zone)."""
    return now().astimezone()


def exported() -> dict[str, str]:
    """The variables a child process needs to read this same clock (empty when the clock is not pinned)."""
    if pinned() is None:
        return {}
    _since(os.environ)
    return {VARIABLE: os.environ[VARIABLE], SINCE_VARIABLE: os.environ[SINCE_VARIABLE]}


def pinned_environ(instant: datetime) -> dict[str, str]:
    """The variables that pin a clock to `instant` from this very moment on (for tests: a process's environment,
    or monkeypatch.setenv for this one)."""
    if instant.tzinfo is None:
        raise ClockError("a pinned instant needs an offset")
    return {VARIABLE: instant.isoformat(), SINCE_VARIABLE: repr(time.time())}
