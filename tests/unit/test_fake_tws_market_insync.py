"""ib_insync 0.9.86 (server version 176) against the fake: what a strategy bot asks first answers, none hangs.

ib_insync installs `eventkit` 1.0.3 over the `eventkit` package ib_async needs, so it never enters the project's
environment: it lives in a venv of its own in the per-user tools cache ($HARNESS_TOOLS_CACHE, else ~/.cache/...),
made once (about 7 s with a package registry in reach; skipped without one, except when $CI is set: CI fails) and
reused. The check runs there as a child process against a fake gateway served from this process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from harness.fakes.tws import FakeGateway, example_world_path, load_world
from harness.fakes.tws.world import NEW_YORK
from harness.report.node_tools import tools_cache

INSYNC = "ib_insync==0.9.86"
INSTALL_TIMEOUT = 180.0
CHECK_TIMEOUT = 60.0
CHECK = '''
import json, sys, time
from ib_insync import IB, LimitOrder, Stock

ib = IB()
ib.RequestTimeout = 5  # a request the fake leaves unanswered fails the check instead of hanging it
ib.connect("127.0.0.1", int(sys.argv[1]), clientId=7, timeout=5)
out = {"server_version": ib.client.serverVersion()}
began = time.monotonic()
[spy] = ib.qualifyContracts(Stock("SPY", "SMART", "USD"))
out["contract"] = [spy.conId, spy.primaryExchange]
ib.reqMarketDataType(3)
[ticker] = ib.reqTickers(spy)
out["ticker"] = [ticker.marketDataType, ticker.bid, ticker.ask, ticker.last]
bars = ib.reqHistoricalData(spy, "", "1 D", "5 mins", "TRADES", True)
out["bars"] = [len(bars), bars[0].date.isoformat(), bars[-1].date.isoformat()]
state = ib.whatIfOrder(spy, LimitOrder("BUY", 100, 600.0))
out["what_if"] = [state.initMarginChange, state.commission]
out["seconds"] = time.monotonic() - began
ib.disconnect()
print(json.dumps(out))
'''


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI reaches a package registry (.ci/run)")
    pytest.skip(reason)


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready(venv: Path) -> bool:
    python = _python(venv)
    if not python.exists():
        return False
    probe = subprocess.run([str(python), "-c", "import ib_insync; print(ib_insync.__version__)"],
                           capture_output=True, text=True, timeout=60)
    return probe.returncode == 0 and probe.stdout.strip() == "0.9.86"


def insync_python() -> Path:
    """The cached venv's python, made on first use (a scratch folder renamed when complete); skip when offline."""
    venv = tools_cache() / f"ib_insync-0.9.86-py{sys.version_info.major}.{sys.version_info.minor}"
    if _ready(venv):
        return _python(venv)
    scratch = venv.with_name(f"{venv.name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(scratch)], check=True, capture_output=True, timeout=120)
        install = subprocess.run(
            [str(_python(scratch)), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", INSYNC],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT)
        if install.returncode != 0:
            _missing(f"cannot install {INSYNC} into {scratch} (no package registry?): {install.stderr[-300:]}")
        try:
            os.replace(scratch, venv)
        except OSError:
            if not _ready(venv):  # not another worker that finished first
                raise
    except (OSError, subprocess.SubprocessError) as exc:
        _missing(f"cannot make a venv for {INSYNC} in {venv}: {exc}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _python(venv)


def test_ib_insync_qualifies_tickers_bars_and_what_if_without_a_hang(tmp_path: Path) -> None:
    python = insync_python()
    script = tmp_path / "insync_check.py"
    script.write_text(CHECK, encoding="utf-8")
    world = load_world(example_world_path("paper-market"))
    world.clock.set(datetime(2026, 11, 27, 11, 0, 30, tzinfo=NEW_YORK))  # the early-close day, in session
    with FakeGateway(world) as fake:
        done = subprocess.run([str(python), str(script), str(fake.port)], capture_output=True, text=True,
                              timeout=CHECK_TIMEOUT, env={**os.environ, "PYTHONPATH": ""})
        assert done.returncode == 0, done.stderr[-3000:]
        out = json.loads(done.stdout.strip().splitlines()[-1])
        fake.check()
    assert out["server_version"] == 176  # ib_insync's maximum
    assert out["contract"] == [756733, "ARCA"]
    data_type, bid, ask, last = out["ticker"]
    assert data_type == 3 and 0 < bid < ask and last > 0
    assert out["bars"] == [19, "2026-11-27T09:30:00-05:00", "2026-11-27T11:00:00-05:00"]
    assert out["what_if"] == ["15000.00", 1.0]
    assert out["seconds"] < 10
