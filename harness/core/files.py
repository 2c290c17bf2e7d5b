"""Files that must survive Windows: a rename that another program briefly blocks, and files only their owner may
read.

`replace_file` is the one atomic replace of the harness (`os.replace` tried again while an antivirus, the search
indexer, a sync client or an editor holds the file open). `OwnerOnly` makes a folder or a file readable by this
user only: `chmod 0700/0600` on POSIX; on Windows, where the mode bits mean nothing and a folder's ACL is
inherited (under `C:\\bots\\...` the Users group can often read), an explicit ACL set with `icacls`.

Why `icacls` and not ctypes: it ships with every Windows since Vista, takes numeric SIDs (`*S-1-5-...`), so a
user name with spaces or accents and a localized group name ("Administratoren") never matter, and it is run as
a bounded subprocess whose argv a test on Linux can check with a fake runner. The current user's SID comes from
`whoami /user`, also in System32. Both are called by their full path under %SystemRoot%\\System32, never found
through PATH or the current folder (the bot's folder). The ACL: this user, SYSTEM and the Administrators group,
full control, inheritance removed; the same people a user's own profile folder admits (an administrator can
take any file anyway; SYSTEM runs backups and the antivirus). POSIX's 0600 admits root likewise.
"""

from __future__ import annotations

import errno
import ntpath
import os
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# The waits between attempts at a replace another program blocks: about 2 s in all, then the operator is told.
RETRY_DELAYS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.25, 0.4, 0.5, 0.5)
# Windows' own codes behind a refused rename: access denied (a file being scanned or opened without sharing
# delete), sharing violation, lock violation. Python maps them to PermissionError; the code is checked as well.
SHARING_WINERRORS = {5, 32, 33}


class FileBusyError(PermissionError):
    """A replace another program kept refusing: names the file and says what to do."""

    def __init__(self, target: Path | str, attempts: int, waited: float, cause: OSError) -> None:
        self.target, self.attempts, self.waited = Path(target), attempts, waited
        reason = cause.strerror or str(cause)
        message = (f"{self.target} is held by another program (an antivirus, the search indexer, a sync client or an "
                   f"editor with it open?): it could not be replaced in {attempts} attempts over {waited:.1f} s "
                   f"({reason}); close that program and try again")
        super().__init__(cause.errno or errno.EACCES, message)
        self.filename = str(self.target)

    def __str__(self) -> str:
        return self.strerror


def _blocked(exc: OSError) -> bool:
    """A refusal that another program's open handle explains, and that may pass in a moment."""
    return isinstance(exc, PermissionError) or getattr(exc, "winerror", None) in SHARING_WINERRORS


def replace_file(source: Path | str, target: Path | str, *, replace: Callable[[str, str], None] | None = None,
                 sleep: Callable[[float], None] | None = None, delays: Sequence[float] = RETRY_DELAYS) -> None:
    """`os.replace(source, target)`, tried again after each of `delays` while it is refused (PermissionError, or
    Windows' access denied, sharing and lock violations): Windows refuses to replace a file another program holds
    open, which an antivirus or the indexer does for a moment right after a write. Raises FileBusyError when it
    is still refused after the last wait, and any other OSError at once (a missing file waits for nobody).
    `replace` and `sleep` (default os.replace, time.sleep) are a test's to replace."""
    replace, sleep = replace or os.replace, sleep or time.sleep
    waited = 0.0
    for attempt, delay in enumerate((*delays, None), 1):
        try:
            replace(os.fspath(source), os.fspath(target))
            return
        except OSError as exc:
            if not _blocked(exc):
                raise
            if delay is None:
                raise FileBusyError(target, attempt, waited, exc) from exc
        sleep(delay)
        waited += delay


# --- owner-only files ------------------------------------------------------------------------------------------

SYSTEM_SID, ADMINISTRATORS_SID = "S-1-5-18", "S-1-5-32-544"
WINDOWS_TOOL_TIMEOUT = 10.0  # icacls and whoami answer in milliseconds; a hung one must not hang the switch
_SID = re.compile(r"S-1-\d+(?:-\d+)+")

Runner = Callable[..., subprocess.CompletedProcess]


@dataclass
class OwnerOnly:
    """Makes folders and files readable by their owner only, on this platform (`platform`: os.name, "nt" or
    "posix"; a test passes "nt" and a fake `run` to exercise Windows anywhere). Each method returns None when
    the path is owner-only, else why not (a sentence): the caller keeps the data and tells the operator."""

    platform: str = os.name
    run: Runner = subprocess.run
    system_root: str | None = None  # %SystemRoot%; None: read from the environment when first needed
    timeout: float = WINDOWS_TOOL_TIMEOUT
    _sid: str | None = field(default=None, init=False, repr=False)

    @property
    def windows(self) -> bool:
        return self.platform == "nt"

    def folder(self, path: Path) -> str | None:
        """The folder, and what is later created in it (inherited), for its owner only."""
        if not self.windows:
            return self._chmod(path, 0o700)
        return self._icacls(path, "(OI)(CI)F")

    def file(self, path: Path) -> str | None:
        """The file for its owner only."""
        if not self.windows:
            return self._chmod(path, 0o600)
        return self._icacls(path, "F")

    def inherit(self, path: Path) -> str | None:
        """Windows: `path`'s permissions reset to those its folder gives a new file (a file moved in from a private
        folder keeps that folder's owner-only ACL otherwise); POSIX: nothing to do (the caller sets the mode)."""
        if not self.windows:
            return None
        return self._tool(["icacls", str(path), "/reset", "/q"])

    def tool(self, name: str) -> str:
        """System32's own copy of a Windows tool, never one found through PATH or the current folder."""
        root = self.system_root or os.environ.get("SYSTEMROOT") or os.environ.get("WINDIR") or r"C:\Windows"
        return ntpath.join(root, "System32", f"{name}.exe")

    def user_sid(self) -> tuple[str | None, str | None]:
        """(this user's SID, None) from `whoami /user`, or (None, why not)."""
        if self._sid is not None:
            return self._sid, None
        try:
            done = self.run([self.tool("whoami"), "/user", "/fo", "csv", "/nh"], capture_output=True,
                            timeout=self.timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return None, f"whoami did not answer within {self.timeout:g} s"
        except OSError as exc:
            return None, f"cannot run whoami: {exc.strerror or exc}"
        output = done.stdout.decode("ascii", "replace") if isinstance(done.stdout, bytes) else str(done.stdout or "")
        found = _SID.findall(output)
        if done.returncode != 0 or not found:
            return None, f"whoami /user did not give this user's SID (exit status {done.returncode})"
        self._sid = found[-1]
        return self._sid, None

    def _icacls(self, path: Path, rights: str) -> str | None:
        sid, problem = self.user_sid()
        if sid is None:
            return problem
        grants = [f"*{who}:{rights}" for who in (sid, SYSTEM_SID, ADMINISTRATORS_SID)]
        return self._tool(["icacls", str(path), "/inheritance:r", "/grant:r", *grants, "/q"])

    def _tool(self, argv: list[str]) -> str | None:
        """Run a System32 tool, bounded; None when it succeeded, else what went wrong (one line, no path)."""
        name, argv = argv[0], [self.tool(argv[0]), *argv[1:]]
        try:
            done = self.run(argv, capture_output=True, timeout=self.timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            return f"{name} did not answer within {self.timeout:g} s"
        except OSError as exc:
            return f"cannot run {name}: {exc.strerror or exc}"
        if done.returncode != 0:
            said = done.stderr or done.stdout or b""
            said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
            detail = " ".join(said.split())[:200]
            return f"{name} failed with exit status {done.returncode}{': ' + detail if detail else ''}"
        return None

    @staticmethod
    def _chmod(path: Path, mode: int) -> str | None:
        try:
            os.chmod(path, mode)
        except OSError as exc:
            return f"cannot make {path} owner-only (chmod {mode:o}: {exc.strerror or exc})"
        return None
