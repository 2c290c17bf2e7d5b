"""The bot's `.env`, read exactly as python-dotenv reads it, and edited without touching any other byte.

python-dotenv's own parser (`dotenv.parser.parse_stream`) gives every binding with its original text, so
reading and editing share one parser with the bot: what we report is what the bot sees, and an edit
replaces only the value token of the keys it changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.core import clock
from harness.core.files import OwnerOnly, replace_file
from harness.core.redact import is_secret_setting

MAX_ENV_BYTES = 1_000_000  # a .env is a few KB; anything this large is the wrong file
MAX_ENVIRON_DUMP_BYTES = 4_000_000  # `set` output is tens of KB, UTF-16 doubles it
MODE_KEYS = ("DRY_RUN", "PAPER_TRADING")
BOM = "\ufeff"
_log = logging.getLogger(__name__)


class EnvEditError(Exception):
    """An edit refused or failed; the file is untouched. The message is one line for the operator."""


@dataclass(frozen=True, slots=True, repr=False)
class EnvEntry:
    key: str
    value: str | None
    line: int

    def __repr__(self) -> str:
        from harness.core.redact import mask_value

        return f"EnvEntry({self.key!r}, {mask_value(self.key, self.value)!r}, line={self.line})"


@dataclass(frozen=True, repr=False)
class EnvFileFacts:
    """What python-dotenv (as the bot calls it: utf-8, interpolate, override=False) makes of the file."""

    path: str
    exists: bool = False
    problem: str | None = None
    resolved: str = ""  # absolute, symlinks resolved (set when read from disk): binds a baseline to this file
    could_not_look: bool = False  # True when the harness could not read what the bot may read
    size: int = 0
    sha256: str = ""
    encoding: str = "utf-8"
    bom: bool = False
    line_endings: str = "none"  # LF, CRLF, CR, mixed, none
    values: Mapping[str, str | None] = field(default_factory=dict)  # effective, as dotenv_values returns
    entries: tuple[EnvEntry, ...] = ()  # every binding in file order, duplicates included
    duplicates: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    invalid_lines: tuple[int, ...] = ()

    def line_of(self, key: str) -> int | None:
        """Line of the binding that wins (dotenv: the last one)."""
        lines = [e.line for e in self.entries if e.key == key]
        return lines[-1] if lines else None

    def int_value(self, key: str) -> int | None:
        """The value of `key` as the bot's int() would read it, or None when it is unset or not an integer."""
        text = self.values.get(key)
        try:
            return int(text.strip()) if text is not None else None
        except ValueError:
            return None

    def __repr__(self) -> str:
        # Facts reach tracebacks (`pytest -l`) and reports: never with secret values in them.
        from harness.core.redact import mask_value

        shown = {k: mask_value(k, v) for k, v in self.values.items()}
        return (f"EnvFileFacts(path={self.path!r}, problem={self.problem!r}, values={shown!r}, "
                f"duplicates={dict(self.duplicates)!r}, invalid_lines={self.invalid_lines!r})")

    def secret_map(self) -> dict[str, str]:
        """Every value shown only as a mask (harness.core.redact.is_secret_setting: default-deny)."""
        return {k: v for k, v in self.values.items() if v and is_secret_setting(k, v)}

    def secret_values(self) -> tuple[str, ...]:
        return tuple(self.secret_map().values())


def _line_endings(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [name for name, n in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if n]
    return kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "none")


def _decode(data: bytes, path: Path) -> tuple[str | None, str | None]:
    """Decode as python-dotenv does (utf-8). Returns (text, problem)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, (
            f"{path} is UTF-16 (as PowerShell's `>` writes it); python-dotenv reads UTF-8, so the bot "
            "would not see any key. Save it as UTF-8"
        )
    if b"\x00" in data:
        return None, f"{path} is binary (it contains NUL bytes), not a .env file"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, (
            f"{path} line {line} is not valid UTF-8 (byte 0x{data[exc.start]:02x}); python-dotenv would "
            "fail to load it. Save the file as UTF-8"
        )


class NotReadable(Exception):
    """A file the harness refuses or fails to read; the message is one line for the operator."""

    def __init__(self, message: str, *, exists: bool = True, could_not_look: bool = False) -> None:
        super().__init__(message)
        self.exists = exists
        self.could_not_look = could_not_look


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_regular_file(path: Path | str, max_bytes: int = MAX_ENV_BYTES, what: str = "a .env") -> bytes:
    """The bytes of a regular file of at most `max_bytes`; raises NotReadable (one line) otherwise.

    Never blocks and never reads more than `max_bytes` + 1: a FIFO, a device (a link to /dev/zero), a socket or
    a directory is refused from its stat, before any open; the size is what a bounded read returns, not what
    st_size says (devices and /proc files report 0). A symlink is followed: its target must be a regular file.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode  # follows symlinks: the target is what a reader would get
    except FileNotFoundError:
        raise NotReadable(f"{path} does not exist", exists=False) from None
    except PermissionError:
        raise NotReadable(f"{path} cannot be read by this user (permission denied)", could_not_look=True) from None
    except OSError as exc:
        raise NotReadable(f"{path} cannot be read: {exc.strerror or exc}", could_not_look=True) from None
    if stat.S_ISDIR(mode):
        raise NotReadable(f"{path} is a directory, not {what} file")
    if not stat.S_ISREG(mode):
        raise NotReadable(f"{path} is {_kind(mode)}, not a regular file: {what} file is a plain text file, "
                          "and reading this one could hang or never end. Point the harness at the real file")
    # O_NONBLOCK: if the path was swapped for a FIFO since the stat, open() returns instead of waiting.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise NotReadable(f"{path} cannot be read by this user (permission denied)", could_not_look=True) from None
    except OSError as exc:
        raise NotReadable(f"{path} cannot be read: {exc.strerror or exc}", could_not_look=True) from None
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(opened):
            raise NotReadable(f"{path} is {_kind(opened)}, not a regular file: {what} file is a plain text file")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise NotReadable(f"{path} cannot be read: {exc.strerror or exc}", could_not_look=True) from None
    if len(data) > max_bytes:
        raise NotReadable(f"{path} is larger than {max_bytes / 1e6:g} MB; {what} file is a few KB. Is this the "
                          "right file?")
    return data


def load_env_bytes(path: Path | str) -> tuple[bytes | None, EnvFileFacts | None]:
    """(the file's bytes, None), or (None, facts saying why it cannot be read). Never raises, never blocks."""
    try:
        return read_regular_file(path), None
    except NotReadable as exc:
        return None, EnvFileFacts(str(path), exists=exc.exists, could_not_look=exc.could_not_look, problem=str(exc))


def read_env(path: Path | str) -> EnvFileFacts:
    """Read the file; never raises, never blocks: problems are facts."""
    data, failed = load_env_bytes(path)
    if data is None:
        return failed  # type: ignore[return-value]
    return replace(parse_env_bytes(data, path), resolved=resolved_path(path))


def resolved_path(path: Path | str) -> str:
    """The absolute path with symlinks resolved: what binds a baseline to one bot's .env."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # a symlink loop: keep the absolute path as given
        return os.path.abspath(path)


def same_file_path(first: str, second: str) -> bool:
    """Two resolved paths name the same file (case-insensitively where the OS is, e.g. Windows)."""
    return os.path.normcase(os.path.normpath(first)) == os.path.normcase(os.path.normpath(second))


def parse_env_bytes(data: bytes, path: Path | str = ".env") -> EnvFileFacts:
    path = Path(path)
    sha = hashlib.sha256(data).hexdigest()
    text, problem = _decode(data, path)
    if text is None:
        return EnvFileFacts(str(path), exists=True, size=len(data), sha256=sha, problem=problem)
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    entries: list[EnvEntry] = []
    invalid: list[int] = []
    for binding in parse_stream(io.StringIO(text, newline="")):
        line = binding.original.line
        if binding.error:
            invalid.append(line)
        elif binding.key is not None:
            entries.append(EnvEntry(binding.key, binding.value, line))
    # dotenv_values opens files in text mode (universal newlines); feed it the same view.
    quiet = logging.getLogger("dotenv.main")
    was_disabled, quiet.disabled = quiet.disabled, True  # we report invalid lines ourselves, with numbers
    try:
        values = dotenv_values(stream=io.StringIO(text.replace("\r\n", "\n").replace("\r", "\n")))
    finally:
        quiet.disabled = was_disabled
    seen: dict[str, list[int]] = {}
    for entry in entries:
        seen.setdefault(entry.key, []).append(entry.line)
    return EnvFileFacts(
        path=str(path),
        exists=True,
        size=len(data),
        sha256=sha,
        encoding="utf-8",
        bom=text.startswith(BOM),
        line_endings=_line_endings(text),
        values=dict(values),
        entries=tuple(entries),
        duplicates={k: tuple(v) for k, v in seen.items() if len(v) > 1},
        invalid_lines=tuple(invalid),
    )


# --- strict booleans --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoolSetting:
    key: str
    raw: str | None  # None: not set in the file at all
    line: int | None
    value: bool | None  # None when raw is missing or not strictly true/false
    problem: str | None = None


def strict_bool(raw: str | None) -> bool | None:
    """The bot's boolean rule: exactly `true` or `false` in any case, nothing around it; anything else is None."""
    if raw is None or raw != raw.strip():
        return None
    return {"true": True, "false": False}.get(raw.lower())


def read_bool(facts: EnvFileFacts, key: str) -> BoolSetting:
    """Strict: `true`/`false` in any case; anything else is a problem naming the key and the line."""
    line = facts.line_of(key)
    if key not in facts.values:
        hidden = BOM + key in facts.values
        why = (
            f"{key} is not set as the bot reads it: the file starts with a UTF-8 byte-order mark, so "
            f"python-dotenv reads the first key as '\\ufeff{key}'. Save the file as UTF-8 without BOM"
            if hidden
            else f"{key} is not set in {facts.path}"
        )
        return BoolSetting(key, None, None, None, why)
    raw = facts.values[key]
    where = f"{key} ({facts.path} line {line})"
    if raw is None:
        return BoolSetting(key, None, line, None, f"{where} has no '=' and no value")
    value = strict_bool(raw)
    if value is not None:
        return BoolSetting(key, raw, line, value)
    return BoolSetting(key, raw, line, None, f"{where} is {raw!r}: write exactly true or false")


# --- editing ----------------------------------------------------------------------------------------

# The start of one binding's text: leading space, optional `export`, the key, '=', spaces.
_BINDING_HEAD = re.compile(r"""^\s*(?:export\s+)?(?:'[^']+'|[^=\#\s]+)\s*=(?P<space>[^\S\r\n]*)""")
_QUOTED = {"'": re.compile(r"'((?:\\'|[^'])*)'"), '"': re.compile(r'"((?:\\"|[^"])*)"')}


@dataclass(frozen=True)
class SwitchPlan:
    path: str
    before: str
    after: str
    changes: tuple[tuple[str, str | None, str], ...]  # (key, old value, new value)
    notes: tuple[str, ...] = ()  # what the operator should know about the old values (e.g. not a boolean)

    @property
    def changed(self) -> bool:
        return self.before != self.after


def plan_edit(path: Path | str, data: bytes, updates: Mapping[str, str]) -> SwitchPlan:
    """Replace the values of `updates`' keys; every other byte stays. Raises EnvEditError to refuse."""
    path = Path(path)
    text, problem = _decode(data, path)
    if text is None:
        raise EnvEditError(problem)
    from dotenv.parser import parse_stream

    bindings = list(parse_stream(io.StringIO(text, newline="")))
    if any(b.error for b in bindings):
        bad = ", ".join(str(b.original.line) for b in bindings if b.error)
        raise EnvEditError(f"{path} has lines python-dotenv cannot parse (line {bad}); fix them first")
    for key in updates:
        lines = [b.original.line for b in bindings if b.key == key]
        if len(lines) > 1:
            raise EnvEditError(
                f"{key} is set {len(lines)} times in {path} (lines {', '.join(map(str, lines))}); keep one "
                "so the file says one thing"
            )
    newline = "\r\n" if "\r\n" in text else ("\r" if "\r" in text and "\n" not in text else "\n")
    pieces: list[str] = []
    changes: list[tuple[str, str | None, str]] = []
    done: set[str] = set()
    for binding in bindings:
        original = binding.original.string
        key = binding.key
        if key is not None and key.startswith(BOM) and key[1:] in updates:
            raise EnvEditError(
                f"{path} starts with a UTF-8 byte-order mark, so python-dotenv reads its first key as "
                f"'\\ufeff{key[1:]}' and the bot never sees {key[1:]}; save the file as UTF-8 without BOM first"
            )
        if key in updates:
            new_text, old = _replace_value(original, updates[key], path, binding.original.line)
            if old != updates[key]:
                changes.append((key, old, updates[key]))
            pieces.append(new_text)
            done.add(key)
        else:
            pieces.append(original)
    after = "".join(pieces)
    if text.startswith(BOM) and not after.startswith(BOM):
        after = BOM + after  # python-dotenv's reader drops the BOM from the originals; the file keeps it
    for key, value in updates.items():
        if key not in done:
            if after and not after.endswith(("\n", "\r")):
                after += newline
            after += f"{key}={value}{newline}"
            changes.append((key, None, value))
    return SwitchPlan(str(path), text, after, tuple(changes))


def _replace_value(original: str, new_value: str, path: Path, line: int) -> tuple[str, str | None]:
    """Swap the value token only, keeping quotes, inline comment and line ending; dotenv's own rules."""
    match = _BINDING_HEAD.match(original)
    if match is None:
        raise EnvEditError(f"{path} line {line}: cannot find the value to replace; edit it by hand")
    head, rest = original[: match.end()], original[match.end() :]
    quote = rest[:1]
    if quote in _QUOTED:
        quoted = _QUOTED[quote].match(rest)
        if quoted is None:
            raise EnvEditError(f"{path} line {line}: unterminated quote; edit it by hand")
        return f"{head}{quote}{new_value}{quote}{rest[quoted.end():]}", quoted.group(1)
    if match.group("space") and rest.startswith("#"):
        # dotenv reads `KEY= # note` as an empty value followed by a comment.
        return f"{head}{new_value} {rest}", ""
    line_text = re.match(r"[^\r\n]*", rest).group(0)  # type: ignore[union-attr]
    value = re.sub(r"\s+#.*", "", line_text).rstrip()
    return f"{head}{new_value}{rest[len(value):]}", value


BACKUP_DIR = ".harness-backups"
# The backup folder ignores itself: git skips a folder whose own .gitignore says "*", whatever the repository's
# .gitignore says, so `git add -A` in the bot's repo can never commit a copy of the secrets.
_SELF_IGNORING = "# Backups of .env files written by `harness switch`: they hold secrets; never commit them.\n*\n"


def backup_dir(path: Path) -> Path:
    """Where the backups of the `.env` at `path` go: a private, git-ignored folder beside it."""
    return Path(path).parent / BACKUP_DIR


def private_folder(path: Path, *, owner_only: OwnerOnly | None = None) -> Path:
    """The private, self-ignoring folder beside the `.env` at `path` (backup_dir), made when missing: where the
    harness keeps what belongs to this bot wherever it is run from (backups, the bot's incident lock). When it
    cannot be made owner-only (a Windows ACL that icacls could not set), it is still made and used, and the reason
    is logged as a warning (the `harness` command prints it on stderr); `private_folder_checked` returns it."""
    folder, problem = private_folder_checked(path, owner_only=owner_only)
    if problem:
        _log.warning("warning: %s", problem)
    return folder


def private_folder_checked(path: Path, *, owner_only: OwnerOnly | None = None) -> tuple[Path, str | None]:
    """(the private folder, None), or (the folder, why it is not owner-only). Raises OSError when it cannot be
    made at all."""
    owner_only = owner_only or OwnerOnly()
    folder = backup_dir(path)
    folder.mkdir(mode=0o700, exist_ok=True)
    # Every time, not only when made: a folder an older harness made (or someone loosened) is closed again, and
    # on Windows what is created in it afterwards inherits the owner-only ACL.
    problem = owner_only.folder(folder)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_SELF_IGNORING, encoding="utf-8", newline="\n")
    if problem:
        return folder, (f"{folder} is not private ({problem}): whoever may read {folder.parent} may read what the "
                        "harness keeps there")
    return folder, None


def _write_private_backup(path: Path, original: bytes, owner_only: OwnerOnly) -> tuple[Path, list[str]]:
    """The backup of `original` in the private folder beside `path`, and what is not owner-only about it."""
    folder, folder_problem = private_folder_checked(path, owner_only=owner_only)
    stamp = clock.local_now().strftime("%Y%m%dT%H%M%S")
    backup = folder / f"{path.name}.bak-{stamp}"
    n = 1
    while True:
        try:
            # Created owner-only from the first byte on POSIX (never a moment world-readable), and never over
            # another file; on Windows it inherits the folder's ACL, then gets its own below.
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            break
        except FileExistsError:
            backup = folder / f"{path.name}.bak-{stamp}-{n}"
            n += 1
    with os.fdopen(fd, "wb") as out:
        out.write(original)
        out.flush()
        os.fsync(out.fileno())
    # The data is safe first; then the file is closed to others. A failure leaves the backup where it is (it is
    # the way back) and says so: the operator restricts it by hand or deletes it once the switch is verified.
    problem = owner_only.file(backup) if owner_only.windows else None
    if problem:
        nor = ", nor is its folder" if folder_problem else ""
        return backup, [f"the backup {backup} is not owner-only ({problem}{nor}): it holds the .env's secrets; "
                        "restrict it by hand, or delete it once the switch is verified"]
    return backup, [folder_problem] if folder_problem else []


TEMP_SUFFIX = ".tmp"


def remove_stale_temp_files(path: Path) -> None:
    """Remove what an edit killed part way (kill -9) left of the .env at `path`: `.<name>.XXXX.tmp` files, in its
    private folder and beside it (where an older harness made them)."""
    for folder in (backup_dir(path), Path(path).parent):
        for stale in folder.glob(f".{Path(path).name}.*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                stale.unlink()


@dataclass(frozen=True)
class EnvWrite:
    """What `write_env` did: where the backup is, and what is not as private as it should be (empty: all is)."""

    backup: Path
    problems: tuple[str, ...] = ()


def atomic_write(path: Path, text: str, *, owner_only: OwnerOnly | None = None) -> Path:
    """`write_env`, returning the backup's path; each of its problems is logged as a warning (the `harness`
    command prints it on stderr). Raises EnvEditError with the file untouched on any failure."""
    written = write_env(path, text, owner_only=owner_only)
    for problem in written.problems:
        _log.warning("warning: %s", problem)
    return written.backup


def write_env(path: Path, text: str, *, owner_only: OwnerOnly | None = None) -> EnvWrite:
    """Back the file up (owner-only, in a git-ignored folder beside it), then replace it atomically (temp file
    in that folder + rename, tried again while another program holds the file: harness.core.files).

    The new file keeps the old one's mode (POSIX) or takes the permissions its folder gives a new file (Windows:
    the temp file's owner-only ACL is reset, as a file written there would have; an ACL set on the .env itself
    is not carried over). A backup that could not be made owner-only is kept (it is the way back) and named in
    `problems`, as is a .env whose permissions could not be reset. Raises EnvEditError with the file untouched
    on any failure.
    """
    path = Path(path)
    owner_only = owner_only or OwnerOnly()
    # A link (a configuration kept elsewhere) stays a link: the file it points to is the one replaced.
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    backup = backup_dir(path)
    problems: list[str] = []
    try:
        original = path.read_bytes()
        mode = target.stat().st_mode
        backup, problems = _write_private_backup(path, original, owner_only)
        # The temp file holds the whole new .env: never where git would see it (beside the file a link points to).
        scratch = backup.parent
        if target != path:
            scratch, problem = private_folder_checked(target, owner_only=owner_only)
            problems += [problem] if problem else []
        remove_stale_temp_files(target)
    except OSError as exc:
        raise EnvEditError(f"cannot write the backup in {backup}: {exc.strerror}; {path} is untouched") from None
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=scratch)
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(text.encode("utf-8"))
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode & 0o7777)
        replace_file(tmp_name, target)
    except OSError as exc:
        if tmp_name and os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise EnvEditError(f"cannot replace {path}: {exc.strerror}; it is untouched (backup: {backup})") from None
    problem = owner_only.inherit(target)
    if problem:
        problems.append(f"{target} may have kept the private folder's owner-only permissions (icacls /reset: "
                        f"{problem}): if the bot runs as another user, run `icacls \"{target}\" /reset`")
    return EnvWrite(backup, tuple(problems))


# --- what the process environment does to the file ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shadow:
    """A process environment variable that wins over the .env (python-dotenv's override=False)."""

    key: str
    env_value: str
    file_value: str | None
    source: str  # "this shell" or the dump file


def shadowed_keys(
    facts: EnvFileFacts, environ: Mapping[str, str], source: str, keys: tuple[str, ...] = MODE_KEYS
) -> tuple[Shadow, ...]:
    """Mode keys whose process value differs from the file's, and a disabled dotenv altogether."""
    found: list[Shadow] = []
    for key in keys:
        if key in environ and environ[key] != facts.values.get(key):
            found.append(Shadow(key, environ[key], facts.values.get(key), source))
    disabled = environ.get("PYTHON_DOTENV_DISABLED", "").casefold()
    if disabled in {"1", "true", "t", "yes", "y"}:
        found.append(Shadow("PYTHON_DOTENV_DISABLED", environ["PYTHON_DOTENV_DISABLED"], None, source))
    return tuple(found)


_PS_HEADER = re.compile(r"^\s*Name\s+Value\s*$")
_PS_RULE = re.compile(r"^\s*-{2,}\s+-{2,}\s*$")


def read_environ_dump(path: Path) -> tuple[dict[str, str] | None, str | None]:
    """Parse `env`/`set` (KEY=value lines) or PowerShell `Get-ChildItem Env:` (a Name/Value table).

    Returns (variables, problem). Decodes UTF-16 (PowerShell redirection) and cp1252 as needed.
    """
    try:
        data = read_regular_file(path, MAX_ENVIRON_DUMP_BYTES, "an environment dump")
    except NotReadable as exc:
        return None, str(exc)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    table = any(_PS_HEADER.match(line) for line in lines[:5])
    result: dict[str, str] = {}
    for line in lines:
        if not line.strip() or _PS_HEADER.match(line) or _PS_RULE.match(line):
            continue
        if table:
            name, _, value = line.strip().partition(" ")
            result[name] = value.strip()
        elif "=" in line:
            name, _, value = line.partition("=")
            result[name.strip()] = value
    if not result:
        return None, f"{path} holds no environment variables (expected `env`, `set` or `Get-ChildItem Env:`)"
    return result, None
