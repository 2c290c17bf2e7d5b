"""Task definition files as Windows and Unix write them: the size bound, the encodings, binary content."""

from __future__ import annotations

import re

MAX_TASK_BYTES = 1_000_000  # a task's XML, a unit file or a crontab is a few KB
EXPORT_HINT = ("export it with `schtasks /Query /TN NAME /XML > task.xml` and give --scheduler-task task.xml (or a "
               "systemd .timer file, or `crontab -l > cron.txt`)")

_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")  # control characters no definition or script holds


def decode_text(data: bytes) -> str:
    """Text as Windows writes it: UTF-16 with a BOM (schtasks, the Task Scheduler export), UTF-8, or ANSI."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if len(data) >= 2 and data[:2].count(b"\x00") == 1:  # UTF-16 without a BOM: every other byte of "<?" is zero
        return data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def is_binary(text: str) -> bool:
    """Whether decoded `text` holds characters no task definition or script does."""
    return bool(_BINARY.search(text))
