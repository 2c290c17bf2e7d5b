"""The embedded world's own failures: a stand-in bot that never settles is reported at once, with what was
awaited and the bot's output, instead of a silent wait."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.fakes.embedded import BOT_READY_MARKERS, EmbeddedWorldError, _wait_until_ready


def test_a_bot_that_never_settles_is_reported_with_what_was_awaited(tmp_path):
    stdout = tmp_path / "bot-stdout.txt"
    stdout.write_text("stand-in bot: connecting...\n", encoding="utf-8")
    log_file = tmp_path / "bot.log"
    log_file.write_text("2026-11-25 06:00:00,000 INFO bot: Bot initialized successfully\n", encoding="utf-8")
    silent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(EmbeddedWorldError) as raised:
            _wait_until_ready(silent, log_file, stdout, timeout=0.3)
    finally:
        silent.kill()
        silent.wait(timeout=10)
    message = str(raised.value)
    assert all(repr(marker) in message for marker in BOT_READY_MARKERS)
    assert "connecting..." in message and str(log_file) in message


def test_a_settled_or_exited_bot_is_ready(tmp_path):
    stdout = tmp_path / "bot-stdout.txt"
    log_file = tmp_path / "bot.log"
    log_file.write_text("... INFO bot: Waiting for a gameplan: no orders until one arrives\n", encoding="utf-8")
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        _wait_until_ready(running, log_file, stdout, timeout=5)
    finally:
        running.kill()
        running.wait(timeout=10)
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait(timeout=10)
    _wait_until_ready(exited, tmp_path / "no.log", stdout, timeout=5)
