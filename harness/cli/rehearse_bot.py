"""The operator's bot in a rehearsal (`harness rehearse`): started with its own command in the copy's folder, its
output to a file; awaited until it logged its last startup line and settled; stopped as the seed stops it."""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

STOP_GRACE = 10.0  # seconds the bot has to stop after Ctrl+C (SIGINT / CTRL_BREAK) before it is terminated
QUIET = 1.5  # seconds without a new line in the bot's log or output: it has settled


class BotProcess:
    """The operator's bot, started with its own command in the copy's folder, its output to a file; stopped as the
    seed stops it (Ctrl+C), then terminated, then killed, each bounded."""

    def __init__(self, argv: list[str], cwd: Path, environ: dict[str, str], output: Path) -> None:
        self.argv, self.cwd, self.environ, self.output = argv, cwd, environ, output
        self.process: subprocess.Popen | None = None
        self.began = 0.0
        self.reaper: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        flags = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt" else \
            {"start_new_session": True}
        with self.output.open("wb") as out:
            try:
                self.process = subprocess.Popen(self.argv, cwd=self.cwd, env=self.environ, stdout=out,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **flags)
                # Reaped as soon as it ends (`harness halt` stops it from another process): a process nobody waits
                # for stays a zombie, which the halt would take for a bot still running.
                self.reaper = threading.Thread(target=self.process.wait, name="bot-reaper", daemon=True)
                self.reaper.start()
            except OSError as exc:
                out.write(f"harness rehearse: the bot could not be started: {exc}\n".encode())
                print(f"harness rehearse: the bot could not be started: {exc}", flush=True)
        self.began = time.monotonic()

    def _grown(self, log_spec: str, sizes: dict[str, int]) -> tuple[str, bool]:
        """The new text of the bot's log files and output since the last look, and whether anything grew."""
        grew, text = False, []
        for name in [*glob.glob(log_spec, recursive=True), str(self.output)]:
            if name.endswith(".gz"):
                continue
            try:
                size = os.path.getsize(name)
            except OSError:
                continue
            seen = sizes.get(name, 0)
            if size > seen:
                grew = True
                with contextlib.suppress(OSError), open(name, "rb") as handle:
                    handle.seek(seen)
                    text.append(handle.read(size - seen).decode("utf-8", errors="replace"))
            sizes[name] = size
        return "".join(text), grew

    def wait_ready(self, log_spec: str, marker: str, timeout: float, settle: float) -> str:
        """Until the bot logs `marker` (its last startup line), then until its log is quiet (its first orders done)
        or `settle` passed; earlier when it exits. Says what happened, in one line."""
        if self.process is None:
            return "the bot did not start"
        sizes = {name: os.path.getsize(name) for name in glob.glob(log_spec, recursive=True)
                 if not name.endswith(".gz") and os.path.isfile(name)}
        deadline = time.monotonic() + timeout
        seen, wanted = "", marker.lower()
        while time.monotonic() < deadline:
            text, _grew = self._grown(log_spec, sizes)
            seen = (seen + text.lower())[-200_000:]
            if wanted in seen:
                break
            if self.process.poll() is not None:
                return f"the bot exited (status {self.process.returncode}) without logging {marker!r}"
            time.sleep(0.2)
        else:
            return f"the bot did not log {marker!r} within {timeout:g} s; the checks look at what it did"
        ready_at = time.monotonic()
        quiet_since = ready_at
        while time.monotonic() - ready_at < settle and self.process.poll() is None:
            _text, grew = self._grown(log_spec, sizes)
            now = time.monotonic()
            if grew:
                quiet_since = now
            elif now - quiet_since >= QUIET:
                break
            time.sleep(0.2)
        waited = time.monotonic() - self.began
        state = "running" if self.process.poll() is None else f"exited with status {self.process.returncode}"
        return f"the bot logged {marker!r} and settled ({waited:.1f} s after its start; {state})"

    def stop(self) -> str:
        """Ctrl+C (SIGINT to its process group; CTRL_BREAK on Windows), then terminate, then kill; every process of
        its group. Says how it ended."""
        process = self.process
        if process is None:
            return "never started"
        if process.poll() is not None:
            self._kill_group()
            return f"had exited (status {process.returncode})"
        try:
            if os.name == "nt":
                process.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                os.killpg(process.pid, signal.SIGINT)
        except OSError:
            pass
        try:
            process.wait(timeout=STOP_GRACE)
            how = f"stopped by Ctrl+C (status {process.returncode})"
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=5)
                how = "terminated: it did not stop on Ctrl+C"
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
                how = "killed: it did not stop on Ctrl+C or terminate"
        self._kill_group()
        return how

    def _kill_group(self) -> None:
        """What the bot's command left running (`poetry run`'s child, a worker) goes with it."""
        if self.process is None:
            return
        if os.name == "nt":
            import psutil

            with contextlib.suppress(psutil.Error):
                for child in psutil.Process(self.process.pid).children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            return
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
