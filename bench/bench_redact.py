"""Benchmark of redaction against a linear baseline (a script, not a test).

    python bench/bench_redact.py                 # 50 KB .. 8 MB
    python bench/bench_redact.py --max-size 1MB  # quick run

For texts of doubling size it times `redact_text` (with a set of known secrets, one of them a token with a
newline, quotes and non-ASCII characters) and `redact_excerpt` on inputs that made the old URL pattern
backtrack: a run of letters with no space (a base64 blob), the same after `x://`, digits after `U`, and
prose. Beside each it times `str.count` of one character over the same text: a linear baseline. The ratio
of the two must stay flat as the size doubles (linear); the old pattern's ratio doubled with every step
(quadratic: 50 KB took seconds, 200 KB minutes). `redact_excerpt` must stay flat in absolute time: it reads
only the head of the text.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.core.redact import SecretSet, redact_excerpt, redact_text  # noqa: E402 - after the path set-up

KNOWN = SecretSet(['MTk4NjIy.Gx"q\'Zé€✓\nsecond-line_Ab9Cd', "hunter-2k9Q-password",
                   "https://discord.com/api/webhooks/1234567890/AbCdEf_secret-token"])
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*$", re.IGNORECASE)


def _size(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 50KB, 8MB)")
    return int(float(match.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2).upper()])


def _inputs(size: int) -> dict[str, str]:
    return {
        "letters": "A" * size,
        "base64": base64.b64encode(os.urandom(size * 3 // 4)).decode()[:size],
        "scheme + letters": "x://" + "a" * (size - 4),
        "U + digits": ("U1" * (size // 2))[:size],
        "prose": ("the bot connected to DU1234567 at https://user:pw@host/ ... " * (size // 60 + 1))[:size],
    }


def _best(action: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-size", type=_size, default=_size("50KB"))
    parser.add_argument("--max-size", type=_size, default=_size("8MB"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'input':<18}{'size':>10}{'redact s':>11}{'count s':>11}{'ratio':>9}{'excerpt s':>11}")
    size = args.min_size
    while size <= args.max_size:
        for name, text in _inputs(size).items():
            redact = _best(lambda text=text: redact_text(text, KNOWN), args.repeat)
            baseline = max(_best(lambda text=text: text.count("\x00"), args.repeat), 1e-9)
            excerpt = _best(lambda text=text: redact_excerpt(text, KNOWN), args.repeat)
            print(f"{name:<18}{size:>10}{redact:>11.4f}{baseline:>11.6f}{redact / baseline:>9.0f}{excerpt:>11.5f}")
        size *= 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
