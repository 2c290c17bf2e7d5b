"""harness.core.files: the atomic replace that waits out another program's open handle, and owner-only files
(chmod on POSIX, icacls on Windows, the Windows branch run here with a fake runner)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from harness.core.files import RETRY_DELAYS, FileBusyError, OwnerOnly, replace_file
from harness.core.jsonfiles import write_bytes_atomic

USER_SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"
ICACLS, WHOAMI = r"C:\Windows\System32\icacls.exe", r"C:\Windows\System32\whoami.exe"


REAL_REPLACE = os.replace


class Replacer:
    """os.replace that refuses `failures` times (a sharing violation, as Windows says it), then renames."""

    def __init__(self, failures: int, error: OSError | None = None) -> None:
        self.failures, self.calls = failures, 0
        self.error = error or PermissionError(13, "The process cannot access the file because it is being used by "
                                                  "another process")

    def __call__(self, source: str, target: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        REAL_REPLACE(source, target)


def test_a_replace_refused_a_few_times_goes_through_without_real_sleeps(tmp_path):
    source, target = tmp_path / "new", tmp_path / "file.json"
    source.write_text("new")
    target.write_text("old")
    replace, slept = Replacer(3), []
    replace_file(source, target, replace=replace, sleep=slept.append)
    assert target.read_text() == "new" and not source.exists()
    assert replace.calls == 4
    assert slept == list(RETRY_DELAYS[:3])


def test_a_replace_always_refused_gives_up_within_about_two_seconds_and_names_the_file(tmp_path):
    source, target = tmp_path / "new", tmp_path / "verdict.json"
    source.write_text("new")
    target.write_text("old")
    replace, slept = Replacer(10**6), []
    with pytest.raises(FileBusyError) as raised:
        replace_file(source, target, replace=replace, sleep=slept.append)
    assert replace.calls == len(RETRY_DELAYS) + 1
    assert slept == list(RETRY_DELAYS) and sum(slept) <= 2.0
    message = str(raised.value)
    assert str(target) in message and "another program" in message and "\n" not in message
    assert isinstance(raised.value, PermissionError) and raised.value.strerror == message
    assert target.read_text() == "old"


def test_windows_sharing_and_lock_violations_are_waited_out_too(tmp_path):
    source, target = tmp_path / "new", tmp_path / "file"
    source.write_text("new")
    for winerror in (5, 32, 33):
        source.write_text("new")
        error = OSError(22, "refused")
        error.winerror = winerror
        replace = Replacer(2, error)
        replace_file(source, target, replace=replace, sleep=lambda _s: None)
        assert replace.calls == 3


def test_a_fault_no_other_program_explains_is_raised_at_once(tmp_path):
    replace, slept = Replacer(1, FileNotFoundError(2, "No such file or directory")), []
    with pytest.raises(FileNotFoundError):
        replace_file(tmp_path / "gone", tmp_path / "file", replace=replace, sleep=slept.append)
    assert replace.calls == 1 and slept == []


def test_the_evidence_files_are_replaced_through_it(tmp_path, monkeypatch):
    from harness.core import files

    replace = Replacer(2)
    monkeypatch.setattr(files.os, "replace", replace)
    monkeypatch.setattr(files.time, "sleep", lambda _s: None)
    write_bytes_atomic(tmp_path / "verdict.json", b"{}\n")
    assert (tmp_path / "verdict.json").read_bytes() == b"{}\n" and replace.calls == 3
    assert [p.name for p in tmp_path.iterdir()] == ["verdict.json"]


# --- owner-only -------------------------------------------------------------------------------------------------


class FakeWindows:
    """subprocess.run as whoami and icacls would answer: records every argv; `icacls_status` is icacls' exit
    status, `raises` what running a tool raises instead."""

    def __init__(self, icacls_status: int = 0, raises: BaseException | None = None) -> None:
        self.calls: list[list[str]] = []
        self.icacls_status, self.raises = icacls_status, raises

    def __call__(self, argv, **kwargs):
        assert kwargs["timeout"] <= 30 and kwargs["capture_output"] and "shell" not in kwargs
        self.calls.append(list(argv))
        if self.raises is not None:
            raise self.raises
        if argv[0] == WHOAMI:
            return subprocess.CompletedProcess(argv, 0, f'"desk\\Jos\xe9 Q","{USER_SID}"\r\n'.encode("cp850"), b"")
        return subprocess.CompletedProcess(argv, self.icacls_status, b"",
                                           b"C:\\bots\\mybot\\.harness-backups: Access is denied.\r\n"
                                           if self.icacls_status else b"")


def windows(run) -> OwnerOnly:
    return OwnerOnly(platform="nt", run=run, system_root="C:\\Windows")


def test_windows_folder_gets_an_owner_only_inherited_acl_by_sid(tmp_path):
    run = FakeWindows()
    assert windows(run).folder(tmp_path / ".harness-backups") is None
    assert run.calls == [
        [WHOAMI, "/user", "/fo", "csv", "/nh"],
        [ICACLS, str(tmp_path / ".harness-backups"), "/inheritance:r", "/grant:r", f"*{USER_SID}:(OI)(CI)F",
         "*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F", "/q"],
    ]


def test_windows_file_gets_its_own_acl_and_the_sid_is_asked_once(tmp_path):
    run = FakeWindows()
    owner_only = windows(run)
    assert owner_only.file(tmp_path / "a") is None and owner_only.file(tmp_path / "b") is None
    assert [argv[0] for argv in run.calls] == [WHOAMI, ICACLS, ICACLS]
    assert run.calls[-1] == [ICACLS, str(tmp_path / "b"), "/inheritance:r", "/grant:r", f"*{USER_SID}:F",
                             "*S-1-5-18:F", "*S-1-5-32-544:F", "/q"]


def test_windows_reset_gives_a_file_its_folders_permissions(tmp_path):
    run = FakeWindows()
    assert windows(run).inherit(tmp_path / ".env") is None
    assert run.calls == [[ICACLS, str(tmp_path / ".env"), "/reset", "/q"]]


@pytest.mark.parametrize(("run", "said"), [
    (FakeWindows(icacls_status=5), "icacls failed with exit status 5: C:\\bots"),
    (FakeWindows(raises=subprocess.TimeoutExpired("whoami", 10)), "whoami did not answer within 10 s"),
    (FakeWindows(raises=FileNotFoundError(2, "The system cannot find the file specified")), "cannot run whoami"),
])
def test_windows_failures_are_sentences_never_exceptions(tmp_path, run, said):
    problem = windows(run).folder(tmp_path)
    assert problem is not None and said in problem and "\n" not in problem


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_posix_folder_and_file_are_chmodded(tmp_path):
    folder, file = tmp_path / "private", tmp_path / "private" / "backup"
    folder.mkdir(mode=0o755)
    file.write_text("secret")
    file.chmod(0o644)
    owner_only = OwnerOnly(platform="posix", run=None)  # type: ignore[arg-type]  # POSIX runs nothing
    assert owner_only.folder(folder) is None and owner_only.file(file) is None
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and stat.S_IMODE(file.stat().st_mode) == 0o600
    assert owner_only.inherit(file) is None
    assert "cannot make" in OwnerOnly(platform="posix").folder(tmp_path / "missing")
