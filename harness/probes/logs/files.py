"""Which files `--bot-log` names, oldest first, and how each one is opened.

Discovery takes a path with its rotated siblings (`bot.log.1`, `bot.log.2.gz`, `bot.log.2026-02-10`,
`bot-2026-02-10.log.gz`), a glob, or a directory, and orders them oldest first from the names (date, index)
and mtimes. Opening a file looks once at its first bytes: gzip or not, the encoding and the newline. The
result is a `_Source` (how to turn the file into its scan stream), or a `FileProblem`, never an exception.

Every file is opened through `_open_binary`; tests replace it (on `harness.probes.logs`, which forwards the write
here) to simulate unreadable files, so the other modules call it as `files._open_binary`.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from glob import glob, has_magic
from pathlib import Path
from typing import BinaryIO

from harness.probes.logs import tunables
from harness.probes.logs.encoding import HEAD_BYTES, EncodingGuess, guess_encoding, guess_newline
from harness.probes.logs.facts import FileProblem, LogFacts, LogFileFacts

_DATE_IN_NAME = re.compile(
    r"(?<!\d)(?P<y>\d{4})-?(?P<m>\d{2})-?(?P<d>\d{2})(?:[T_-]?(?P<H>\d{2})[-:]?(?P<M>\d{2})(?:[-:]?(?P<S>\d{2}))?)?(?!\d)"
)
_INDEX_SUFFIX = re.compile(r"\.(?P<index>\d{1,6})(?:\.gz)?$")


def _rotation_key(path: Path) -> tuple[int, datetime, int, float, str]:
    """Sort key, oldest first: rotated before current, by date in the name, higher index older, mtime."""
    name = path.name
    stamp = datetime.min
    found_date = False
    for found in _DATE_IN_NAME.finditer(name):
        try:
            stamp = datetime(
                int(found["y"]), int(found["m"]), int(found["d"]),
                int(found["H"] or 0), int(found["M"] or 0), int(found["S"] or 0),
            )
        except ValueError:
            continue
        found_date = True
    index_match = _INDEX_SUFFIX.search(name)
    index = int(index_match["index"]) if index_match else 0
    is_current = not found_date and index_match is None and not name.endswith(".gz")
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (1 if is_current else 0, stamp, -index, mtime, name)


def _rotations_of(path: Path) -> list[Path]:
    """Siblings of `path` that logging rotation would create from it."""
    directory = path.parent if str(path.parent) else Path(".")
    stem, suffix = os.path.splitext(path.name)
    date = r"\d{4}-?\d{2}-?\d{2}(?:[T_-]?\d{2}[-:]?\d{2}(?:[-:]?\d{2})?)?"
    rotated = re.compile(
        # bot.log.1, bot.log.2.gz, bot.log.gz, bot.log.2026-02-10, bot.log.2026-02-10_06-00.gz
        rf"^{re.escape(path.name)}(?:\.\d{{1,6}}|[._-]{date})?(?:\.gz)?$"
        # bot-2026-02-10.log, bot_20260210.log.gz, bot.2026-02-10.1.log
        rf"|^{re.escape(stem)}[._-]{date}(?:\.\d{{1,6}})?{re.escape(suffix)}(?:\.gz)?$"
    )
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return [directory / name for name in names if name != path.name and rotated.match(name)]


def find_log_files(spec: str | Path, base_dir: Path | None = None) -> list[Path]:
    """The log files named by `spec`, oldest first; [] when nothing matches (never raises).

    A plain path brings its rotated siblings along (`bot.log.1`, `bot.log.2.gz`, `bot.log.2026-02-10`,
    `bot-2026-02-10.log.gz`). A glob is taken as written. A directory means its `*.log*` files.
    """
    text = os.fspath(spec)
    if not text.strip():
        return []
    candidate = Path(text).expanduser()
    if not candidate.is_absolute() and base_dir is not None:
        candidate = Path(base_dir) / candidate
    found: set[Path]
    if has_magic(text):
        found = {Path(name) for name in glob(str(candidate), recursive=True)}
    elif candidate.is_dir():
        found = {Path(name) for name in glob(str(candidate / "*.log*"))}
    else:
        found = set(_rotations_of(candidate))
        if candidate.exists() or candidate.is_symlink():
            found.add(candidate)
    files = [path for path in found if not path.is_dir()]
    return sorted(files, key=_rotation_key)


def _open_binary(path: Path) -> BinaryIO:
    """Every file is opened here (tests replace it to simulate unreadable files)."""
    return open(path, "rb")


@dataclass(frozen=True, slots=True)
class _Source:
    """A readable log file and how to turn it into its scan stream.

    The scan stream is what patterns are searched in: the file's bytes for plain ASCII-compatible files
    (offsets are file offsets), the decompressed bytes for gzip, the UTF-8 transcoding for UTF-16.
    """

    path: Path
    display: str
    compressed: bool
    encoding: EncodingGuess
    newline: bytes  # b"\n" (LF and CRLF) or b"\r"
    newline_name: str
    size: int
    mtime: float

    @property
    def seekable(self) -> bool:
        return not self.compressed and not self.encoding.wide

    @property
    def data_start(self) -> int:
        return 0 if self.encoding.wide else self.encoding.bom_length


def _newline_name(text_head: bytes) -> str:
    if b"\r\n" in text_head:
        return "CRLF"
    if b"\n" in text_head:
        return "LF"
    return "CR" if b"\r" in text_head else "none"


def _open_source(path: Path) -> _Source | FileProblem:
    display = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return FileProblem(display, "missing", "file does not exist")
    except OSError as error:
        return FileProblem(display, "unreadable", f"cannot stat: {error}")
    if not stat.S_ISREG(info.st_mode):
        return FileProblem(display, "not_a_file", "not a regular file")
    compressed = False
    try:
        with _open_binary(path) as handle:
            compressed = handle.read(2) == b"\x1f\x8b"
            handle.seek(0)
            if compressed:
                head = b""
                unzipped = _gunzip(handle)
                with contextlib.closing(unzipped):
                    for piece in unzipped:
                        head += piece
                        if len(head) >= HEAD_BYTES:
                            break
                head = head[:HEAD_BYTES]
            else:
                head = handle.read(HEAD_BYTES)
    except PermissionError as error:
        return FileProblem(display, "unreadable", f"permission denied: {error}")
    except (OSError, EOFError, zlib.error) as error:
        kind = "corrupt" if compressed else "unreadable"
        return FileProblem(display, kind, f"{type(error).__name__}: {error}")
    guess = guess_encoding(head)
    if guess.binary:
        return FileProblem(display, "binary", "NUL or control bytes: not a text log")
    if guess.wide:
        text_head = head[guess.bom_length :].decode(guess.codec, "replace").encode("utf-8")
    else:
        text_head = head[guess.bom_length :]
    return _Source(
        path=path, display=display, compressed=compressed, encoding=guess,
        newline=guess_newline(text_head), newline_name=_newline_name(text_head),
        size=info.st_size, mtime=info.st_mtime,
    )


def _open_all(files: Iterable[str | Path]) -> tuple[list[_Source], list[FileProblem]]:
    sources: list[_Source] = []
    problems: list[FileProblem] = []
    for item in files:
        opened = _open_source(Path(item))
        if isinstance(opened, FileProblem):
            problems.append(opened)
        else:
            sources.append(opened)
    return sources, problems


def inspect_logs(spec: str | Path, base_dir: Path | None = None) -> LogFacts:
    """Facts about the files behind `--bot-log`: which exist, their encoding, and which cannot be read."""
    paths = find_log_files(spec, base_dir)
    if not paths:
        return LogFacts(str(spec), (), (), f"no log file matches {os.fspath(spec)!r}")
    sources, problems = _open_all(paths)
    files = tuple(
        LogFileFacts(
            path=src.display, size=src.size,
            modified=datetime.fromtimestamp(src.mtime, timezone.utc), compressed=src.compressed,
            encoding=src.encoding.codec, encoding_evidence=src.encoding.how, newline=src.newline_name,
        )
        for src in sources
    )
    problem = None if files else f"none of the {len(paths)} log files matching {os.fspath(spec)!r} is readable"
    return LogFacts(str(spec), files, tuple(problems), problem)


def _gunzip(handle: BinaryIO) -> Iterator[bytes]:
    """Decompress gzip (all members) in bounded pieces; a truncated file yields what it has, then EOFError.

    zlib directly rather than GzipFile: GzipFile.read loses the data of a read that hits a truncated end,
    and a rotated file being compressed right now is truncated.
    """
    inflater: zlib._Decompress | None = None
    while compressed := handle.read(tunables.CHUNK_BYTES // 4):
        while compressed:
            if inflater is None:
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            piece = inflater.decompress(compressed, tunables.CHUNK_BYTES)
            if piece:
                yield piece
            if inflater.eof:  # end of one member; another may follow in unused_data
                compressed = inflater.unused_data
                inflater = None
            else:
                compressed = inflater.unconsumed_tail
    if inflater is not None:
        raise EOFError("compressed file ended before the end-of-stream marker")
