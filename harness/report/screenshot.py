"""`harness confirm screenshot --file F --by NAME`: the operator's own screenshot of the paper account.

The file is taken only when its first bytes say PNG or JPEG and it is not larger than MAX_BYTES; it is decoded
and written again by Pillow, which drops its text chunks, EXIF (camera, GPS, software, times) and comments, so
nothing but the pixels leaves with the evidence. It lands at `<evidence-dir>/screenshot.png|.jpg` (replacing the
previous one) and who attached it, when, is recorded in the attestations.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import warnings
from pathlib import Path

from harness.core.jsonfiles import write_bytes_atomic

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
MAX_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 64_000_000  # a screenshot of a few monitors; beyond this the file is refused, not decoded
ATTESTATION_ITEM = "screenshot"
NAMES = {"png": "screenshot.png", "jpeg": "screenshot.jpg"}


def kind_of(head: bytes) -> str | None:
    """"png", "jpeg" or None from a file's first bytes."""
    if head.startswith(PNG_MAGIC):
        return "png"
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    return None


def clean_image(data: bytes, kind: str) -> bytes:
    """The image written again without its metadata (text chunks, EXIF, comments); ValueError when it cannot be
    decoded as `kind` or is too large."""
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[kind.upper()]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ValueError(f"it is {image.width}x{image.height} pixels; at most {MAX_PIXELS:,} are taken")
                image.load()
                upright = ImageOps.exif_transpose(image)  # keep what the operator saw, then drop the EXIF
                keep = ("L", "LA", "RGB", "RGBA") if kind == "png" else ("L", "RGB", "CMYK")
                if upright.mode not in keep:
                    alpha = kind == "png" and ("transparency" in upright.info or upright.mode in ("PA", "La"))
                    upright = upright.convert("RGBA" if alpha else "RGB")
                pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes())  # pixels, no info
        except (OSError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ValueError(f"it cannot be read as a {kind.upper()} image ({type(exc).__name__})") from None
    out = io.BytesIO()
    if kind == "png":
        pixels.save(out, format="PNG", optimize=False)
    else:
        pixels.save(out, format="JPEG", quality=95)
    return out.getvalue()


def attach(evidence_dir: Path, source: Path) -> Path:
    """Copy `source` cleaned into the evidence directory; the path written. ValueError says why it was not."""
    try:
        size = source.stat().st_size
        if not source.is_file():
            raise ValueError(f"{source} is not a file")
        if size > MAX_BYTES:
            raise ValueError(f"{source} is {size:,} bytes; a screenshot of at most {MAX_BYTES:,} bytes is taken")
        with open(source, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"{source} does not exist") from None
    except OSError as exc:
        raise ValueError(f"cannot read {source}: {exc.strerror or type(exc).__name__}") from None
    kind = kind_of(data[:8])
    if kind is None:
        raise ValueError(f"{source} is not a PNG or JPEG file (its first bytes say otherwise)")
    try:
        cleaned = clean_image(data, kind)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None
    target = write_bytes_atomic(Path(evidence_dir) / NAMES[kind], cleaned)
    for other in NAMES.values():  # one screenshot: the newest
        if other != target.name:
            (target.parent / other).unlink(missing_ok=True)
    return target


def confirm(settings, args: argparse.Namespace) -> int:
    from harness.core.refusal import Refused
    from harness.evidence import attestations

    source = getattr(args, "file", None)
    if source is None:
        raise Refused("which screenshot? give --file F (a PNG or JPEG of the paper account)")
    by = (getattr(args, "by", None) or "").strip()
    if not by:
        raise Refused("say who attaches it: --by NAME")
    evidence_dir = Path(settings.evidence_dir)
    try:
        target = attach(evidence_dir, Path(source))
    except ValueError as exc:
        raise Refused(str(exc)) from None
    except OSError as exc:
        raise Refused(f"cannot write the screenshot into {evidence_dir}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    note = f"{target.name} sha256:{digest}"
    extra = (getattr(args, "note", "") or "").strip()
    try:
        record = attestations.record(evidence_dir, ATTESTATION_ITEM, by, f"{note}; {extra}" if extra else note)
    except (OSError, ValueError) as exc:
        raise Refused(f"the screenshot is at {target}, but the attestation could not be recorded: {exc}") from None
    print(f"screenshot attached by {record.by} at {record.at} -> {target} (metadata removed)")
    return 0
