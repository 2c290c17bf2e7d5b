"""The one clock (harness.core.clock): real time, or the embedded world's pinned instant running at real speed, shared
with every process it starts; refused beside a real bot or gateway."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from harness import cli
from harness.core import clock
from harness.core.settings import SettingsError, resolve

PINNED = datetime(2026, 11, 27, 14, 5, tzinfo=timezone(timedelta(hours=-5)))


@pytest.fixture
def pinned(monkeypatch):
    for name, value in clock.pinned_environ(PINNED).items():
        monkeypatch.setenv(name, value)
    return PINNED


def test_unpinned_the_clock_is_the_systems(monkeypatch):
    monkeypatch.delenv(clock.VARIABLE, raising=False)
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=1)
    assert clock.now().tzinfo is not None and clock.exported() == {}


def test_pinned_the_clock_starts_at_the_instant_and_runs_at_real_speed(pinned):
    first = clock.now()
    assert timedelta(0) <= first - pinned < timedelta(seconds=1)
    time.sleep(0.05)
    assert clock.now() - first >= timedelta(seconds=0.05)
    assert clock.local_now().utcoffset() is not None
    assert clock.at(time.time() - 60) < first  # a log record of a minute ago is a minute before the pinned now


def test_a_process_started_later_reads_the_same_clock_not_a_new_one(pinned):
    time.sleep(0.3)
    code = "from harness.core import clock; print(clock.now().isoformat())"
    child = subprocess.run([sys.executable, "-c", code], env={**_base_env(), **clock.exported()},
                           capture_output=True, text=True, timeout=60, check=True)
    seen = datetime.fromisoformat(child.stdout.strip())
    assert seen - pinned >= timedelta(seconds=0.3)  # it ran on meanwhile: never back to the pinned instant
    assert seen <= clock.now()


def test_the_first_read_of_a_freshly_pinned_clock_exports_its_start(monkeypatch):
    monkeypatch.setenv(clock.VARIABLE, PINNED.isoformat())
    monkeypatch.delenv(clock.SINCE_VARIABLE, raising=False)
    clock.now()
    assert set(clock.exported()) == {clock.VARIABLE, clock.SINCE_VARIABLE}


@pytest.mark.parametrize(("value", "says"), [
    ("yesterday", "is not an ISO instant (e.g. 2026-11-27T18:30:00-05:00)"),
    ("2026-11-27T14:05:00", "has no UTC offset"),
])
def test_a_pinned_instant_that_cannot_be_read_is_one_clear_message(monkeypatch, value, says):
    monkeypatch.setenv(clock.VARIABLE, value)
    with pytest.raises(SettingsError, match=re.escape(f"HARNESS_EMBEDDED_NOW='{value}' {says}")):
        resolve({}, {clock.VARIABLE: value})


@pytest.mark.parametrize("cli_values", [
    {"live_gateway": True, "bot_dir": "."}, {"bot_dir": "."}, {"bot_env": "bot/.env"},
], ids=["live-gateway", "bot-dir", "bot-env"])
def test_a_pinned_clock_is_refused_beside_a_real_bot(cli_values):
    with pytest.raises(SettingsError, match="moves the embedded world's clock only; the real world has one clock"):
        resolve(cli_values, {clock.VARIABLE: PINNED.isoformat()})
    assert resolve({}, {clock.VARIABLE: PINNED.isoformat()}).world_kind == "embedded"


def test_harness_refuses_to_switch_a_real_bot_on_a_pinned_clock(pinned, tmp_path, capsys):
    env = tmp_path / ".env"
    env.write_text("DRY_RUN=true\nPAPER_TRADING=false\n", encoding="utf-8")
    assert cli.main(["switch", "paper", "--bot-dir", str(tmp_path)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "the real world has one clock" in err and len(err.strip().splitlines()) == 1
    assert env.read_text(encoding="utf-8") == "DRY_RUN=true\nPAPER_TRADING=false\n"


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k not in (clock.VARIABLE, clock.SINCE_VARIABLE)}
