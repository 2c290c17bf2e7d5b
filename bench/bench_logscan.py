"""Benchmark of the log probe against `grep -F -c` on the same generated log (a script, not a test).

    python bench/bench_logscan.py              # 1 GB log
    python bench/bench_logscan.py --size 50MB  # quick run

It writes a log of the requested size into a temporary directory (the bot restarting once a "day", one
day = `--day-size` bytes, a few errors and tracebacks sprinkled in), then prints:

* full scan: `harness.probes.logs.scan` over the whole file vs `grep -F -c` with the same patterns (ratio; goal
  within 2x), for the forbidden-marker set and for one pattern;
* newest-startup-block check: `newest_startup_block` + `find_in_order`, vs grep's time on the full file (ratio;
  goal < 0.1). Locating the newest startup line reads the log backwards up to it (the newest block, one day);
  only the lines the check asks for are decoded and timed. Also: the same with every kept line of the block read
  (what the whole startup feature reads), and plus a forbidden-marker `scan(since=block)`;
* peak memory of each measured operation, each run in a fresh Python process (goal: flat, < 100 MB).

grep and the probe are measured in the same run, so the load of the machine weighs on both sides. The file is
deleted afterwards. Each timing is the median of `--repeat` runs with a warm page cache (each of ours in a fresh
process, timed from after its imports).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.probes.logs import DEFAULT_FORBIDDEN  # noqa: E402 - after the path set-up, so the script runs anywhere

SINGLE_PATTERN = "Paper trading mode ACTIVE"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)i?B?\s*$", re.IGNORECASE)

# Measured in a child process so its peak memory is its own. Prints one JSON line.
_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from harness.probes import logs
path, what = sys.argv[2], sys.argv[3]
started = time.perf_counter()
if what == "scan-forbidden":
    result = logs.scan([path], logs.DEFAULT_FORBIDDEN)
    answer = {item.pattern: item.count for item in result.patterns}
elif what == "scan-single":
    result = logs.scan([path], [sys.argv[4]])
    answer = result.patterns[0].count
elif what == "newest-block":
    block = logs.newest_startup_block([path])
    answer = {"first_lineno": block.first_lineno, "in_order": logs.find_in_order(block).all_in_order}
elif what == "newest-block-every-line":
    block = logs.newest_startup_block([path])
    ordered = logs.find_in_order(block)
    timed = sum(1 for line in block.lines if line.timestamp is not None)
    answer = {"in_order": ordered.all_in_order, "lines": len(block.lines), "timed": timed}
elif what == "newest-block-and-forbidden":
    block = logs.newest_startup_block([path])
    ordered = logs.find_in_order(block)
    after = logs.scan([path], logs.DEFAULT_FORBIDDEN, since=block)
    answer = {"in_order": ordered.all_in_order, "forbidden": after.total, "scanned": after.bytes_scanned}
elapsed = time.perf_counter() - started


def own_peak_mb():
    try:  # VmHWM is this process's own peak; ru_maxrss would carry the parent's peak across fork+exec.
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    except OSError:
        pass
    try:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024
    except ImportError:  # Windows
        import psutil
        return psutil.Process().memory_info().peak_wset / 1024 / 1024


def workers_peak_mb():
    try:  # the largest of the worker processes `scan` started (0 when it used none)
        import resource
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024
    except ImportError:
        return None


peak_mb = max(own_peak_mb(), workers_peak_mb() or 0)
print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "answer": answer}))
"""


def parse_size(text: str) -> int:
    found = _SIZE.match(text)
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 50MB or 1GB")
    factor = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[found.group(2).upper()]
    return int(float(found.group(1)) * factor)


def day_of_log(day: datetime, size: int) -> bytes:
    """One day of the bot: a paper-mode startup, then routine lines with rare errors, then a shutdown."""
    lines = [
        "INFO bot.main: Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
        "INFO bot.gateway: Connecting to IBKR Gateway at localhost:4002",
        "INFO bot.gateway: Gateway connection established",
        "INFO bot.main: Paper trading mode ACTIVE",
        "INFO bot.main: Bot initialized successfully",
    ]
    routine = [
        "INFO bot.strategy: signal computed for AAPL price=187.23 qty=10 ok",
        "DEBUG ib_async.wrapper: position update DU1234567 SPY 100 avgCost=501.12",
        "INFO bot.orders: order 1042 status Submitted LMT 187.20",
        "WARNING bot.risk: daily loss 0.4% of limit",
        "DEBUG ib_async.client: reqMktData reqId=17 contract=Stock(symbol='MSFT', exchange='SMART')",
    ]
    out: list[str] = []
    clock = day.replace(hour=6, minute=0, second=0)
    step = timedelta(milliseconds=37)
    written = 0
    number = 0
    for text in lines:
        line = f"{clock:%Y-%m-%d %H:%M:%S},{clock.microsecond // 1000:03d} {text}\n"
        out.append(line)
        written += len(line)
        clock += step
    while written < size:
        number += 1
        if number % 5000 == 0:
            text = "ERROR bot.orders: order rejected: insufficient funds"
            tail = "Traceback (most recent call last):\n  File \"bot/orders.py\", line 88, in submit\nValueError: x\n"
        else:
            text, tail = routine[number % len(routine)], ""
        line = f"{clock:%Y-%m-%d %H:%M:%S},{clock.microsecond // 1000:03d} {text}\n{tail}"
        out.append(line)
        written += len(line)
        clock += step
    out.append(f"{clock:%Y-%m-%d %H:%M:%S},000 INFO bot.main: Shutting down: clean shutdown\n")
    return "".join(out).encode()


def generate(path: Path, size: int, day_size: int) -> int:
    """Write about `size` bytes of log; returns the number of days (startup blocks)."""
    template_day = datetime(2026, 1, 1)
    template = day_of_log(template_day, min(day_size, size))
    marker = template_day.strftime("%Y-%m-%d").encode()
    days = 0
    written = 0
    with path.open("wb") as handle:
        while written < size:
            day = template_day + timedelta(days=days)
            chunk = template.replace(marker, day.strftime("%Y-%m-%d").encode())
            handle.write(chunk)
            written += len(chunk)
            days += 1
    return days


def timed(command: list[str], repeat: int) -> tuple[float, str]:
    """The median wall time of `repeat` runs of a command, and its output."""
    times = []
    output = ""
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
        output = done.stdout.strip()
    return statistics.median(times), output


def ours(path: Path, what: str, repeat: int, *extra: str) -> dict:
    """The run with the median time of `repeat` runs of one measurement, each in a fresh process."""
    results = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(ROOT), str(path), what, *extra],
            capture_output=True, text=True, check=True,
        )
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    results.sort(key=lambda result: result["seconds"])
    return results[(len(results) - 1) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=parse_size("1GB"), help="log size, e.g. 50MB, 1GB")
    parser.add_argument("--day-size", type=parse_size, default=parse_size("20MB"),
                        help="bytes between two restarts (size of the newest startup block)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median counts")
    parser.add_argument("--block-only", action="store_true",
                        help="measure only the newest-startup-block check (skip the full scans)")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the temporary log")
    parser.add_argument("size_arg", nargs="?", type=parse_size, help="same as --size")
    args = parser.parse_args(argv)
    size = args.size_arg or args.size
    grep = shutil.which("grep")
    if grep is None:
        print("grep not found: the baseline needs GNU grep (Git Bash / WSL on Windows)", file=sys.stderr)
        return 2

    directory = Path(tempfile.mkdtemp(prefix="bench_logscan_", dir=args.dir))
    try:
        path = directory / "bot.log"
        started = time.perf_counter()
        days = generate(path, size, args.day_size)
        actual = path.stat().st_size
        print(f"log: {actual / 1e6:,.0f} MB, {days} startup blocks of ~{args.day_size / 1e6:,.0f} MB, "
              f"written in {time.perf_counter() - started:.1f} s")
        timed([grep, "-F", "-c", SINGLE_PATTERN, str(path)], 1)  # warm the page cache

        forbidden = [argument for item in DEFAULT_FORBIDDEN for argument in ("-e", item.text)]
        grep_multi, grep_multi_count = timed([grep, "-F", "-c", *forbidden, str(path)], args.repeat)
        grep_single, grep_single_count = timed([grep, "-F", "-c", SINGLE_PATTERN, str(path)], args.repeat)

        scan_multi = None if args.block_only else ours(path, "scan-forbidden", args.repeat)
        scan_single = None if args.block_only else ours(path, "scan-single", args.repeat, SINGLE_PATTERN)
        block = ours(path, "newest-block", args.repeat)
        every_line = ours(path, "newest-block-every-line", args.repeat)
        block_and_scan = ours(path, "newest-block-and-forbidden", args.repeat)

        megabytes = actual / 1e6
        print()
        print(f"{'measurement':<46}{'seconds':>9}{'MB/s':>9}{'vs grep':>9}{'peak MB':>9}")

        def row(name: str, seconds: float, baseline: float | None, peak: float | None) -> None:
            ratio = f"{seconds / baseline:8.2f}x" if baseline else f"{'':9}"
            memory = f"{peak:9.0f}" if peak is not None else f"{'':9}"
            print(f"{name:<46}{seconds:9.3f}{megabytes / seconds:9.0f}{ratio}{memory}")

        row(f"grep -F -c ({len(DEFAULT_FORBIDDEN)} forbidden patterns)", grep_multi, None, None)
        if scan_multi is not None:
            row(f"scan ({len(DEFAULT_FORBIDDEN)} forbidden patterns)", scan_multi["seconds"], grep_multi,
                scan_multi["peak_mb"])
        row("grep -F -c (1 pattern)", grep_single, None, None)
        if scan_single is not None:
            row("scan (1 pattern)", scan_single["seconds"], grep_single, scan_single["peak_mb"])
        row("newest_startup_block + find_in_order", block["seconds"], grep_single, block["peak_mb"])
        row("  ... reading every kept line of the block", every_line["seconds"], grep_single,
            every_line["peak_mb"])
        row("  ... + scan(forbidden, since=block)", block_and_scan["seconds"], grep_single,
            block_and_scan["peak_mb"])
        print()
        print(f"grep counts: forbidden lines {grep_multi_count}, '{SINGLE_PATTERN}' {grep_single_count}")
        if scan_multi is not None and scan_single is not None:
            print(f"scan counts: {scan_multi['answer']}; single {scan_single['answer']}")
        print(f"newest block: {block['answer']}; every line: {every_line['answer']}; "
              f"after it: {block_and_scan['answer']}")
        return 0
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
