"""The bytes of the bot's log files: which files `--bot-log` names, how each is opened and decoded, its scan stream
read forwards or backwards, and the numbers of its lines.

Discovery takes a path with its rotated siblings (`bot.log.1`, `bot.log.2.gz`, `bot.log.2026-02-10`,
`bot-2026-02-10.log.gz`), a glob, or a directory, and orders them oldest first from the names (date, index) and
mtimes. Opening a file looks once at its first bytes: gzip or not, the encoding and the newline. The result is a
`Source` (how to turn the file into its scan stream), or a `FileProblem`, never an exception.

Encodings: Python's logging `FileHandler` writes UTF-8, or the Windows ANSI code page cp1252 when no encoding was
given; PowerShell `>` redirection writes UTF-16 LE with a BOM (Windows PowerShell 5); editors add a UTF-8 BOM. The
guess is made once per file from its first bytes; a line of a UTF-8 file that does not decode falls back to cp1252,
whose undefined bytes become U+FFFD (the line says so).

The scan stream is what patterns are searched in: the file's bytes for plain ASCII-compatible files (offsets are
file offsets), the decompressed bytes for gzip, the UTF-8 transcoding for UTF-16 (chunk by chunk). Memory stays
constant: plain files are read into one reused multi-megabyte buffer of whole lines, and a line longer than
`MAX_LINE_BYTES` is handed over in pieces of that size. Read errors end a stream and are recorded as `FileProblem`s.

Line numbers: exact from the start, or, when more than `EXACT_LINENO_LIMIT` bytes precede a line (counting them
would cost a full pass), counted from the end and negative (-1 is the last line of the file as it was read).

Every file is opened through `open_binary`, which tests replace here to simulate unreadable files; the other
modules call it as `files.open_binary`, and read the sizes below as `files.NAME`, so a test that shrinks one here
changes how every part of the probe reads.
"""

from __future__ import annotations

import codecs
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

HEAD_BYTES = 64 * 1024  # enough to see a BOM, the NUL pattern of UTF-16 and a few dozen lines
CHUNK_BYTES = 4 * 1024 * 1024  # forward read size: large enough for bytes.find to run at memory speed
BACK_BLOCK_BYTES = 1024 * 1024  # backward read size
MAX_LINE_BYTES = 1024 * 1024  # longer lines are handled in pieces of this size
EXACT_LINENO_LIMIT = 64 * 1024 * 1024  # count lines exactly when at most this many bytes precede a line


# --- what the files are ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of a log file, decoded, without its line ending."""

    path: str
    lineno: int  # > 0: exact, from the start; < 0: counted from the end (-1 = last line); see the module doc
    timestamp: datetime | None  # aware; inherited from the previous timestamped line when the line has none
    text: str
    encoding: str = "utf-8"  # codec the line was decoded with: utf-8, cp1252, utf-16-le, utf-16-be
    replaced: bool = False  # undecodable bytes were replaced by U+FFFD

    @property
    def where(self) -> str:
        """'file:line' for failure messages."""
        if self.lineno > 0:
            return f"{self.path}:{self.lineno}"
        return f"{self.path}:{_ordinal(-self.lineno)} line from the end"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A file that could not be read as a text log, and why."""

    path: str
    kind: str  # "missing", "unreadable", "not_a_file", "binary", "corrupt"
    detail: str


@dataclass(frozen=True, slots=True)
class LogFileFacts:
    """One readable log file."""

    path: str
    size: int  # bytes on disk (compressed size for .gz)
    modified: datetime  # mtime, UTC
    compressed: bool
    encoding: str  # utf-8 (cp1252 fallback per line), utf-8-sig, utf-16-le, utf-16-be
    encoding_evidence: str  # bom, nul-pattern, default
    newline: str  # "LF", "CRLF", "CR" or "none" (as seen in the head of the file)


@dataclass(frozen=True, slots=True)
class LogFacts:
    """The files behind `--bot-log`, oldest first, and the ones that could not be used."""

    spec: str
    files: tuple[LogFileFacts, ...]
    problems: tuple[FileProblem, ...]
    problem: str | None  # set when there is nothing usable to read at all

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(item.path for item in self.files)


# --- encodings ---------------------------------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Bytes below 0x20 that text logs do contain: tab, LF, VT, FF, CR, ESC (ANSI colours). The others are deleted
# from a sample by `translate` to count them at C speed.
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1b")
_NOT_OTHER_CONTROLS = bytes(byte for byte in range(256) if byte >= 0x20 or byte in _TEXT_CONTROLS)
# A file whose head has more than this share of other control bytes is not text.
_BINARY_CONTROL_SHARE = 0.10
# UTF-16 without a BOM: ASCII text puts a NUL in every other byte. Ask for a clear majority.
_UTF16_NUL_SHARE = 0.40
_UTF16_OTHER_NUL_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class EncodingGuess:
    """What a file's first bytes say about its encoding."""

    codec: str  # "utf-8" (per-line cp1252 fallback), "utf-8-sig", "utf-16-le" or "utf-16-be"
    bom_length: int  # bytes to skip at the start of the file
    how: str  # "bom", "nul-pattern" or "default"
    binary: bool = False  # NUL bytes or control characters: not a text log at all

    @property
    def wide(self) -> bool:
        """True for UTF-16: the file's bytes are not ASCII-compatible and are transcoded before searching."""
        return self.codec.startswith("utf-16")


def guess_encoding(head: bytes) -> EncodingGuess:
    """Guess a file's encoding from its first bytes (BOM, then the NUL pattern of UTF-16, else UTF-8)."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return EncodingGuess(codec, len(bom), "bom")
    sample = head[: len(head) - len(head) % 2]
    if sample and b"\x00" in sample:
        half = len(sample) // 2
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        if odd_nuls >= _UTF16_NUL_SHARE * half and even_nuls <= _UTF16_OTHER_NUL_SHARE * half:
            return EncodingGuess("utf-16-le", 0, "nul-pattern")
        if even_nuls >= _UTF16_NUL_SHARE * half and odd_nuls <= _UTF16_OTHER_NUL_SHARE * half:
            return EncodingGuess("utf-16-be", 0, "nul-pattern")
        return EncodingGuess("utf-8", 0, "default", binary=True)
    return EncodingGuess("utf-8", 0, "default", binary=looks_binary(head))


def looks_binary(sample: bytes) -> bool:
    """True when a sample of an ASCII-compatible file has NULs or many control bytes."""
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample.translate(None, _NOT_OTHER_CONTROLS))
    return controls > _BINARY_CONTROL_SHARE * len(sample)


def guess_newline(text_head: bytes) -> bytes:
    """The line separator of an ASCII-compatible stream: LF (also covers CRLF), or CR for old Mac files."""
    if b"\n" in text_head or b"\r" not in text_head:
        return b"\n"
    return b"\r"


def decode_line(raw: bytes) -> tuple[str, str, bool]:
    """Decode one line of an ASCII-compatible file: (text, codec used, replacement characters inserted).

    UTF-8 first; a line that is not valid UTF-8 is read as cp1252, whose five undefined bytes become U+FFFD.
    """
    try:
        return raw.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        return text, "cp1252", "\ufffd" in text


# --- which files -------------------------------------------------------------------------------------------------

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


# --- opening -----------------------------------------------------------------------------------------------------


def open_binary(path: Path) -> BinaryIO:
    """Every file is opened here (tests replace it to simulate unreadable files)."""
    return open(path, "rb")


@dataclass(frozen=True, slots=True)
class Source:
    """A readable log file and how to turn it into its scan stream (see the module doc)."""

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
        """True when the scan stream is the file's own bytes: it can be read backwards and bisected."""
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


def open_source(path: Path) -> Source | FileProblem:
    """One file, looked at once: gzip or not, its encoding and newline; or why it cannot be read."""
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
        with open_binary(path) as handle:
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
    return Source(
        path=path, display=display, compressed=compressed, encoding=guess,
        newline=guess_newline(text_head), newline_name=_newline_name(text_head),
        size=info.st_size, mtime=info.st_mtime,
    )


def open_all(files: Iterable[str | Path]) -> tuple[list[Source], list[FileProblem]]:
    """The readable files, in the order given, and the problems of the others."""
    sources: list[Source] = []
    problems: list[FileProblem] = []
    for item in files:
        opened = open_source(Path(item))
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
    sources, problems = open_all(paths)
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
    while compressed := handle.read(CHUNK_BYTES // 4):
        while compressed:
            if inflater is None:
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            piece = inflater.decompress(compressed, CHUNK_BYTES)
            if piece:
                yield piece
            if inflater.eof:  # end of one member; another may follow in unused_data
                compressed = inflater.unused_data
                inflater = None
            else:
                compressed = inflater.unconsumed_tail
    if inflater is not None:
        raise EOFError("compressed file ended before the end-of-stream marker")


# --- the scan stream, forwards and backwards ---------------------------------------------------------------------


def stream_chunks(src: Source, start: int, problems: list[FileProblem], end: int | None = None) -> Iterator[bytes]:
    """The scan stream from offset `start` (to `end`, plain files only), in chunks. Read errors end it and
    are recorded."""
    try:
        with open_binary(src.path) as handle:
            if src.seekable:
                position = max(start, src.data_start)
                handle.seek(position)
                while chunk := handle.read(CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - position)):
                    position += len(chunk)
                    yield chunk
                return
            raw = _gunzip(handle) if src.compressed else _read_chunks(handle)
            yield from _skip(_decoded_stream(src, raw), start)
    except (OSError, EOFError, zlib.error) as error:
        problems.append(FileProblem(src.display, "corrupt", f"read stopped: {type(error).__name__}: {error}"))


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_BYTES):
        yield chunk


def _decoded_stream(src: Source, chunks: Iterator[bytes]) -> Iterator[bytes]:
    if not src.encoding.wide:
        yield from chunks
        return
    decoder = codecs.getincrementaldecoder(src.encoding.codec)(errors="replace")
    pending_bom = src.encoding.bom_length
    for chunk in chunks:
        if pending_bom:
            skipped = min(pending_bom, len(chunk))
            chunk = chunk[skipped:]
            pending_bom -= skipped
        text = decoder.decode(chunk)
        if text:
            yield text.encode("utf-8")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.encode("utf-8")


def _skip(chunks: Iterator[bytes], count: int) -> Iterator[bytes]:
    for chunk in chunks:
        if count >= len(chunk):
            count -= len(chunk)
            continue
        yield chunk[count:] if count else chunk
        count = 0


def line_buffers(chunks: Iterator[bytes], newline: bytes) -> Iterator[bytes]:
    """Re-cut chunks into buffers of whole lines (the last one may lack its newline).

    A line longer than MAX_LINE_BYTES is cut into pieces so memory stays bounded.
    """
    carry = b""
    for chunk in chunks:
        data = carry + chunk if carry else chunk
        cut = data.rfind(newline)
        if cut == -1:
            carry = data
        else:
            yield data[: cut + 1]
            carry = data[cut + 1 :]
        while len(carry) > MAX_LINE_BYTES:
            yield carry[:MAX_LINE_BYTES]
            carry = carry[MAX_LINE_BYTES:]
    if carry:
        yield carry


def buffers(
    src: Source, start: int, end: int | None, problems: list[FileProblem]
) -> Iterator[tuple[bytes | bytearray, int]]:
    """(buffer, usable length): whole lines in buffer[:usable]. The buffer may be reused by the next step:
    copy what must be kept.

    Plain files are read into one reused buffer (no fresh allocation per read, which costs page faults),
    and the bytes after the last newline of a read are read again by the next one.
    """
    if not src.seekable:
        for buf in line_buffers(stream_chunks(src, start, problems, end), src.newline):
            yield buf, len(buf)
        return
    try:
        with open_binary(src.path) as handle:
            position = max(start, src.data_start)
            handle.seek(position)
            buffer = bytearray(max(CHUNK_BYTES, MAX_LINE_BYTES))
            view = memoryview(buffer)
            read_size = CHUNK_BYTES
            while True:
                want = read_size if end is None else min(read_size, end - position)
                if want <= 0:
                    return
                got = handle.readinto(view[:want])
                if not got:
                    return
                usable = got
                if got == want and (end is None or position + got < end):
                    cut = buffer.rfind(src.newline, 0, got)
                    if cut == -1 and read_size < MAX_LINE_BYTES:
                        read_size = MAX_LINE_BYTES  # a line longer than a read: read it whole if we may
                        handle.seek(position)
                        continue
                    usable = cut + 1 if cut != -1 else min(got, MAX_LINE_BYTES)
                read_size = CHUNK_BYTES
                yield buffer, usable
                position += usable
                if usable < got:
                    handle.seek(position)
    except OSError as error:
        problems.append(FileProblem(src.display, "unreadable", f"read stopped: {type(error).__name__}: {error}"))


def backward_buffers(handle: BinaryIO, src: Source, end: int) -> Iterator[tuple[int, bytearray, int]]:
    """Buffers of whole lines from `end` back to the start of the data, newest first: (file offset of the buffer,
    buffer, where its whole lines begin). The buffer is reused by the next step: copy what must be kept.

    One buffer read into (not a fresh one per read, which costs page faults), and not cut: the caller starts at
    the given index instead.
    """
    stop = src.data_start
    position = end
    buffer = bytearray()
    while position > stop:
        want = BACK_BLOCK_BYTES
        while True:
            start = max(stop, position - want)
            if len(buffer) != position - start:
                buffer = bytearray(position - start)
            handle.seek(start)
            with memoryview(buffer) as view:
                got = handle.readinto(view)
            if got < len(buffer):  # the file shrank under us: what was read is all there is
                buffer = buffer[:got]
            if start == stop:
                yield start, buffer, 0
                position = stop
                break
            cut = buffer.find(src.newline)
            if 0 <= cut < len(buffer) - 1:
                yield start, buffer, cut + 1
                position = start + cut + 1
                break
            if want >= MAX_LINE_BYTES:  # a huge line: hand it over in pieces
                yield start, buffer, 0
                position = start
                break
            want *= 2


# --- lines -------------------------------------------------------------------------------------------------------


def split_lines(buf: bytes, newline: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset in buf, raw line with its newline) for every line of a buffer."""
    start = 0
    size = len(buf)
    while start < size:
        end = buf.find(newline, start)
        end = size if end == -1 else end + 1
        yield start, buf[start:end]
        start = end


def strip_eol(raw: bytes, newline: bytes) -> bytes:
    """A raw line without its line ending (CRLF included)."""
    if raw.endswith(newline):
        raw = raw[:-1]
    if newline == b"\n" and raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw


def decode(src: Source, raw: bytes) -> tuple[str, str, bool]:
    """A raw line of the scan stream as text: (text, codec, replacement characters inserted)."""
    raw = strip_eol(raw, src.newline)
    if src.encoding.wide:
        text = raw.decode("utf-8", "replace")
        return text, src.encoding.codec, "\ufffd" in text
    return decode_line(raw)


def count_newlines(src: Source, start: int, end: int, problems: list[FileProblem]) -> int:
    """Newlines in the scan stream between two offsets."""
    count = 0
    position = start
    chunks = stream_chunks(src, start, problems, end)
    with contextlib.closing(chunks):
        for chunk in chunks:
            take = min(len(chunk), end - position)
            count += chunk.count(src.newline, 0, take)
            position += take
            if position >= end:
                break
    return count


def numbered_exactly(src: Source, offset: int) -> bool:
    """True when a line at `offset` is numbered from the start: counting the lines before it is cheap."""
    return not src.seekable or offset - src.data_start <= EXACT_LINENO_LIMIT


@dataclass(slots=True)
class LineCounter:
    """Turns 0-based line indexes from a scan start into LogLine numbers (exact or from the end)."""

    exact_base: int | None  # lines before the start, when counted; None: number from the end
    lines_seen: int = 0  # lines from the start to the end of what was read
    ends_with_newline: bool = True

    def number(self, index: int) -> int:
        if self.exact_base is not None:
            return self.exact_base + index + 1
        total = self.lines_seen if self.ends_with_newline else self.lines_seen + 1
        return index - total


def counter_for(src: Source, start: int, problems: list[FileProblem]) -> LineCounter:
    """The line counter for a read starting at `start` (the lines before it counted when that is cheap)."""
    if start <= src.data_start:
        return LineCounter(0)
    if numbered_exactly(src, start):
        return LineCounter(count_newlines(src, src.data_start, start, problems))
    return LineCounter(None)
