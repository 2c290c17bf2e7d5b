"""A fake started on a port that is already taken says so in one line and exits 2: no OSError traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from harness.fakes.ports import unavailable


@pytest.fixture
def taken_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize(("argv", "prog", "holder"), [
    (["-m", "harness.cli", "fake-gateway"], "harness fake-gateway", "another gateway or fake?"),
    (["-m", "harness.fakes.tws"], "python -m harness.fakes.tws", "another gateway or fake?"),
    (["-m", "harness.fakes.discord"], "python -m harness.fakes.discord", "another fake Discord?"),
])
def test_a_busy_port_is_one_line_and_exit_2(taken_port, argv, prog, holder):
    result = subprocess.run([sys.executable, *argv, "--port", str(taken_port)], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr == (f"{prog}: 127.0.0.1:{taken_port} is already in use ({holder}): choose another "
                             "--port\n")


def test_a_host_that_is_not_loopback_is_one_line_too():
    result = subprocess.run([sys.executable, "-m", "harness.fakes.discord", "--host", "192.0.2.1"],
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "loopback only" in result.stderr


def test_windows_says_it_with_its_own_codes():
    in_use = OSError(10048, "Only one usage of each socket address is normally permitted")
    assert unavailable("harness fake-gateway", "127.0.0.1", 4002, in_use, "another gateway or fake?") == (
        "harness fake-gateway: 127.0.0.1:4002 is already in use (another gateway or fake?): choose another --port")
    reserved = OSError(10013, "An attempt was made to access a socket in a way forbidden by its access permissions")
    line = unavailable("harness fake-gateway", "::1", 4002, reserved, "another gateway or fake?")
    assert line.startswith("harness fake-gateway: [::1]:4002 cannot be used (Windows reserves it")
    assert unavailable("x", "127.0.0.1", 1, OSError(99, "Cannot assign requested address"), "?") is None
