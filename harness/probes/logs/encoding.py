"""Which text encoding a bot log file uses, and how one of its lines decodes.

Operators' machines write logs in several ways: Python's logging `FileHandler` (UTF-8, or the Windows
ANSI code page cp1252 when no encoding was given), PowerShell `>` redirection (UTF-16 LE with a BOM in
Windows PowerShell 5), editors that add a UTF-8 BOM. The guess is made once per file from its first bytes;
lines of a UTF-8 file that do not decode (a cp1252 line in a mostly UTF-8 file) fall back to cp1252, and
bytes cp1252 does not define become U+FFFD. The caller records when that happened; nothing here raises on
undecodable input.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Enough bytes to see a BOM, the NUL pattern of UTF-16 and a few dozen lines.
HEAD_BYTES = 64 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Bytes below 0x20 that text logs do contain: tab, LF, VT, FF, CR, ESC (ANSI colours).
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1b")
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
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
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
