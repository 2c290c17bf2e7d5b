r"""The README's operator path, run as written, reaches TRANSITION VERIFIED on a fake world (issue 22).

The commands are parsed from README.md's "Use it on your bot" section, its two code blocks (the rehearsal's fakes,
then the operator's path), so the README cannot drift from this test. Only placeholders are substituted:

* `C:\bots\` -> this test's folder: the bot directory `C:\bots\mybot`, the environment dump `C:\bots\bot-env.txt`;
* `127.0.0.1` -> a loopback address of the test's own (the fake gateways keep the README's ports 4002 and 4001),
  and the fake Discord's port 8765 -> a free port there;
* the values of `HARNESS_EVIDENCE_DIR` (a temporary folder) and `DISCORD_BOT_TOKEN` (the token the fake printed).

What the README leaves to a person the test does itself: the rehearsal's copy of the bot (made with
`harness.fakes.botdir.make_bot_dir`: a git repository with a tracked `.env.example` and the stand-in bot's `.env`,
in dry-run, pointing at the fakes), the edit of `.env.example` before the README's `git commit`, the restart by hand
(the stand-in bot, which logs its paper startup, trades on the fake paper gateway and posts to the fake Discord),
and the environment dump (the README's Linux one-liner, given the stand-in bot's pid). The switch gets
`--force-market-hours` only while the NYSE regular session is open (the README switches outside it).

Run: the rehearsal's fakes, snapshot, the three Step 0 attestations, the preflight (TRANSITION VERIFIED), switch
paper, the `.env.example` commit, the restart, the transition (TRANSITION VERIFIED, exit 0). Not run: the lines after
the transition. `harness watch` is an hour at the desk; the first day needs a real scheduler's task and 24 hours; the
report, the halt and the rollback are phases of their own (the embedded world's tests cover them).
"""

from __future__ import annotations

import os
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from harness.core import clock
from harness.fakes.botdir import make_bot_dir
from harness.fakes.embedded import BOT_READY_MARKERS
from harness.probes.market import session_at
from tests.acceptance.runner import NOT_THE_OPERATORS, REPO

# What this test needs of the world: git; Linux's /proc, sh and tr (the README's environment dump); a loopback
# address 127.x.y.z with ports 4002 and 4001 free (Linux answers on all of 127.0.0.0/8); no network beyond loopback.
NEEDS_THE_WORLD = pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("git") is None,
                                     reason="the README's Linux dump reads /proc; its commit needs git")

SECTION = "## Use it on your bot"
BOT_DIR_PLACEHOLDER, README_HOST, DISCORD_PORT = "C:\\bots\\", "127.0.0.1", "8765"
STEP_TIMEOUT = 60.0  # seconds any one command may take (each takes a few)
READY_TIMEOUT = 20.0  # for a fake to print its address, for the bot to settle


def readme_blocks() -> list[list[str]]:
    """The `sh` code blocks of the README's "Use it on your bot" section, as lists of non-empty lines."""
    return [[line for line in block.splitlines() if line.strip()]
            for block in re.findall(r"```sh\n(.*?)```", readme_section(), re.S)]


def readme_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(SECTION + "\n", 1)[1].split("\n## ", 1)[0]


def readme_linux_dump() -> str:
    """The README's one line that dumps the running bot's environment on Linux."""
    return re.search(r"`(tr [^`]*/proc/[^`]*environ[^`]*)`", readme_section()).group(1)


class Place:
    """The placeholders of the README and what they stand for in this test's world."""

    def __init__(self, root: Path, host: str, discord_port: int) -> None:
        self.root, self.host, self.discord_port = root, host, discord_port

    def words(self, line: str) -> list[str]:
        line = line.replace(BOT_DIR_PLACEHOLDER, f"{self.root}/").replace(README_HOST, self.host)
        line = re.sub(rf"(?<![0-9]){DISCORD_PORT}(?![0-9])", str(self.discord_port), line)
        return shlex.split(line, comments=True)


def free_host() -> str:
    """A loopback address of the test's own whose ports 4002 and 4001 nobody holds (as the embedded world picks)."""
    for _ in range(20):
        host = f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(1, 254)}"
        try:
            for port in (4002, 4001):
                with socket.socket() as probe:
                    probe.bind((host, port))
        except OSError:
            continue
        return host
    pytest.fail("no loopback address with ports 4002 and 4001 free")


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class Served:
    """A fake started from a README line: its output gathered by a thread, killed at the end."""

    def __init__(self, argv: list[str], environ: dict[str, str]) -> None:
        self.process = subprocess.Popen(argv, cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, encoding="utf-8")
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, prefix: str) -> str:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            found = next((line for line in self.lines if line.startswith(prefix)), None)
            if found is not None:
                return found
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        pytest.fail(f"{self.process.args} printed no {prefix!r} line; it printed:\n" + "\n".join(self.lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def argv_of(words: list[str]) -> list[str]:
    """The operator's command as this interpreter runs it (the venv's `harness`, `pytest`)."""
    program, *rest = words
    if program == "harness":
        return [sys.executable, "-m", "harness.cli", *rest]
    if program == "pytest":
        return [sys.executable, "-m", "pytest", *rest]
    assert program == "git", f"the README's path runs a command this test does not know: {words}"
    return words


def run(argv: list[str], environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO, env=environ, capture_output=True, text=True, encoding="utf-8",
                          timeout=STEP_TIMEOUT)


def verdict(output: str) -> str:
    return next((line for line in reversed(output.splitlines())
                 if line.startswith(("TRANSITION VERIFIED", "NEEDS REMEDIATION", "INCOMPLETE"))), "(no verdict)")


@contextmanager
def stand_in_bot(bot_dir: Path, environ: dict[str, str], out: Path) -> Iterator[subprocess.Popen]:
    """The restart by hand: the stand-in bot, until its gameplan ran (its paper startup logged, its notification
    posted); stopped at the end."""
    with out.open("wb") as stdout:
        process = subprocess.Popen([sys.executable, "-m", "harness.fakes.bot", "--bot-dir", str(bot_dir)],
                                   cwd=bot_dir, env=environ, stdout=stdout, stderr=subprocess.STDOUT)
    try:
        log, deadline = bot_dir / "logs" / "bot.log", time.monotonic() + READY_TIMEOUT
        while not any(marker in log.read_text(encoding="utf-8", errors="replace") for marker in BOT_READY_MARKERS):
            assert process.poll() is None, out.read_text(encoding="utf-8", errors="replace")[-2000:]
            assert time.monotonic() < deadline, f"the stand-in bot did not settle: {log.read_text()[-2000:]}"
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@NEEDS_THE_WORLD
def test_the_readmes_operator_path_reaches_transition_verified_on_a_fake_world(tmp_path):
    rehearsal, path = readme_blocks()
    host = free_host()
    place = Place(tmp_path, host, free_port(host))
    words_of_path = [word for line in path for word in place.words(line)]
    assert "--bot-environ" in words_of_path, "the README's path gives the checks no dump of the bot's environment"
    dump = Path(words_of_path[words_of_path.index("--bot-environ") + 1])
    evidence = tmp_path / "evidence"
    # The operator's shell: no HARNESS_* of this session; pytest as an operator's (no test extras' plugins, a
    # temporary folder of its own); git with an identity and no one's global settings.
    base = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_") and k != "DISCORD_BOT_TOKEN"}
    (tmp_path / "gitconfig").write_text("[user]\n\tname = Ann\n\temail = ann@localhost\n", encoding="utf-8")
    base.update(GIT_CONFIG_GLOBAL=str(tmp_path / "gitconfig"), GIT_CONFIG_NOSYSTEM="1", PYTHONIOENCODING="utf-8",
                PYTEST_ADDOPTS=shlex.join(["-p", "no:cacheprovider", *NOT_THE_OPERATORS,
                                           f"--basetemp={tmp_path / 'basetemp'}"]))
    shell = dict(base)
    with ExitStack() as stack:
        # The rehearsal's world: the fakes as the README starts them, the exports as it writes them.
        token = webhook = None
        for line in rehearsal:
            words = place.words(line)
            if words[0] == "export":
                for assignment in words[1:]:
                    name, _, value = assignment.partition("=")
                    shell[name] = str(evidence) if name == "HARNESS_EVIDENCE_DIR" else value
                continue
            served = Served(argv_of(words), base)
            stack.callback(served.stop)
            if words[1] == "fake-discord":
                webhook = served.wait_for("DISCORD_WEBHOOK_URL=").partition("=")[2]
                token = served.wait_for("DISCORD_BOT_TOKEN=").partition("=")[2]
            else:
                served.wait_for("fake IB Gateway on")
        assert token and webhook, "the README's rehearsal starts no fake Discord"
        assert {"HARNESS_GATEWAY", "HARNESS_DISCORD_API", "HARNESS_EVIDENCE_DIR"} <= set(shell)
        # The copy of the bot: in dry-run, pointing at the fakes, a git repository tracking .env.example.
        bot = make_bot_dir(tmp_path / "mybot", webhook_url=webhook, gateway_host=place.host, switch=False)
        bot.baseline_file.unlink()  # the operator's path takes its own (`harness snapshot`)

        ran: list[str] = []
        outputs: dict[str, subprocess.CompletedProcess] = {}
        for line in path:
            if line.lstrip().startswith("#"):
                if "restart the bot" in line:  # by hand: the stand-in bot, then the README's Linux dump of it
                    started = stack.enter_context(stand_in_bot(bot.root, base, tmp_path / "bot-stdout.txt"))
                    one_line = readme_linux_dump().replace("$(pgrep -nf src.main)", str(started.pid))
                    one_line = re.sub(r">\s*\S+$", f"> {shlex.quote(str(dump))}", one_line)
                    dumped = subprocess.run(["sh", "-c", one_line], timeout=STEP_TIMEOUT, capture_output=True,
                                            text=True)
                    assert dumped.returncode == 0 and dump.stat().st_size > 0, dumped.stderr
                    ran.append("restart")
                continue
            words = place.words(line)
            if words[0] == "export":
                for assignment in words[1:]:
                    name, _, value = assignment.partition("=")
                    shell[name] = token if name == "DISCORD_BOT_TOKEN" else value
                continue
            if words[:2] == ["git", "-C"]:  # by hand first: the tracked example records the new mode
                example = bot.root / ".env.example"
                text = example.read_text(encoding="utf-8")
                example.write_text(text.replace("DRY_RUN=true", "DRY_RUN=false")
                                   .replace("PAPER_TRADING=false", "PAPER_TRADING=true"), encoding="utf-8")
            if words[:3] == ["harness", "switch", "paper"] and session_at(clock.now()).is_open:
                words.append("--force-market-hours")
            done = run(argv_of(words), shell)
            outputs[line] = done
            ran.append(" ".join(words[:3]))
            assert done.returncode == 0, f"{line}\nexit {done.returncode}\n{(done.stdout + done.stderr)[-4000:]}"
            checks = words[:2] in (["harness", "check"], ["pytest", "features/"])
            if checks:
                assert verdict(done.stdout).startswith("TRANSITION VERIFIED"), f"{line}\n{done.stdout[-4000:]}"
            if checks and "--phase" not in words:
                break  # the transition: what follows is the first hour, the first day and later phases
        else:
            pytest.fail(f"the README's path never runs the transition (`harness check` without --phase): {ran}")

    transition = done.stdout
    assert "restart" in ran and ran.index("restart") < len(ran) - 1, ran
    assert verdict(transition).startswith("TRANSITION VERIFIED"), transition[-4000:]
    for item in ("dod_env_committed", "dod_discord_paper", "dod_orders_paper", "dod_no_live_orders"):
        assert re.search(rf"{item}\b.*\bVERIFIED", transition), f"{item}\n{transition[-4000:]}"
    switch = next(done for line, done in outputs.items() if " switch paper " in line)
    assert ".env.example is tracked by git" in switch.stdout, switch.stdout


def test_fake_discord_is_a_harness_command_listed_in_its_help():
    listed = run([sys.executable, "-m", "harness.cli", "--help"], dict(os.environ))
    assert listed.returncode == 0 and "fake-discord" in listed.stdout, listed.stdout
    own = run([sys.executable, "-m", "harness.cli", "fake-discord", "--help"], dict(os.environ))
    assert own.returncode == 0 and own.stdout.startswith("usage: harness fake-discord"), own.stdout + own.stderr
    assert "--channel" in own.stdout and "--port" in own.stdout
