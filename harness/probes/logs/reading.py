"""A file's scan stream, read forwards in chunks or buffers of whole lines, or backwards from the end.

The scan stream is what patterns are searched in: the file's bytes for plain ASCII-compatible files, the
decompressed bytes for gzip, the UTF-8 transcoding for UTF-16 (transcoded chunk by chunk). Memory stays
constant: plain files are read into one reused multi-megabyte buffer of whole lines, and a line longer than
`MAX_LINE_BYTES` is handed over in pieces of that size. Read errors end a stream and are recorded as
`FileProblem`s.
"""

from __future__ import annotations

import codecs
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from harness.probes.logs import files, tunables
from harness.probes.logs.facts import FileProblem
from harness.probes.logs.files import _gunzip, _Source


def _stream_chunks(
    src: _Source, start: int, problems: list[FileProblem], end: int | None = None
) -> Iterator[bytes]:
    """The scan stream from offset `start` (to `end`, plain files only), in chunks. Read errors end it and
    are recorded."""
    try:
        with files._open_binary(src.path) as handle:
            if src.seekable:
                position = max(start, src.data_start)
                handle.seek(position)
                while chunk := handle.read(
                    tunables.CHUNK_BYTES if end is None else min(tunables.CHUNK_BYTES, end - position)
                ):
                    position += len(chunk)
                    yield chunk
                return
            raw = _gunzip(handle) if src.compressed else _read_chunks(handle)
            yield from _skip(_decoded_stream(src, raw), start)
    except (OSError, EOFError, zlib.error) as error:
        problems.append(FileProblem(src.display, "corrupt", f"read stopped: {type(error).__name__}: {error}"))


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(tunables.CHUNK_BYTES):
        yield chunk


def _decoded_stream(src: _Source, chunks: Iterator[bytes]) -> Iterator[bytes]:
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


def _line_buffers(chunks: Iterator[bytes], newline: bytes) -> Iterator[bytes]:
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
        while len(carry) > tunables.MAX_LINE_BYTES:
            yield carry[:tunables.MAX_LINE_BYTES]
            carry = carry[tunables.MAX_LINE_BYTES:]
    if carry:
        yield carry


def _buffers(
    src: _Source, start: int, end: int | None, problems: list[FileProblem]
) -> Iterator[tuple[bytes | bytearray, int]]:
    """(buffer, usable length): whole lines in buffer[:usable]. The buffer may be reused by the next step:
    copy what must be kept.

    Plain files are read into one reused buffer (no fresh allocation per read, which costs page faults),
    and the bytes after the last newline of a read are read again by the next one.
    """
    if not src.seekable:
        for buf in _line_buffers(_stream_chunks(src, start, problems, end), src.newline):
            yield buf, len(buf)
        return
    try:
        with files._open_binary(src.path) as handle:
            position = max(start, src.data_start)
            handle.seek(position)
            buffer = bytearray(max(tunables.CHUNK_BYTES, tunables.MAX_LINE_BYTES))
            view = memoryview(buffer)
            read_size = tunables.CHUNK_BYTES
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
                    if cut == -1 and read_size < tunables.MAX_LINE_BYTES:
                        read_size = tunables.MAX_LINE_BYTES  # a line longer than a read: read it whole if we may
                        handle.seek(position)
                        continue
                    usable = cut + 1 if cut != -1 else min(got, tunables.MAX_LINE_BYTES)
                read_size = tunables.CHUNK_BYTES
                yield buffer, usable
                position += usable
                if usable < got:
                    handle.seek(position)
    except OSError as error:
        problems.append(FileProblem(src.display, "unreadable", f"read stopped: {type(error).__name__}: {error}"))


def _backward_buffers(handle: BinaryIO, src: _Source, end: int) -> Iterator[tuple[int, bytes]]:
    """Buffers of whole lines from `end` back to the start of the data: (offset, bytes), newest first."""
    stop = src.data_start
    position = end
    while position > stop:
        want = tunables.BACK_BLOCK_BYTES
        while True:
            start = max(stop, position - want)
            handle.seek(start)
            data = handle.read(position - start)
            if start == stop:
                yield start, data
                position = stop
                break
            cut = data.find(src.newline)
            if 0 <= cut < len(data) - 1:
                yield start + cut + 1, data[cut + 1 :]
                position = start + cut + 1
                break
            if want >= tunables.MAX_LINE_BYTES:  # a huge line: hand it over in pieces
                yield start, data
                position = start
                break
            want *= 2
