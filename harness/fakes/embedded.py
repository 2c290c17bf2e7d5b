"""The embedded world: a fake paper IB Gateway, a fake live IB Gateway, a fake Discord and the stand-in bot,
all on loopback, started for one test session and torn down even when a test fails.

The fakes listen on the real ports (4002 paper, 4001 live) of a loopback address of their own
(127.x.y.z), so the bot's `.env` says exactly what the seed says and no real gateway on this machine is
touched or shadowed.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.fakes.botdir import BotDir, make_bot_dir

PAPER_PORT, LIVE_PORT = 4002, 4001
BOT_READY_MARKERS = ("Gameplan complete", "Gateway connection failed", "Unhandled error", "Signal (dry-run")
BOT_READY_TIMEOUT = 45.0


class EmbeddedWorldError(RuntimeError):
    """The embedded world could not start; the message says what to do."""


@dataclass
class EmbeddedWorld:
    bot: BotDir
    gateway: object  # harness.fakes.tws.FakeGateway (paper)
    live_gateway: object  # harness.fakes.tws.FakeGateway (live account)
    discord: object  # harness.fakes.discord.FakeDiscord
    host: str
    bot_process: subprocess.Popen | None
    bot_stdout: Path
    bot_environ: Path  # `env`-style dump of what the bot was started with (stays in the temp dir)


def _start_gateways(world_paper, world_live):
    from harness.fakes.tws import FakeGateway

    candidates = [f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(1, 254)}"
                  for _ in range(5)] + ["127.0.0.1"]
    last_error: Exception | None = None
    for host in candidates:
        paper = FakeGateway(world_paper, host=host, port=PAPER_PORT)
        try:
            paper.start()
        except OSError as exc:
            last_error = exc
            continue
        live = FakeGateway(world_live, host=host, port=LIVE_PORT)
        try:
            live.start()
        except OSError as exc:
            paper.stop()
            last_error = exc
            continue
        return host, paper, live
    raise EmbeddedWorldError(f"cannot bind the fake gateways to a loopback address on ports 4002/4001: "
                             f"{last_error}")


def _wait_until_ready(process: subprocess.Popen, log_file: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log_file.exists():
            text = log_file.read_text(encoding="utf-8", errors="replace")
            if any(marker in text for marker in BOT_READY_MARKERS):
                return
        if process.poll() is not None:
            return
        time.sleep(0.1)


def _stop_bot(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # SIGTERM: the stand-in bot logs a clean shutdown
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def embedded_world(root: Path, *, start_bot: bool = True, environ: Mapping[str, str] | None = None) -> Iterator[
        EmbeddedWorld]:
    from harness.fakes.discord import FakeDiscord
    from harness.fakes.tws import example_world_path, load_world

    with ExitStack() as stack:
        host, paper, live = _start_gateways(load_world(example_world_path("paper")),
                                            load_world(example_world_path("live")))
        stack.callback(live.stop)
        stack.callback(paper.stop)
        discord = FakeDiscord().start()
        stack.callback(discord.stop)
        bot = make_bot_dir(root / "bot", webhook_url=discord.webhook_url, gateway_host=host)
        stdout = root / "bot-stdout.txt"
        process = None
        env = dict(os.environ if environ is None else environ)
        env["PYTHONIOENCODING"] = "utf-8"
        environ_dump = root / "bot-environ.txt"
        environ_dump.write_text("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v), encoding="utf-8")
        if start_bot:
            with stdout.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "harness.fakes.bot", "--bot-dir", str(bot.root)],
                    cwd=bot.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            stack.callback(_stop_bot, process)
            _wait_until_ready(process, bot.log_file, BOT_READY_TIMEOUT)
        yield EmbeddedWorld(bot, paper, live, discord, host, process, stdout, environ_dump)
