"""The `.env` backup and the private folder beside it are owner-only on Windows too (an icacls ACL, exercised here
with a fake runner), and when they cannot be made so the data is kept and the operator is told: never a silent
"owner-only"."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import uuid

from harness.core.files import OwnerOnly
from harness.probes.envfile import atomic_write, private_folder, write_env

USER_SID = "S-1-5-21-1-2-3-1001"
ICACLS, WHOAMI = r"C:\Windows\System32\icacls.exe", r"C:\Windows\System32\whoami.exe"
BEFORE = b"DRY_RUN=true\r\nPAPER_TRADING=false\r\nDISCORD_BOT_TOKEN=sekrit\r\n"


class FakeWindows:
    def __init__(self, icacls_status: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.icacls_status = icacls_status

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        if argv[0] == WHOAMI:
            return subprocess.CompletedProcess(argv, 0, f'"desk\\ann","{USER_SID}"\r\n'.encode(), b"")
        return subprocess.CompletedProcess(argv, self.icacls_status, b"", b"Access is denied.\r\n"
                                           if self.icacls_status else b"")


def windows(run: FakeWindows) -> OwnerOnly:
    return OwnerOnly(platform="nt", run=run, system_root="C:\\Windows")


def test_on_windows_the_folder_the_backup_and_the_new_env_get_their_acls(tmp_path, caplog):
    env = tmp_path / ".env"
    env.write_bytes(BEFORE)
    run = FakeWindows()
    with caplog.at_level(logging.WARNING):
        written = write_env(env, "DRY_RUN=false\r\nPAPER_TRADING=true\r\nDISCORD_BOT_TOKEN=sekrit\r\n",
                            owner_only=windows(run))
    folder = tmp_path / ".harness-backups"
    assert written.problems == () and not caplog.records
    assert written.backup.parent == folder and written.backup.read_bytes() == BEFORE
    assert run.calls == [
        [WHOAMI, "/user", "/fo", "csv", "/nh"],
        [ICACLS, str(folder), "/inheritance:r", "/grant:r", f"*{USER_SID}:(OI)(CI)F", "*S-1-5-18:(OI)(CI)F",
         "*S-1-5-32-544:(OI)(CI)F", "/q"],
        [ICACLS, str(written.backup), "/inheritance:r", "/grant:r", f"*{USER_SID}:F", "*S-1-5-18:F",
         "*S-1-5-32-544:F", "/q"],
        # the new .env was written in the private folder: it takes its own folder's permissions again
        [ICACLS, str(env), "/reset", "/q"],
    ]


def test_on_windows_a_failed_acl_keeps_the_backup_and_says_it_is_not_owner_only(tmp_path, caplog):
    env = tmp_path / ".env"
    env.write_bytes(BEFORE)
    run = FakeWindows(icacls_status=5)
    with caplog.at_level(logging.WARNING):
        backup = atomic_write(env, "DRY_RUN=false\nPAPER_TRADING=true\n", owner_only=windows(run))
    assert env.read_bytes() == b"DRY_RUN=false\nPAPER_TRADING=true\n"
    assert backup.read_bytes() == BEFORE  # the way back is kept
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 2, warnings
    assert f"the backup {backup} is not owner-only (icacls failed with exit status 5: Access is denied., nor is " \
           "its folder)" in warnings[0]
    assert "may have kept the private folder's owner-only permissions" in warnings[1] and "/reset" in warnings[1]
    assert all(w.startswith("warning: ") and "\n" not in w and "sekrit" not in w for w in warnings)


def test_the_bots_incident_folder_says_when_it_is_not_private(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        folder = private_folder(tmp_path / ".env", owner_only=windows(FakeWindows(icacls_status=1)))
    assert folder.is_dir() and (folder / ".gitignore").is_file()
    assert [r.getMessage() for r in caplog.records] == [caplog.records[0].getMessage()]
    assert caplog.records[0].getMessage().startswith(f"warning: {folder} is not private")


def test_harness_switch_prints_the_warning_on_stderr(tmp_path):
    """The command prints what the switch learned (through logging's last resort: one line on stderr), and still
    switches and names the backup."""
    bot = tmp_path / "bot"
    bot.mkdir()
    (bot / ".env").write_bytes(BEFORE)
    script = textwrap.dedent(f"""
        import subprocess, sys
        from datetime import datetime
        from harness import cli
        from harness.cli import switch
        from harness.core.files import OwnerOnly
        from harness.probes import envfile, market

        def run(argv, **kwargs):
            if argv[0].endswith("whoami.exe"):
                return subprocess.CompletedProcess(argv, 0, b'"desk\\\\ann","{USER_SID}"', b"")
            return subprocess.CompletedProcess(argv, 5, b"", b"Access is denied.")

        envfile.OwnerOnly = lambda: OwnerOnly(platform="nt", run=run, system_root="C:\\\\Windows")
        switch._now = lambda: datetime(2026, 2, 10, 16, 45, tzinfo=market.NEW_YORK)
        sys.exit(cli.main(["switch", "paper", "--bot-dir", sys.argv[1], "--evidence-dir", sys.argv[2],
                           "--bot-process", "no-such-bot-{uuid.uuid4().hex}"]))
    """)
    result = subprocess.run([sys.executable, "-c", script, str(bot), str(tmp_path / "evidence")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "backup -> " in result.stdout and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("warning: the backup ") and "is not owner-only" in line for line in lines), lines
    assert (bot / ".env").read_bytes().startswith(b"DRY_RUN=false")
