"""TWS socket framing: the `API\\0` magic, 4-byte big-endian length prefixes, NUL-terminated fields.

Shared by the fake gateway, its self-check and the tests, so both sides of a test frame bytes the same way.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable

MAGIC = b"API\0"
_LENGTH = struct.Struct(">I")
# A real gateway never sends or accepts frames anywhere near this; a larger prefix means garbage on the wire.
MAX_FRAME_BYTES = 16 * 1024 * 1024


class FramingError(ValueError):
    """The peer sent bytes that are not the TWS protocol (bad magic, absurd length, bad version text)."""


def encode_field(value: object) -> str:
    """One field as ib_async's `Client.send` writes it: bools as 1/0, None as empty, inf as `Infinite`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinite"
        return str(value)
    return str(value)


def pack_payload(payload: bytes) -> bytes:
    """Prefix a payload with its 4-byte big-endian length."""
    return _LENGTH.pack(len(payload)) + payload


def pack(fields: Iterable[object]) -> bytes:
    """A complete frame: every field followed by NUL, the whole payload length-prefixed."""
    fields = fields if isinstance(fields, (list, tuple)) else list(fields)
    try:
        # The encoder's fields are text already (a str field encodes as itself): join them in one call.
        text = "\0".join(fields) + "\0" if fields else ""  # type: ignore[arg-type]
    except TypeError:
        text = "".join(encode_field(field) + "\0" for field in fields)
    return pack_payload(text.encode("utf-8"))


def split_fields(payload: bytes) -> list[str]:
    """Fields of one payload, decoded the way the client decodes (the trailing empty element dropped)."""
    fields = payload.decode("utf-8", errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def client_hello(min_version: int, max_version: int, options: str = "") -> bytes:
    """What a client sends first: the magic, then the length-prefixed `v<min>..<max>[ options]` text."""
    text = f"v{min_version}..{max_version}" + (f" {options}" if options else "")
    return MAGIC + pack_payload(text.encode("ascii"))


def parse_version_range(payload: bytes) -> tuple[int, int, str]:
    """`v157..178 +PACEAPI` -> (157, 178, "+PACEAPI"). A single `v176` means min == max."""
    text = payload.decode("ascii", errors="replace").strip("\0").strip()
    if not text.startswith("v"):
        raise FramingError(f"version text must start with 'v': {text[:40]!r}")
    versions, _, options = text[1:].partition(" ")
    low, sep, high = versions.partition("..")
    try:
        min_version = int(low)
        max_version = int(high) if sep else min_version
    except ValueError:
        raise FramingError(f"unreadable version range: {text[:40]!r}") from None
    return min_version, max_version, options.strip()


class FrameReader:
    """Incremental reader: feed bytes as they arrive, get complete payloads back.

    With `expect_magic` the stream must begin with `API\\0` (the server side of a connection).
    """

    def __init__(self, expect_magic: bool = False) -> None:
        self._buffer = bytearray()
        self._expect_magic = expect_magic

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        if self._expect_magic:
            if len(self._buffer) < len(MAGIC):
                if not MAGIC.startswith(bytes(self._buffer)):
                    raise FramingError(f"stream does not start with API\\0: {bytes(self._buffer)!r}")
                return []
            if self._buffer[: len(MAGIC)] != MAGIC:
                raise FramingError(f"stream does not start with API\\0: {bytes(self._buffer[:8])!r}")
            del self._buffer[: len(MAGIC)]
            self._expect_magic = False
        payloads: list[bytes] = []
        while len(self._buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length > MAX_FRAME_BYTES:
                raise FramingError(f"frame length {length} exceeds {MAX_FRAME_BYTES}")
            end = _LENGTH.size + length
            if len(self._buffer) < end:
                break
            payloads.append(bytes(self._buffer[_LENGTH.size : end]))
            del self._buffer[:end]
        return payloads
